"""Build the cached data: communes, cantons and département outlines (GeoParquet, all of
France) and the embedded data set.

Run by ``make run`` / ``make test`` (``python -m scripts.build_cache``); fast when the
cache is already valid.
"""

from __future__ import annotations

import time

from data.default_dataset import ensure_default_dataset
from data.synthetic_roads import ensure_default_roads
from geo.communes import build_communes_cache, commune_cache_is_valid


def main() -> None:
    t0 = time.perf_counter()
    if not commune_cache_is_valid():
        build_communes_cache()
        print(f"Communes : cache construit en {time.perf_counter() - t0:.1f} s")
    t1 = time.perf_counter()
    info = ensure_default_dataset()
    print(
        f"Jeu de données par défaut : {info.name} ({info.n_rows} faits) en {time.perf_counter() - t1:.1f} s"
    )
    ensure_default_roads()


if __name__ == "__main__":
    main()
