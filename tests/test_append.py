"""Appending a new extract to a saved data set (data.append, usecases.donnees.append_to_dataset)."""

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from core import model as m
from data.append import DROP, KEEP
from data.store import DatasetStore
from readers.incidents import import_incident_file
from usecases.donnees import append_to_dataset, history_table

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 11, 21, 12, 0)
HEADER = "N° procédure;Date des faits;Nature de l'infraction;Type de lieu;Code INSEE;Latitude;Longitude\n"
JANUARY = [
    "P1;05/01/2025 10:00;Cambriolage;domicile;53130;48,0707;-0,7734",
    "P2;06/01/2025 11:00;Vol à la tire;voie publique;53130;48,0710;-0,7730",
    "P3;07/01/2025 12:00;Dégradation;voie publique;53130;48,0712;-0,7736",
]
FEBRUARY = [
    "P2;06/01/2025 11:00;Vol à la tire;voie publique;53130;48,0710;-0,7730",  # the same: duplicate
    "P3;07/01/2025 12:00;Vol à la tire;voie publique;53130;48,0712;-0,7736",  # corrected offence: update
    "P4;03/02/2025 09:00;Escroquerie;domicile;53130;48,0700;-0,7700",  # new
    "P5;31/02/2025 09:00;Escroquerie;domicile;53130;48,0700;-0,7700",  # unreadable date: rejected
]


def _file(rows, with_ids=True):
    text = HEADER + "\n".join(rows) + "\n"
    if not with_ids:
        text = "\n".join(line.split(";", 1)[1] for line in text.splitlines()) + "\n"
    return text.encode("utf-8")


def _saved(tmp_path, communes, rows, with_ids=True):
    store = DatasetStore(tmp_path / "store")
    r = import_incident_file(_file(rows, with_ids), "janvier.csv", communes=communes, now=NOW)
    info = store.save(r.incidents, name="Export GN", source_file="janvier.csv", rejections=r.rejections)
    return store, info


def test_append_with_identifiers_counts_every_row(tmp_path, communes53):
    store, info = _saved(tmp_path, communes53, JANUARY)
    feb = import_incident_file(_file(FEBRUARY), "fevrier.csv", communes=communes53, now=NOW)
    saved, res = append_to_dataset(store, info.slug, feb, source_file="fevrier.csv")
    assert (res.n_new, res.n_duplicates, res.n_updated, feb.n_rejected) == (1, 1, 1, 1)
    assert res.n_new + res.n_duplicates + res.n_updated + feb.n_rejected == feb.n_input
    assert res.summary(feb.n_rejected) == "1 nouveaux, 1 doublons, 1 mis à jour, 1 rejetés"
    assert res.updates.to_dict("records") == [
        {m.ID: "P3", "colonnes modifiées": f"{m.OFFENCE}, {m.RAW_OFFENCE}"}
    ]
    data = store.load(info.slug).set_index(m.ID)
    assert sorted(data.index) == ["P1", "P2", "P3", "P4"]
    assert data.loc["P3", m.OFFENCE] == "Vols sans violence contre des personnes"  # the newer row won
    hist = history_table(saved)
    assert hist["fichier"].tolist() == ["janvier.csv", "fevrier.csv"]
    assert hist.iloc[1][["nouveaux", "doublons", "mis à jour", "rejetés"]].tolist() == [1, 1, 1, 1]
    assert saved.slug == info.slug and len(store.list()) == 1


def test_append_without_identifiers_user_decides(tmp_path, communes53):
    store, info = _saved(tmp_path, communes53, JANUARY, with_ids=False)
    rows = [JANUARY[0], FEBRUARY[2]]  # one exact duplicate, one new incident
    feb = import_incident_file(_file(rows, with_ids=False), "fevrier.csv", communes=communes53, now=NOW)
    _, dropped = append_to_dataset(store, info.slug, feb, source_file="fevrier.csv", duplicates=DROP)
    assert (dropped.n_new, dropped.n_duplicates) == (1, 1) and len(dropped.duplicates) == 1
    assert len(store.load(info.slug)) == 4
    store2, info2 = _saved(tmp_path / "b", communes53, JANUARY, with_ids=False)
    _, kept = append_to_dataset(store2, info2.slug, feb, source_file="fevrier.csv", duplicates=KEEP)
    data = store2.load(info2.slug)
    assert kept.n_new == 2 and len(data) == 5 and data[m.ID].is_unique


APPENDER = textwrap.dedent(
    """
    import sys, time, datetime as dt
    sys.path.insert(0, {root!r})
    import data.store as st
    from data.store import DatasetStore
    from geo.communes import communes_for_departement
    from readers.incidents import import_incident_file
    from usecases.donnees import append_to_dataset
    store = DatasetStore({store!r})
    r = import_incident_file(open({file!r}, "rb").read(), "fevrier.csv",
                             communes=communes_for_departement("53"), now=dt.datetime(2026, 11, 21))
    def hang(src, dst):
        print("COMMITTING", flush=True)
        time.sleep(600)
    st.os.replace = hang  # killed right before the commit point
    append_to_dataset(store, {slug!r}, r, source_file="fevrier.csv")
    """
)


def test_killed_append_leaves_the_data_set_intact(tmp_path, communes53):
    store, info = _saved(tmp_path, communes53, JANUARY)
    (tmp_path / "fevrier.csv").write_bytes(_file(FEBRUARY))
    script = tmp_path / "append.py"
    script.write_text(
        APPENDER.format(
            root=str(ROOT), store=str(tmp_path / "store"), file=str(tmp_path / "fevrier.csv"), slug=info.slug
        )
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and "COMMITTING" not in proc.stdout.readline():
            pass
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    after = store.info(info.slug)
    assert after.imported_at == info.imported_at and after.source_file == "janvier.csv"
    assert sorted(store.load(info.slug)[m.ID]) == ["P1", "P2", "P3"]
    assert "historique" not in after.extra
