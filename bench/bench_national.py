"""National batch: Dask distributed against a plain loop, same per-département function, same run.

1. Generates (or completes) the national synthetic data set and prints how long it took and its
   size on disk.
2. Runs the batch on a ``LocalCluster`` of 2 single-thread worker processes
   (:func:`usecases.national_batch.run_national_batch`), into a fresh results folder.
3. Runs :func:`usecases.national_batch.departement_task` on every département in a plain loop
   in one fresh process (its peak memory is the loop's alone), into another fresh folder.
4. Prints both wall times, the speed-up, the peak memory of each worker (sampled every 0.2 s
   from ``/proc``) and of the loop's process, and checks the results are identical.

Goal (issue 16): speed-up ≥ 1.7x on this 2-core machine, every worker under 2 GB, results
identical. Run: ``.venv/bin/python bench/bench_national.py [--departements 90,48,23] [--scale 1]``
(default: all 101 départements at their real volumes; long: see the README).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
from bench_sessions import Peak  # noqa: E402  (this folder: the memory sampler of the sessions bench)
from distributed import Client  # noqa: E402

from core.settings import SETTINGS  # noqa: E402
from data.national import generate_national_dataset, read_manifest  # noqa: E402
from scripts.national import folder_size  # noqa: E402
from usecases.national import RESULT_FILES, results_dir  # noqa: E402
from usecases.national_batch import departement_task, local_cluster, run_national_batch  # noqa: E402


def same_results(a: Path, b: Path, codes: list[str]) -> bool:
    for code in codes:
        ra, rb = results_dir(a, code), results_dir(b, code)
        if json.loads((ra / "resume.json").read_text()) != json.loads((rb / "resume.json").read_text()):
            return False
        for name in RESULT_FILES[:2]:
            if not pd.read_parquet(ra / name).equals(pd.read_parquet(rb / name)):
                return False
    return True


def plain_loop(data: str, out: str, codes: list[str], version: str) -> tuple[float, float]:
    """The same task for every département, one after the other, in a fresh process: its wall
    time and its peak memory (MB)."""
    t0 = time.perf_counter()
    for code in codes:
        departement_task(data, out, code, version)
    return time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--departements", default="")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--data", type=Path, default=SETTINGS.national_data_dir)
    args = parser.parse_args()
    codes = [c.strip().upper() for c in args.departements.split(",") if c.strip()] or None

    t0 = time.perf_counter()
    manifest = generate_national_dataset(args.data, departements=codes, scale=args.scale)
    generation = time.perf_counter() - t0
    codes = codes or sorted(read_manifest(args.data)["departements"])
    rows = sum(manifest["departements"][c]["rows"] for c in codes)
    print(
        f"jeu national : {len(codes)} départements, {rows} faits, {folder_size(args.data) / 2**20:.0f} Mo sur disque, "
        f"génération {generation:.0f} s (0 s si déjà généré)",
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix="bench-national-"))
    try:
        with (
            local_cluster(n_workers=2) as cluster,
            Client(cluster) as client,
            contextlib.ExitStack() as stack,
        ):
            peaks = [stack.enter_context(Peak(pid)) for pid in client.run(os.getpid).values()]
            t1 = time.perf_counter()
            report = run_national_batch(args.data, work / "dask", client=client, departements=codes)
            dask_s = time.perf_counter() - t1
        order = sorted(codes, key=lambda c: -manifest["departements"][c]["rows"])
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            loop_s, loop_peak = pool.submit(
                plain_loop, str(args.data), str(work / "boucle"), order, manifest["version"]
            ).result()
        identical = same_results(work / "dask", work / "boucle", codes)
        print(
            f"Dask (LocalCluster 2 workers mono-thread) : {dask_s:8.1f} s  ({len(report.computed)} départements)"
        )
        print(f"boucle simple, un processus               : {loop_s:8.1f} s")
        print(f"accélération                              : {loop_s / dask_s:8.2f}x  (objectif ≥ 1,7x)")
        print(
            "mémoire max par worker                    : "
            + ", ".join(f"{p.peak:.0f} Mo" for p in peaks)
            + "  (objectif < 2 Go)"
        )
        print(f"mémoire max de la boucle                  : {loop_peak:.0f} Mo")
        print(f"résultats identiques                      : {'oui' if identical else 'NON'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
