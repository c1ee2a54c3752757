"""Import of a full-size SSMSI communal base (~5 million rows; goal < 30 s and < 4 GB).

The file is generated in the current format (every field quoted, decimal comma, ``NA``,
``diff``/``ndiff``) for all 34,871 communes x 15 indicators x 10 years. Anchor, same run:
``pandas.read_csv`` of the same file (reading only). Each measure runs in its own process;
its peak memory is its VmHWM (ru_maxrss would carry the parent's peak across exec).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OURS = """
import json, sys, time
sys.path.insert(0, {root!r})
from readers.ssmsi import official_statistics_from_bytes
t = time.perf_counter()
data = open({path!r}, "rb").read()
s = official_statistics_from_bytes(data, "base.csv")
dt = time.perf_counter() - t
print(json.dumps({{"s": dt, "rss_mb": int([l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")][0]) / 1024, "rows": len(s.table)}}))
"""
ANCHOR = """
import json, time
import pandas as pd
t = time.perf_counter()
df = pd.read_csv({path!r}, sep=";", dtype=str, decimal=",")
dt = time.perf_counter() - t
print(json.dumps({{"s": dt, "rss_mb": int([l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")][0]) / 1024, "rows": len(df)}}))
"""


def make_file(path: Path, years: int = 10) -> int:
    import numpy as np
    import pandas as pd

    from core.vocabulary import OFFENCES
    from geo.communes import all_communes

    codes = all_communes()["code"].to_numpy()
    indicators = np.array([*OFFENCES, "Usage de stupéfiants (AFD)"])
    rng = np.random.default_rng(0)
    n = len(codes) * len(indicators) * years
    code = np.repeat(codes, len(indicators) * years)
    ind = np.tile(np.repeat(indicators, years), len(codes))
    year = np.tile(np.arange(2016, 2016 + years), len(codes) * len(indicators)).astype(str)
    nombre = rng.poisson(8, n)
    diff = rng.random(n) < 0.6
    pop = rng.integers(50, 5000, n)
    taux = np.round(nombre / pop * 1000, 7)
    q = lambda a: np.char.add(np.char.add('"', a.astype(str)), '"')  # noqa: E731
    na = np.array('"NA"')
    cols = [
        q(code),
        q(year),
        q(ind),
        np.full(n, '"Infraction"'),
        np.where(diff, q(nombre), na),
        np.where(diff, np.char.replace(q(taux), ".", ","), na),
        np.where(diff, '"diff"', '"ndiff"'),
        q(pop),
        np.full(n, '"2022"'),
        q(pop // 2),
        np.full(n, '"2021"'),
        np.where(diff, na, '"2,5"'),
        np.where(diff, na, '"1,7"'),
    ]
    header = (
        '"CODGEO_2026";"annee";"indicateur";"unite_de_compte";"nombre";"taux_pour_mille";"est_diffuse";'
        '"insee_pop";"insee_pop_millesime";"insee_log";"insee_log_millesime";"complement_info_nombre";'
        '"complement_info_taux"'
    )
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(header + "\n")
        step = 500_000
        for i in range(0, n, step):
            block = cols[0][i : i + step]
            for c in cols[1:]:
                block = np.char.add(np.char.add(block, ";"), c[i : i + step])
            fh.write("\n".join(block.tolist()) + "\n")
    pd.DataFrame  # noqa: B018 - pandas imported for parity with the anchor environment
    return n


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "base.csv"
        t = time.perf_counter()
        n = make_file(path)
        print(
            f"base générée : {n:,} lignes, {path.stat().st_size / 1e6:.0f} Mo en {time.perf_counter() - t:.0f} s"
        )
        ours = run(OURS.format(root=str(ROOT), path=str(path)))
        anchor = run(ANCHOR.format(path=str(path)))
    print(
        f"import SSMSI (forme canonique)       : {ours['s']:.2f} s, mémoire max {ours['rss_mb']:.0f} Mo, {ours['rows']:,} lignes"
    )
    print(
        f"ancre pandas.read_csv (lecture seule): {anchor['s']:.2f} s, mémoire max {anchor['rss_mb']:.0f} Mo"
    )
    print(f"ratio nous / ancre : {ours['s'] / anchor['s']:.2f}  (objectif : < 30 s et < 4 000 Mo)")


if __name__ == "__main__":
    main()
