"""The national batch on Dask distributed: three small départements, a real LocalCluster of two
worker processes, a worker process killed in the middle of a run."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pandas as pd
import pytest
from distributed import Client

from core.privacy import SECRET_LABEL
from data.national import generate_national_dataset, incidents_for_departement, partition_path
from geo.communes import communes_for_departement
from usecases.national import (
    SUMMARY_COLUMNS,
    results_dir,
    results_done,
    results_for_departement,
    summary_table,
)
from usecases.national_batch import departement_task, local_cluster, run_national_batch

SMALL = ["90", "48", "23"]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("national-data")
    generate_national_dataset(
        root, departements=SMALL, years=(2024, 2025), seed=9, scale=0.1, today=dt.date(2025, 12, 31)
    )
    return root


@pytest.fixture(scope="module")
def client():
    # Worker processes are spawned, and a spawned process first runs the parent's __main__ file.
    # Streamlit's AppTest (other tests in this process) leaves its generated script there: hide it
    # for as long as the nanny may spawn (a killed worker is restarted).
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        with local_cluster(n_workers=2) as cluster, Client(cluster) as c:
            yield c
    finally:
        sys.modules["__main__"] = main


def _outputs(out_root, code):
    folder = results_dir(out_root, code)
    summary = json.loads((folder / "resume.json").read_text(encoding="utf-8"))
    return summary, pd.read_parquet(folder / "zones.parquet"), pd.read_parquet(folder / "suivi.parquet")


def test_batch_computes_each_departement_like_its_pages_then_skips_it(data_root, client, tmp_path):
    out = tmp_path / "resultats"
    seen = []
    report = run_national_batch(data_root, out, client=client, on_done=lambda *a: seen.append(a))
    assert sorted(report.computed) == sorted(SMALL) and report.skipped == []
    assert [s[1] for s in seen] == [1, 2, 3] and {s[2] for s in seen} == {3}
    assert sorted(report.summary["departement"]) == sorted(SMALL)
    # The same per-département function in this process gives the same results.
    direct = results_for_departement(
        incidents_for_departement(data_root, "90"), communes_for_departement("90"), code="90"
    )
    summary, zones, followup = _outputs(out, "90")
    assert summary["zones"] == len(direct.zones) == len(zones)
    assert summary["faits"] == direct.summary["faits"] and summary["version"] == report.version
    assert len(followup) == len(direct.followup) and set(followup["reference"]) == {"annee", "precedente"}
    again = run_national_batch(data_root, out, client=client)
    assert again.computed == [] and sorted(again.skipped) == sorted(SMALL)
    assert len(summary_table(out)) == 3


def test_a_worker_killed_in_the_middle_changes_nothing(data_root, client, tmp_path):
    undisturbed, disturbed = tmp_path / "calme", tmp_path / "tue"
    run_national_batch(data_root, undisturbed, client=client)
    pids_before = client.run(os.getpid)  # worker address -> its process
    outcome: dict = {}
    runner = threading.Thread(
        target=lambda: outcome.update(report=run_national_batch(data_root, disturbed, client=client))
    )
    runner.start()
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline:
        for address, keys in client.processing().items():
            if any(str(k).startswith("departement-") for k in keys):
                killed = pids_before[address]
                os.kill(killed, signal.SIGKILL)  # the worker process dies mid-task
                break
        time.sleep(0.05)
    runner.join(timeout=600)
    assert killed is not None and not runner.is_alive()
    report = outcome["report"]
    assert sorted(report.computed) == sorted(SMALL)
    client.wait_for_workers(2, timeout=120)
    pids_after = set(client.run(os.getpid).values())
    assert killed not in pids_after and len(pids_after) == 2  # restarted by its nanny
    for code in SMALL:
        calm, hit = _outputs(undisturbed, code), _outputs(disturbed, code)
        assert calm[0] == hit[0]
        pd.testing.assert_frame_equal(calm[1], hit[1])
        pd.testing.assert_frame_equal(calm[2], hit[2])


def test_a_departement_that_fails_does_not_stop_the_others(data_root, client, tmp_path):
    root = shutil.copytree(data_root, tmp_path / "donnees")
    partition_path(root, "48").write_bytes(b"abime")  # unreadable after the manifest was written
    report = run_national_batch(root, tmp_path / "resultats", client=client)
    assert sorted(report.computed) == ["23", "90"] and list(report.failed) == ["48"]
    assert "48" not in set(report.summary["departement"])
    assert not results_dir(tmp_path / "resultats", "48").exists()


@pytest.mark.parametrize(("scale", "remark"), [(0.001, "aucun fait"), (0.002, "suivi impossible")])
def test_an_empty_or_short_departement_gives_a_row_that_says_why(tmp_path, scale, remark):
    generate_national_dataset(
        tmp_path, departements=["48"], years=(2025, 2025), seed=5, scale=scale, today=dt.date(2026, 11, 21)
    )
    incidents = incidents_for_departement(tmp_path, "48")
    res = results_for_departement(incidents, communes_for_departement("48"), code="48")
    assert res.summary["remarque"].startswith(remark)
    assert list(res.summary) == SUMMARY_COLUMNS
    assert res.summary["faits"] == (0 if len(incidents) == 0 else SECRET_LABEL)  # 1 to 5: secret
    assert res.summary["taux_pour_mille"] is None and res.summary["evolution_annee"] is None
    assert len(res.zones) == 0 and len(res.followup) == 0


def test_the_documented_command_generates_computes_then_skips(tmp_path):
    """``make national`` runs ``python -m scripts.national``: here on one small département."""
    root = Path(__file__).resolve().parents[1]
    args = [
        sys.executable,
        "-m",
        "scripts.national",
        "--departements",
        "90",
        "--scale",
        "0.02",
        "--data",
        str(tmp_path / "donnees"),
        "--out",
        str(tmp_path / "resultats"),
    ]
    env = {**os.environ, "DELINQ_DASK_SCHEDULER": ""}
    first = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "Jeu national : 1 départements" in first.stdout and "LocalCluster de 2 workers" in first.stdout
    assert "1 départements calculés, 0 déjà à jour" in first.stdout
    assert (tmp_path / "resultats" / "departement=90" / "resume.json").exists()
    again = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "0 départements calculés, 1 déjà à jour" in again.stdout


def test_the_command_says_what_is_wrong_in_french_without_a_traceback(tmp_path, capsys):
    from scripts.national import main

    code = main(
        ["--departements", "99", "--data", str(tmp_path / "donnees"), "--out", str(tmp_path / "resultats")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Erreur : Département inconnu : « 99 »" in err and "Traceback" not in err


def test_results_gated_with_another_threshold_are_computed_again(data_root, tmp_path, monkeypatch):
    import dataclasses

    import usecases.national as national
    from core.settings import SETTINGS

    out = tmp_path / "resultats"
    version = generate_national_dataset(
        data_root, departements=SMALL, years=(2024, 2025), seed=9, scale=0.1, today=dt.date(2025, 12, 31)
    )["version"]
    departement_task(str(data_root), str(out), "90", version)
    assert results_done(out, "90", version)
    monkeypatch.setattr(
        national, "SETTINGS", dataclasses.replace(SETTINGS, privacy_threshold=SETTINGS.privacy_threshold + 5)
    )
    assert not results_done(out, "90", version)
