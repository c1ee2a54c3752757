"""Check the audit log's chain: ``python -m scripts.audit verify``.

Recomputes every line's HMAC (keyed by ``DELINQ_AUDIT_SECRET``, the server's secret: without
it the check can only tell a log written without a secret) and names the first line that was
altered, inserted or deleted. ``--tete`` gives a head noted earlier (Administration page, audit
export): if it is no longer in the log, its end was cut.

Exit codes: 0 the chain holds, 1 it is broken, 2 the database cannot be read.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from core.formatting import fmt_count
from core.settings import SETTINGS
from data.audit import verify_journal


def main(args: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Vérifie la chaîne du journal d'audit.")
    sub = parser.add_subparsers(dest="commande", required=True)
    verify = sub.add_parser("verify", help="recalcule la chaîne et nomme la première ligne rompue")
    verify.add_argument(
        "--base", type=Path, default=None, help="base d'accès (défaut : celle de l'espace de travail)"
    )
    verify.add_argument(
        "--tete", default=None, help="tête notée plus tôt (page Administration, export du journal)"
    )
    ns = parser.parse_args(args)
    path = ns.base or SETTINGS.access_db_path
    if not path.exists():
        print(f"Base d'accès introuvable : {path}. Donnez-la avec --base.", file=sys.stderr)
        return 2
    try:
        check = verify_journal(path, expected_head=ns.tete)
    except sqlite3.Error as exc:
        print(f"Lecture impossible de {path} : {exc}.", file=sys.stderr)
        return 2
    if check.ok:
        print(f"Chaîne intacte : {fmt_count(check.lines)} lignes, tête {check.head}.")
        return 0
    print(
        f"Chaîne rompue à la ligne {check.first_broken} : {check.reason}. Dernière tête valide : {check.head}. "
        "Comparez avec une copie de sauvegarde de la base et signalez-le au responsable de la sécurité.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
