"""Every département at once: generate the national data set, then run the batch on Dask.

``make national`` (``python -m scripts.national``) generates the synthetic incidents of all
101 départements (resumable: what is done is kept), then computes each département's
priority zones, follow-up and summary on a ``LocalCluster`` of two single-thread workers, with a
progress display. Options::

    --departements 90,48,23   a subset
    --scale 0.1               a tenth of the real volumes (a quick try)
    --scheduler tcp://h:8786  a real Dask cluster (default: DELINQ_DASK_SCHEDULER, else local)
    --workers 2               workers of the local cluster
    --data DIR --out DIR      folders (default: workspace/national/donnees and .../resultats)

Running it again recomputes only the départements whose data changed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

from core.errors import DelinquanceError
from core.formatting import fmt_count
from core.settings import SETTINGS


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / max(total, 1))
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total}"


def folder_size(root: Path) -> int:
    """Bytes of every file under ``root`` (the size on disk the command prints)."""
    return sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.national", description="Jeu national et calcul par département (Dask)."
    )
    parser.add_argument(
        "--departements", default="", help="codes séparés par des virgules (défaut : les 101)"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="part des volumes réels (défaut 1)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--scheduler", default=os.environ.get("DELINQ_DASK_SCHEDULER", ""))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, default=SETTINGS.national_data_dir)
    parser.add_argument("--out", type=Path, default=SETTINGS.national_results_dir)
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except DelinquanceError as exc:  # a French message naming the fix, never a traceback
        print(f"\nErreur : {exc}", file=sys.stderr)
    except OSError as exc:  # a folder that cannot be written, a scheduler that does not answer
        print(
            f"\nErreur d'accès ({exc}) : vérifiez les dossiers --data et --out et l'adresse --scheduler.",
            file=sys.stderr,
        )
    return 2


def _run(args: argparse.Namespace) -> int:
    from distributed import Client

    from data.national import generate_national_dataset
    from usecases.national_batch import RETRIES, local_cluster, run_national_batch

    codes = [c.strip().upper() for c in args.departements.split(",") if c.strip()] or None
    t0 = time.perf_counter()

    def generated(code: str, done: int, total: int, seconds: float) -> None:
        state = "déjà là" if seconds == 0 else f"{seconds:5.1f} s"
        print(f"\rGénération {_bar(done, total)}  {code:>3} {state}   ", end="", flush=True)

    manifest = generate_national_dataset(
        args.data, departements=codes, scale=args.scale, seed=args.seed, progress=generated
    )
    rows = sum(e["rows"] for e in manifest["departements"].values())
    print(
        f"\nJeu national : {len(manifest['departements'])} départements, {fmt_count(rows)} faits, "
        f"{fmt_count(round(folder_size(args.data) / 2**20))} Mo sur disque, génération {fmt_count(round(time.perf_counter() - t0))} s"
    )

    t1 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        cluster = None if args.scheduler else stack.enter_context(local_cluster(n_workers=args.workers))
        client = stack.enter_context(Client(args.scheduler or cluster))
        print(f"Calcul sur {args.scheduler or f'LocalCluster de {args.workers} workers mono-thread'}")

        def computed(code: str, done: int, total: int) -> None:
            print(f"\rCalcul     {_bar(done, total)}  {code:>3}   ", end="", flush=True)

        report = run_national_batch(args.data, args.out, client=client, departements=codes, on_done=computed)
    print(
        f"\nRésultats : {len(report.computed)} départements calculés, {len(report.skipped)} déjà à jour "
        f"(version des données {report.version}), {fmt_count(round(time.perf_counter() - t1))} s → {args.out}"
    )
    for code, error in sorted(report.failed.items()):
        print(
            f"Échec du département {code} (après {RETRIES} nouvelles tentatives) : {error}", file=sys.stderr
        )
    if report.failed:
        print(
            "Corrigez la cause puis relancez la même commande : seuls les départements manquants seront calculés.",
            file=sys.stderr,
        )
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
