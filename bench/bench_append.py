"""Appending a month to a large data set, against re-importing everything.

A 1,000,000-incident data set (the Nord's synthetic incidents, repeated with new
identifiers, exported and imported as a real file would be) is saved in a temporary store; a 100,000-row extract (90,000 new incidents,
5,000 already present, 5,000 corrected) is validated, then appended
(:func:`usecases.donnees.append_to_dataset`: load, merge by identifier, save a new version).
The anchor is what a user would do without append: validate and save the whole
1,100,000-row file again. Goal: append < 10 s.

Run: ``.venv/bin/python bench/bench_append.py``.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from core import model as m  # noqa: E402
from core.formatting import fmt_count  # noqa: E402
from data.store import DatasetStore  # noqa: E402
from data.synthetic import synthetic_incidents_for_departement  # noqa: E402
from geo.communes import communes_for_departement  # noqa: E402
from readers.incidents import import_incident_file  # noqa: E402
from usecases.donnees import append_to_dataset  # noqa: E402

GOAL_S = 10.0
NOW = dt.datetime(2026, 11, 1)


def export_csv(incidents: pd.DataFrame) -> bytes:
    """The incidents as an analysis cell would export them (one CSV)."""
    g = incidents.geometry
    out = pd.DataFrame(
        {
            "identifiant": incidents[m.ID],
            "date": incidents[m.START].dt.strftime("%d/%m/%Y %H:%M"),
            "infraction": incidents[m.OFFENCE],
            "type_lieu": incidents[m.PLACE],
            "code_commune": incidents[m.COMMUNE],
            "latitude": g.y.round(6),
            "longitude": g.x.round(6),
        }
    )
    return out.to_csv(index=False, sep=";").encode("utf-8")


def main() -> None:
    communes = communes_for_departement("59")
    t = time.perf_counter()
    base = synthetic_incidents_for_departement(
        communes, years=(2022, 2025), seed=3, today=NOW.date()
    ).incidents
    print(f"jeu synthétique du Nord : {fmt_count(len(base))} faits ({time.perf_counter() - t:.0f} s)")
    big = pd.concat([base, base.assign(**{m.ID: base[m.ID] + "-b"})], ignore_index=True).iloc[:1_000_000]
    new = big.sample(100_000, random_state=1).copy()
    new[m.ID] = new[m.ID] + "-n"
    new.iloc[:5_000] = big.iloc[:5_000].to_numpy()  # already present, unchanged
    changed = big.iloc[5_000:10_000].copy()
    changed[m.PLACE] = "domicile"
    new.iloc[5_000:10_000] = changed.to_numpy()  # corrected rows
    month_csv = export_csv(new)
    full_csv = export_csv(pd.concat([big, new[10_000:]], ignore_index=True))
    with tempfile.TemporaryDirectory() as tmp:
        store = DatasetStore(Path(tmp))
        # The data set as an import leaves it (raw labels kept), like a real one.
        history = import_incident_file(export_csv(big), "historique.csv", communes=communes, now=NOW)
        info = store.save(history.incidents, name="Nord", source_file="historique.csv", departement="59")
        t = time.perf_counter()
        month = import_incident_file(month_csv, "mois.csv", communes=communes, now=NOW)
        t_read = time.perf_counter() - t
        t = time.perf_counter()
        saved, res = append_to_dataset(store, info.slug, month, source_file="mois.csv")
        t_append = time.perf_counter() - t
        t = time.perf_counter()
        full = import_incident_file(full_csv, "tout.csv", communes=communes, now=NOW)
        store.save(full.incidents, name="Nord (réimport)", source_file="tout.csv", departement="59")
        t_anchor = time.perf_counter() - t
    print(f"ajout : {res.summary(month.n_rejected)} → {fmt_count(saved.n_rows)} faits")
    print(f"validation du fichier du mois (100 000 lignes)     : {t_read:6.2f} s")
    print(f"ajout au jeu (chargement, fusion, enregistrement)   : {t_append:6.2f} s")
    print(f"ajout complet (validation + ajout)                  : {t_read + t_append:6.2f} s")
    print(f"ancre : réimport complet (1 100 000 lignes)         : {t_anchor:6.2f} s")
    print(
        f"objectif {GOAL_S:.0f} s ; ratio ajout complet / objectif : {(t_read + t_append) / GOAL_S:.2f} ; "
        f"accélération sur l'ancre : {t_anchor / (t_read + t_append):.1f}×"
    )


if __name__ == "__main__":
    main()
