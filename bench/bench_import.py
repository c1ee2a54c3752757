"""Import of a 1,000,000-row incident CSV (goal, issue 26: at most 5 times ``pandas.read_csv``
of the same file, about 10 s here, and at most 1.5 GB of memory; every row accounted for), and
of a 100,000-row XLSX export (goal: at most 5 s).

Anchors, from the same run: ``pandas.read_csv`` of the same CSV and ``pandas.read_excel(...,
engine="calamine")`` of the same workbook (reading only, no validation), i.e. the floor of any
importer. Each measure runs in a fresh process; its peak memory is its own high-water mark
(VmHWM: ru_maxrss would carry the parent's peak across exec).

Usage: ``python bench/bench_import.py [n_rows [xlsx_rows]]`` (``0`` skips one)
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

CHILD_OURS = """
import json, sys, time
sys.path.insert(0, {root!r})
from geo.communes import communes_for_departement
from readers.incidents import import_incident_file
communes = communes_for_departement("53")
data = open({path!r}, "rb").read()
t = time.perf_counter()
r = import_incident_file(data, {name!r}, communes=communes)
dt = time.perf_counter() - t
print(json.dumps({{"s": dt, "rss_mb": int([l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")][0]) / 1024,
                  "accepted": r.n_accepted, "rejected": r.n_rejected, "input": r.n_input}}))
"""
CHILD_EXCEL_ANCHOR = """
import json, time
import pandas as pd
t = time.perf_counter()
df = pd.read_excel({path!r}, engine="calamine", sheet_name="Faits", skiprows=3, dtype=str)
dt = time.perf_counter() - t
print(json.dumps({{"s": dt, "rss_mb": int([l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")][0]) / 1024, "rows": len(df)}}))
"""
CHILD_ANCHOR = """
import json, time
import pandas as pd
t = time.perf_counter()
df = pd.read_csv({path!r}, sep=";", encoding="cp1252", dtype=str)
dt = time.perf_counter() - t
print(json.dumps({{"s": dt, "rss_mb": int([l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")][0]) / 1024, "rows": len(df)}}))
"""


def make_frame(n: int):
    """A realistic police export as a frame (French dates, decimal comma, 0.1 % bad dates)."""
    import numpy as np
    import pandas as pd

    from data.synthetic import synthetic_incidents_for_departement
    from geo.communes import communes_for_departement

    ds = synthetic_incidents_for_departement(communes_for_departement("53"), years=(2022, 2025), seed=1)
    g = ds.incidents
    idx = np.resize(np.arange(len(g)), n)
    base = g.iloc[idx].reset_index(drop=True)
    df = pd.DataFrame(
        {
            "N° procédure": [f"P{i:08d}" for i in range(n)],
            "Date des faits": base["date_debut"].dt.strftime("%d/%m/%Y %H:%M").to_numpy(),
            "Date de fin": base["date_fin"].dt.strftime("%d/%m/%Y %H:%M").fillna("").to_numpy(),
            "Nature infraction": base["infraction"].to_numpy(),
            "Lieu": base["type_lieu"].to_numpy(),
            "Latitude": np.char.replace(np.round(base.geometry.y.to_numpy(), 6).astype(str), ".", ","),
            "Longitude": np.char.replace(np.round(base.geometry.x.to_numpy(), 6).astype(str), ".", ","),
            "Code INSEE": base["code_commune"].to_numpy(),
        }
    )
    df.loc[::1000, "Date des faits"] = "date inconnue"  # 0.1 % rejected rows
    return df


def make_file(n: int, path: Path) -> None:
    """The export as a CSV: cp1252, ';'."""
    make_frame(n).to_csv(path, sep=";", index=False, encoding="cp1252")


def make_workbook(n: int, path: Path) -> None:
    """The export as a reporting tool's XLSX: a summary sheet, then the data sheet with a title,
    an extraction date and a blank line above the header, numeric INSEE codes and a total."""
    import openpyxl

    df = make_frame(n)
    df["Code INSEE"] = df["Code INSEE"].astype(int)
    book = openpyxl.Workbook(write_only=True)
    summary = book.create_sheet("Synthèse")
    summary.append(["Synthèse"])
    summary.append(["Total", n])
    sheet = book.create_sheet("Faits")
    sheet.append(["Extraction des faits constatés"])
    sheet.append(["Date d'extraction : 02/12/2026"])
    sheet.append([])
    sheet.append(list(df.columns))
    for row in df.itertuples(index=False):
        sheet.append(list(row))
    sheet.append(["Total", None, None, n])
    book.save(path)


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_xlsx = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        if n:
            path = Path(tmp) / "faits.csv"
            t = time.perf_counter()
            make_file(n, path)
            size = path.stat().st_size / 1e6
            print(f"fichier : {n:,} lignes, {size:.0f} Mo (généré en {time.perf_counter() - t:.1f} s)")
            ours = run(CHILD_OURS.format(root=str(ROOT), path=str(path), name="bench.csv"))
            anchor = run(CHILD_ANCHOR.format(path=str(path)))
            print(
                f"import complet (lecture + validation + jointure spatiale) : {ours['s']:.2f} s, "
                f"mémoire max {ours['rss_mb']:.0f} Mo ; acceptés {ours['accepted']:,}, rejetés {ours['rejected']:,} "
                f"sur {ours['input']:,}"
            )
            print(
                f"ancre pandas.read_csv (lecture seule)                     : {anchor['s']:.2f} s, "
                f"mémoire max {anchor['rss_mb']:.0f} Mo"
            )
            print(
                f"ratio nous / ancre : {ours['s'] / anchor['s']:.2f}  (objectif : au plus 5 et 1 500 Mo) ; "
                f"lignes comptées : {ours['accepted'] + ours['rejected']:,} sur {ours['input']:,}"
            )
        if n_xlsx:
            path = Path(tmp) / "faits.xlsx"
            t = time.perf_counter()
            make_workbook(n_xlsx, path)
            size = path.stat().st_size / 1e6
            print(f"\nclasseur : {n_xlsx:,} lignes, {size:.0f} Mo (écrit en {time.perf_counter() - t:.1f} s)")
            ours = run(CHILD_OURS.format(root=str(ROOT), path=str(path), name="bench.xlsx"))
            anchor = run(CHILD_EXCEL_ANCHOR.format(path=str(path)))
            print(
                f"import complet du classeur : {ours['s']:.2f} s (objectif : au plus 5 s), mémoire max "
                f"{ours['rss_mb']:.0f} Mo ; acceptés {ours['accepted']:,}, rejetés {ours['rejected']:,} sur {ours['input']:,}"
            )
            print(
                f"ancre pandas.read_excel(engine='calamine') (lecture seule) : {anchor['s']:.2f} s ; "
                f"ratio nous / ancre : {ours['s'] / anchor['s']:.2f}"
            )


if __name__ == "__main__":
    main()
