"""The national batch on Dask distributed: one task per département, resumable, fault-tolerant.

Each task reads one partition of the national data set, computes the département's results
with :func:`usecases.national.results_for_departement` and writes them itself
(``out/departement=XX/``, ``resume.json`` last): a task is a pure function of the partition,
so when a worker dies in the middle Dask runs the task again elsewhere and the result is the
same as an undisturbed run. Départements whose results are already there for the data set's
current version are skipped. The largest départements are submitted first so that the two
workers finish together.

A ``distributed.LocalCluster`` of single-thread worker processes by default; with a scheduler
address (``DELINQ_DASK_SCHEDULER`` or ``--scheduler``) the same batch goes to a real cluster,
whose workers must see the same data and results folders.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from data.national import NationalDataError, incidents_for_departement, read_manifest
from usecases.national import results_done, results_for_departement, summary_table, write_results

#: Retries of a task that raised (a worker that died is handled by the scheduler itself).
RETRIES = 2


def departement_task(data_root: str, out_root: str, code: str, version: str) -> dict:
    """One département of the batch: read its partition, compute, write; its summary row.

    A top-level function of plain arguments (strings): what a Dask worker receives.
    """
    from geo.communes import communes_for_departement, departements_table

    names = departements_table().set_index("code")["nom"]
    incidents = incidents_for_departement(Path(data_root), code)
    communes = communes_for_departement(code)
    results = results_for_departement(incidents, communes, code=code, name=str(names.get(code, "")))
    write_results(Path(out_root), code, version, results)
    return {**results.summary, "version": version}


@dataclass
class BatchReport:
    """What a batch run did."""

    version: str
    computed: list[str]
    skipped: list[str]
    seconds: float
    summary: pd.DataFrame
    failed: dict[str, str] = field(default_factory=dict)  # code -> the error, in French


def run_national_batch(
    data_root: Path,
    out_root: Path,
    *,
    client,
    departements: Iterable[str] | None = None,
    on_done: Callable[[str, int, int], None] | None = None,
) -> BatchReport:
    """Compute every département's results on a Dask ``client``.

    Parameters
    ----------
    data_root : Path
        The national data set (:mod:`data.national`).
    out_root : Path
        Where the results go, one folder per département.
    client : distributed.Client
        Connected to a local or a remote cluster.
    departements : iterable of str, optional
        A subset (default: every département of the data set).
    on_done : callable, optional
        Called with (code, done, total) as each task finishes (the progress display).

    Returns
    -------
    BatchReport
    """
    from distributed import as_completed

    t0 = time.perf_counter()
    manifest = read_manifest(Path(data_root))
    version = manifest.get("version")
    entries = manifest.get("departements", {})
    if not version or not entries:
        raise NationalDataError(
            f"Pas de jeu national complet dans {data_root} : lancez d'abord la génération (make national)."
        )
    codes = list(departements) if departements is not None else sorted(entries)
    skipped = [c for c in codes if results_done(out_root, c, version)]
    todo = sorted((c for c in codes if c not in skipped), key=lambda c: -entries.get(c, {}).get("rows", 0))
    futures = [
        client.submit(
            departement_task,
            str(data_root),
            str(out_root),
            code,
            version,
            key=f"departement-{code}-{version}",
            retries=RETRIES,
        )
        for code in todo
    ]
    computed: list[str] = []
    failed: dict[str, str] = {}
    code_of = {f.key: c for f, c in zip(futures, todo, strict=True)}
    for done, future in enumerate(as_completed(futures), start=1):
        code = code_of[future.key]
        try:
            future.result()
        except Exception as exc:  # noqa: BLE001 - one département's failure never stops the others
            failed[code] = f"{type(exc).__name__} : {exc}"
        else:
            computed.append(code)
        if on_done:
            on_done(code, done, len(futures))
    table = summary_table(out_root)
    table = table[table["departement"].isin(codes)].reset_index(drop=True)
    return BatchReport(version, computed, skipped, time.perf_counter() - t0, table, failed)


def local_cluster(n_workers: int = 2, memory_limit: str = "2GiB"):
    """A ``LocalCluster`` of single-thread worker processes (each restarted if it dies)."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=None,
    )
