"""The audit log's chain: each line carries an HMAC of the previous line's chain value and of its
own content, keyed by ``DELINQ_AUDIT_SECRET`` (read once by the server, see :func:`keep_audit_key`).

Whoever owns the database file can drop its triggers and delete or alter lines, but cannot
recompute the chain without the key: :func:`verify_journal` (``python -m scripts.audit verify``)
names the first line that was altered, inserted or deleted, and a head noted earlier shows a
cut tail. :data:`AUDIT_ORIGIN` carries the client address and user agent of the request an
audit line comes from. The lines themselves are written by :meth:`data.access.AccessStore.log`.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

JOURNAL_COLUMNS = ["quand", "qui", "role", "action", "objet", "details", "etat", "adresse", "agent"]


#: The chain value before the first line.
CHAIN_START = "0" * 64


#: Where an audit line comes from: (client address, user agent), set by the UI for each script
#: run and each deferred download (empty for the command line).
AUDIT_ORIGIN: contextvars.ContextVar[tuple[str, str]] = contextvars.ContextVar(
    "audit_origin", default=("", "")
)


#: Without ``DELINQ_AUDIT_SECRET`` (poste local, tests), the chain is keyed by this constant: it
#: then detects accidents, not a deliberate rewrite. The server mode refuses to start without it.
LOCAL_AUDIT_KEY = b"poste-local-sans-secret"


_KEPT_KEY: list[bytes] = []


def keep_audit_key(secret: str) -> None:
    """Keep the audit secret in this process (the server reads it once, then removes it from
    its environment)."""
    if secret:
        _KEPT_KEY[:] = [secret.encode("utf-8")]


def audit_key() -> bytes:
    """The audit chain's key: the kept secret, else ``DELINQ_AUDIT_SECRET``, else the local constant."""
    if _KEPT_KEY:
        return _KEPT_KEY[0]
    secret = os.environ.get("DELINQ_AUDIT_SECRET", "")
    return secret.encode("utf-8") if secret else LOCAL_AUDIT_KEY


def chain_value(previous: str, line: list[object], key: bytes) -> str:
    """HMAC-SHA256 of the previous chain value and of a line's content (its id included)."""
    text = json.dumps([previous, *[str(v) for v in line]], ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class JournalCheck:
    """What :func:`verify_journal` found."""

    lines: int
    head: str
    first_broken: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def verify_journal(path: Path, *, key: bytes | None = None, expected_head: str | None = None) -> JournalCheck:
    """Recompute the audit chain of the database at ``path``.

    Parameters
    ----------
    path : Path
        The access database.
    key : bytes, optional
        The chain's key (default :func:`audit_key`).
    expected_head : str, optional
        A head noted earlier (Administration page, audit export): it must be the chain value
        of one of the lines, else the log was cut or rewritten since.

    Returns
    -------
    JournalCheck
        The number of lines, the head, and the first broken line's id with the reason.
    """
    key = key or audit_key()
    db = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        rows = db.execute(
            f"SELECT id, {', '.join(JOURNAL_COLUMNS)}, chaine FROM journal ORDER BY id"
        ).fetchall()
    finally:
        db.close()
    previous, seen, last_id = CHAIN_START, {CHAIN_START}, 0
    for row in rows:
        line_id, content, stored = row[0], list(row[:-1]), row[-1]
        if line_id != last_id + 1:
            return JournalCheck(
                len(rows), previous, line_id, f"lignes {last_id + 1} à {line_id - 1} absentes"
            )
        if chain_value(previous, content, key) != stored:
            return JournalCheck(
                len(rows), previous, line_id, "ligne modifiée, insérée ou supprimée avant elle"
            )
        previous, last_id = stored, line_id
        seen.add(stored)
    if expected_head and expected_head not in seen:
        return JournalCheck(
            len(rows),
            previous,
            last_id + 1,
            "la tête notée n'est plus dans le journal (fin coupée ou journal réécrit)",
        )
    return JournalCheck(len(rows), previous)
