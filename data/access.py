"""The access database: people, their sign-ins, and the chained, append-only audit log.

SQLite in the workspace by default (``SETTINGS.access_db``), file 0600 in a 0700 folder:

- ``personnes``: one row per person (e-mail, or issuer and subject when the provider does not
  vouch for the e-mail), role, territory (département or commune codes), who added them, when.
- ``connexions``: one row per sign-in (see :meth:`AccessStore.open_sign_in`). A sign-in is
  valid only while its row is open: « Se déconnecter », the withdrawal of the person's access
  and the maximum age close it, and a closed row is never opened again.
- ``journal``: the audit log. Triggers refuse any UPDATE or DELETE, and each line carries
  ``chaine``, an HMAC of the previous line's ``chaine`` and of its own content, keyed by a
  secret from the environment (``DELINQ_AUDIT_SECRET``): whoever owns the file can drop the
  triggers and delete or alter lines, but cannot recompute the chain, so
  :func:`verify_journal` (``python -m scripts.audit verify``) finds the first broken line; a
  cut tail shows against an earlier head (:meth:`AccessStore.journal_head`, printed on the
  Administration page and in the audit export). :func:`audited` writes the intent *before*
  the action (if that write fails the action does not happen), then its outcome. Each line
  names the client address and user agent of the request it comes from (:data:`AUDIT_ORIGIN`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.access import ADMIN, ASSIGNABLE_ROLES, MAYOR, ROLE_LABELS, Viewer, departement_of_commune
from core.errors import DelinquanceError
from core.plm import PLM
from data.audit import AUDIT_ORIGIN, CHAIN_START, JOURNAL_COLUMNS, audit_key, chain_value

_SCHEMA = """
CREATE TABLE IF NOT EXISTS personnes (
    id INTEGER PRIMARY KEY,
    email TEXT UNIQUE,
    emetteur TEXT,
    sujet TEXT,
    nom TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL,
    territoire TEXT NOT NULL DEFAULT '',
    ajoute_par TEXT NOT NULL,
    ajoute_le TEXT NOT NULL,
    UNIQUE (emetteur, sujet)
);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    quand TEXT NOT NULL,
    qui TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    objet TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '',
    etat TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS connexions (
    cle TEXT PRIMARY KEY,
    qui TEXT NOT NULL,
    ouverte_le REAL NOT NULL,
    expire_le REAL NOT NULL,
    fermee_le REAL,
    motif TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS propositions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    commune TEXT NOT NULL,
    publie_le TEXT NOT NULL,
    auteur TEXT NOT NULL,
    titre TEXT NOT NULL,
    parametres TEXT NOT NULL,
    fiche BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS journal_sans_modification BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'journal en ajout seul'); END;
CREATE TRIGGER IF NOT EXISTS journal_sans_suppression BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'journal en ajout seul'); END;
"""


INTENT, DONE, FAILED, REFUSED = "intention", "fait", "échec", "refus"


#: Columns added to ``journal`` after its first version (an older database gains them).
_JOURNAL_ADDED = {
    "adresse": "TEXT NOT NULL DEFAULT ''",
    "agent": "TEXT NOT NULL DEFAULT ''",
    "chaine": "TEXT NOT NULL DEFAULT ''",
}


#: A sign-in is opened only from an ID token issued less than this many seconds ago.
FRESH_SIGN_IN_SECONDS = 300


_WRITE_LOCK = threading.Lock()


_PERSON = "SELECT id, email, emetteur, sujet, nom, role, territoire, ajoute_par, ajoute_le FROM personnes"


class AccessError(DelinquanceError):
    """A person or an audit line that cannot be written or read (French message)."""


@dataclass(frozen=True)
class Person:
    """A row of ``personnes``."""

    id: int
    email: str | None
    issuer: str | None
    subject: str | None
    name: str
    role: str
    territory: tuple[str, ...]
    added_by: str
    added_at: str

    def viewer(self) -> Viewer:
        """The :class:`core.access.Viewer` of this person."""
        identity = self.email or f"{self.issuer}|{self.subject}"
        if self.role == MAYOR:
            # The mayor of Paris, Lyon or Marseille is given the city: its arrondissements (the units).
            communes = tuple(dict.fromkeys(u for c in self.territory for u in PLM.get(c, (c,))))
            deps = tuple(sorted({departement_of_commune(c) for c in communes}))
            return Viewer(self.role, identity, self.name or identity, deps, communes)
        return Viewer(self.role, identity, self.name or identity, self.territory)


def _territory(text: str) -> tuple[str, ...]:
    return tuple(t for t in (x.strip().upper() for x in text.replace(";", ",").split(",")) if t)


def _find_person(
    db: sqlite3.Connection, *, email: str | None, issuer: str | None, subject: str | None
) -> Person | None:
    """The person with this e-mail (case-insensitive), else with this (issuer, subject)."""
    row = None
    if email:
        row = db.execute(f"{_PERSON} WHERE lower(email) = lower(?)", (email,)).fetchone()
    if row is None and issuer and subject:
        row = db.execute(f"{_PERSON} WHERE emetteur = ? AND sujet = ?", (issuer, subject)).fetchone()
    return None if row is None else _person(row)


def sign_in_key(claims: dict) -> str:
    """The key of one sign-in: a digest of its ID token's issuer, subject, issue time and nonce
    (two sign-ins of the same person differ; a replayed cookie gives the same key)."""
    parts = [str(claims.get(k) or "") for k in ("iss", "sub", "iat", "nonce")]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _person(row: tuple) -> Person:
    """A row of :data:`_PERSON` as a :class:`Person`."""
    return Person(*row[:6], _territory(row[6]), *row[7:])


class AccessStore:
    """People and audit log in one SQLite file.

    Parameters
    ----------
    path : Path
        The database file (created with its folder when missing).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        with self._connect() as db:
            db.executescript(_SCHEMA)
            have = {r[1] for r in db.execute("PRAGMA table_info(journal)")}
            for column, decl in _JOURNAL_ADDED.items():
                if column not in have:
                    db.execute(f"ALTER TABLE journal ADD COLUMN {column} {decl}")
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.chmod(f"{self.path}{suffix}", 0o600)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    # -- people --------------------------------------------------------------------------
    def people(self) -> list[Person]:
        """Every person, by role then e-mail."""
        with self._connect() as db:
            rows = db.execute(f"{_PERSON} ORDER BY role, email").fetchall()
        return [_person(r) for r in rows]

    def person_for_identity(
        self, *, email: str | None, email_verified: bool, issuer: str | None, subject: str | None
    ) -> Person | None:
        """The person signed in: on the e-mail when the provider vouches for it, else on
        (issuer, subject). Read on every run: a role change applies at once."""
        with self._connect() as db:
            return _find_person(db, email=email if email_verified else None, issuer=issuer, subject=subject)

    def save_person(
        self,
        *,
        by: Viewer,
        role: str,
        territory: str,
        email: str | None = None,
        issuer: str | None = None,
        subject: str | None = None,
        name: str = "",
    ) -> Person:
        """Add a person or change their role and territory (audited).

        Raises
        ------
        AccessError
            Unknown role, no e-mail nor (issuer, subject), or an empty territory.
        """
        if role not in ASSIGNABLE_ROLES:
            raise AccessError(
                f"Rôle inconnu : « {role} ». Choisissez parmi : {', '.join(ROLE_LABELS[r] for r in ASSIGNABLE_ROLES)}."
            )
        email = (email or "").strip().lower() or None
        if email is None and not (issuer and subject):
            raise AccessError(
                "Indiquez l'adresse électronique de la personne (ou son émetteur et son identifiant)."
            )
        if email is not None and ("@" not in email or " " in email):
            raise AccessError(
                f"Adresse électronique invalide : « {email} ». Exemple : prenom.nom@interieur.gouv.fr."
            )
        codes = _territory(territory)
        if not codes and role != ADMIN:  # an administrator without territory: every département
            raise AccessError(
                "Indiquez le territoire : un ou plusieurs codes de département (53) ou, pour un maire, "
                "de commune (53130), séparés par des virgules."
            )
        if role == MAYOR and any(len(c) != 5 for c in codes):
            raise AccessError("Un maire reçoit des codes de commune (5 caractères, par exemple 53130).")
        if role != MAYOR and any(len(c) not in (2, 3) for c in codes):
            raise AccessError(
                "Ce rôle reçoit des codes de département (2 ou 3 caractères, par exemple 53 ou 974)."
            )
        now = dt.datetime.now().isoformat(timespec="seconds")
        who = email or f"{issuer}|{subject}"
        with (
            self.audited(by, "changement de rôle", who, {"role": role, "territoire": ",".join(codes)}),
            self._connect() as db,
        ):
            # One write transaction from the look-up to the write: two sessions adding the same
            # person at once (the first administrators, bootstrapped by every first run) give
            # one row, not a constraint error.
            db.execute("BEGIN IMMEDIATE")
            try:
                existing = _find_person(db, email=email, issuer=issuer, subject=subject)
                if existing is None:
                    db.execute(
                        "INSERT INTO personnes (email, emetteur, sujet, nom, role, territoire, ajoute_par, ajoute_le) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (email, issuer, subject, name, role, ",".join(codes), by.identity, now),
                    )
                else:
                    db.execute(
                        "UPDATE personnes SET role = ?, territoire = ?, nom = COALESCE(NULLIF(?, ''), nom) WHERE id = ?",
                        (role, ",".join(codes), name, existing.id),
                    )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        found = self.person_for_identity(email=email, email_verified=True, issuer=issuer, subject=subject)
        assert found is not None
        return found

    def remove_person(self, person_id: int, *, by: Viewer) -> None:
        """Withdraw a person's access (audited)."""
        target = next((p for p in self.people() if p.id == person_id), None)
        if target is None:
            raise AccessError("Personne introuvable : rechargez la liste.")
        who = target.email or f"{target.issuer}|{target.subject}"
        with self.audited(by, "retrait d'accès", who), self._connect() as db:
            db.execute("DELETE FROM personnes WHERE id = ?", (person_id,))
        self.close_sign_ins_of(who, "accès retiré")

    def bootstrap_admins(self, emails: tuple[str, ...]) -> None:
        """Make sure the administrators named in the configuration exist (first start)."""
        system = Viewer(role=ADMIN, identity="configuration", name="configuration")
        for email in (e.strip().lower() for e in emails):
            if (
                email
                and self.person_for_identity(email=email, email_verified=True, issuer=None, subject=None)
                is None
            ):
                self.save_person(by=system, role=ADMIN, territory="", email=email)

    # -- camera-site proposals published to communes ---------------------------------------
    def publish_proposal(
        self,
        *,
        by: Viewer,
        communes: list[str],
        title: str,
        parameters: list[tuple[str, str]],
        sheet_pdf: bytes,
    ) -> None:
        """Publish a camera-site proposal (its published sheet) to one or more communes (audited)."""
        if not communes:
            raise AccessError("Choisissez au moins une commune à qui publier la proposition.")
        now = dt.datetime.now().isoformat(timespec="seconds")
        params = json.dumps(parameters, ensure_ascii=False)
        with (
            self.audited(by, "proposition publiée", ",".join(communes), {"titre": title}),
            self._connect() as db,
        ):
            for code in communes:
                db.execute(
                    "INSERT INTO propositions (commune, publie_le, auteur, titre, parametres, fiche) VALUES (?, ?, ?, ?, ?, ?)",
                    (code, now, by.identity, title, params, sheet_pdf),
                )

    def proposals(self, commune: str) -> pd.DataFrame:
        """Proposals published to a commune, newest first (``id``, ``publie_le``, ``auteur``,
        ``titre``, ``parametres``; the sheet with :meth:`proposal_sheet`)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, publie_le, auteur, titre, parametres FROM propositions WHERE commune = ? ORDER BY id DESC",
                (commune,),
            ).fetchall()
        return pd.DataFrame(rows, columns=["id", "publie_le", "auteur", "titre", "parametres"])

    def proposal_sheet(self, proposal_id: int, commune: str) -> bytes:
        """The sheet (PDF) of a proposal published to ``commune`` (another commune's: refused)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT fiche FROM propositions WHERE id = ? AND commune = ?", (int(proposal_id), commune)
            ).fetchone()
        if row is None:
            raise AccessError("Proposition introuvable pour cette commune.")
        return bytes(row[0])

    # -- audit ---------------------------------------------------------------------------
    def log(
        self, viewer: Viewer, action: str, objet: str = "", details: dict | str = "", *, state: str = DONE
    ) -> None:
        """Append one line to the audit log, chained to the previous one.

        The client address and user agent come from :data:`AUDIT_ORIGIN`. Writes are
        serialised (a lock in this process, an immediate transaction between processes), so
        two sessions never chain onto the same line.

        Raises
        ------
        AccessError
            The line could not be written (the caller must not go on with the action).
        """
        text = (
            details
            if isinstance(details, str)
            else json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
        )
        address, agent = AUDIT_ORIGIN.get()
        when = dt.datetime.now().isoformat(timespec="seconds")
        content = [when, viewer.identity, viewer.role, action, objet, text, state, address, agent[:300]]
        try:
            with _WRITE_LOCK, self._connect() as db:
                db.execute("BEGIN IMMEDIATE")
                try:
                    last = db.execute("SELECT id, chaine FROM journal ORDER BY id DESC LIMIT 1").fetchone()
                    line_id, previous = (last[0] + 1, last[1]) if last else (1, CHAIN_START)
                    chain = chain_value(previous, [line_id, *content], audit_key())
                    db.execute(
                        f"INSERT INTO journal (id, {', '.join(JOURNAL_COLUMNS)}, chaine) VALUES ({', '.join('?' * 11)})",
                        (line_id, *content, chain),
                    )
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise AccessError(
                f"Le journal d'audit n'a pas pu être écrit ({exc}) : l'opération n'a pas été faite. "
                "Vérifiez l'espace disque et les droits sur la base d'accès, puis recommencez."
            ) from exc

    def refused(self, viewer: Viewer, action: str, objet: str = "", why: str = "") -> None:
        """Audit a refused read or action (never raises: a refusal stays a refusal)."""
        with contextlib.suppress(AccessError):
            self.log(viewer, action, objet, {"motif": why}, state=REFUSED)

    def journal_head(self) -> tuple[int, str]:
        """The last line's id and chain value (note it: a later cut shows against it)."""
        with self._connect() as db:
            last = db.execute("SELECT id, chaine FROM journal ORDER BY id DESC LIMIT 1").fetchone()
        return (int(last[0]), str(last[1])) if last else (0, CHAIN_START)

    # -- sign-ins ------------------------------------------------------------------------
    def open_sign_in(
        self, key: str, identity: str, *, issued_at: float, expires_at: float | None, max_hours: float
    ) -> str:
        """Open the record of a sign-in, once, when its ID token is fresh; or say why not.

        Parameters
        ----------
        key : str
            :func:`sign_in_key` of the ID token.
        identity : str
            Who signed in (for the withdrawal of their access).
        issued_at, expires_at : float
            The ID token's ``iat`` and ``exp``: a token already expired, or issued more than
            :data:`FRESH_SIGN_IN_SECONDS` ago, opens nothing (a replayed cookie cannot open a
            new sign-in).
        max_hours : float
            The sign-in's lifetime (``SETTINGS.session_max_hours``): past it the record is
            closed (« durée maximale ») and stays closed.

        Returns
        -------
        str
            « nouvelle » (opened now), « ouverte » (opened before, still valid), « périmée »
            (no record and the token is not fresh), or the state of a closed record
            (« fermée (déconnexion) »…).
        """
        now = time.time()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT fermee_le, expire_le, motif FROM connexions WHERE cle = ?", (key,)
            ).fetchone()
            if row is None:
                fresh = now - issued_at <= FRESH_SIGN_IN_SECONDS and issued_at <= now + 60
                if not fresh or (expires_at is not None and expires_at <= now):
                    db.execute("ROLLBACK")
                    return "périmée"
                expires = issued_at + max_hours * 3600
                closed = (now, "durée maximale") if expires <= now else (None, "")
                db.execute(
                    "INSERT INTO connexions (cle, qui, ouverte_le, expire_le, fermee_le, motif) VALUES (?, ?, ?, ?, ?, ?)",
                    (key, identity, now, expires, *closed),
                )
                db.execute("COMMIT")
                return "nouvelle" if closed[0] is None else "fermée (durée maximale)"
            if row[0] is None and row[1] <= now:
                db.execute(
                    "UPDATE connexions SET fermee_le = ?, motif = ? WHERE cle = ?",
                    (now, "durée maximale", key),
                )
                db.execute("COMMIT")
                return "fermée (durée maximale)"
            db.execute("COMMIT")
        return "ouverte" if row[0] is None else f"fermée ({row[2]})"

    def sign_in_state(self, key: str) -> str:
        """« ouverte », « expirée », « fermée » (with its reason) or « inconnue »."""
        with self._connect() as db:
            row = db.execute(
                "SELECT fermee_le, expire_le, motif FROM connexions WHERE cle = ?", (key,)
            ).fetchone()
        if row is None:
            return "inconnue"
        if row[0] is not None:
            return f"fermée ({row[2]})"
        return "ouverte" if row[1] > time.time() else "expirée"

    def close_sign_in(self, key: str, reason: str) -> None:
        """Close a sign-in for good (sign-out, maximum age)."""
        with self._connect() as db:
            db.execute(
                "UPDATE connexions SET fermee_le = ?, motif = ? WHERE cle = ? AND fermee_le IS NULL",
                (time.time(), reason, key),
            )

    def close_sign_ins_of(self, identity: str, reason: str) -> int:
        """Close every open sign-in of a person (access withdrawn); how many were open."""
        with self._connect() as db:
            cur = db.execute(
                "UPDATE connexions SET fermee_le = ?, motif = ? WHERE lower(qui) = lower(?) AND fermee_le IS NULL",
                (time.time(), reason, identity),
            )
            return cur.rowcount

    @contextlib.contextmanager
    def audited(
        self, viewer: Viewer, action: str, objet: str = "", details: dict | str = ""
    ) -> Iterator[None]:
        """Log the intent (the action does not run if that fails), run the action, log the outcome."""
        self.log(viewer, action, objet, details, state=INTENT)
        try:
            yield
        except BaseException as exc:
            with contextlib.suppress(AccessError):
                self.log(viewer, action, objet, {"erreur": str(exc)[:300]}, state=FAILED)
            raise
        self.log(viewer, action, objet, details, state=DONE)

    def journal(self, *, limit: int | None = None) -> pd.DataFrame:
        """The audit log, newest first (``chaine``: each line's chain value)."""
        query = f"SELECT id, {', '.join(JOURNAL_COLUMNS)}, chaine FROM journal ORDER BY id DESC"
        with self._connect() as db:
            rows = db.execute(query + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
        return pd.DataFrame(rows, columns=["ligne", *JOURNAL_COLUMNS, "chaine"])
