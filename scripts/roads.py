"""Import a département's road network once: ``make roads DEP=53 FILE=pays-de-la-loire-latest.osm.pbf``
(``python -m scripts.roads --departement 53 --fichier …``).

The file is an OpenStreetMap regional extract (Geofabrik, ``.osm.pbf``) or the département's IGN
BD TOPO GeoPackage; the network is clipped to the département and saved in the workspace
(:mod:`usecases.roads`), replacing the one saved before. Prints what was kept and left out, the
time taken and the peak memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from core.errors import DelinquanceError
from core.formatting import fmt_count
from usecases.roads import import_road_network


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Importe le réseau routier d'un département.")
    parser.add_argument("--departement", "-d", required=True, help="code INSEE du département (53, 2A…)")
    parser.add_argument("--fichier", "-f", required=True, help="extrait OSM (.osm.pbf) ou BD TOPO (.gpkg)")
    args = parser.parse_args(argv)
    t = time.perf_counter()
    try:
        summary = import_road_network(args.fichier, args.departement)
    except (DelinquanceError, OSError) as exc:
        print(f"Import impossible : {exc}", file=sys.stderr)
        return 2
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(summary.sentence())
    for reason, count in summary.left_out.items():
        print(f"  écarté : {fmt_count(count)} — {reason}")
    if summary.rejected:
        print(f"  rejeté : {fmt_count(summary.rejected)} tronçon(s) sans géométrie lisible")
    print(f"Durée : {time.perf_counter() - t:.1f} s ; mémoire maximale : {fmt_count(round(peak))} Mo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
