"""The audit log's chain and the sign-in records, attacked as the file's owner would.

Every destructive step (dropping the triggers, deleting, altering, cutting lines) is done on
a database this test created in its own ``tmp_path``.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time

import pytest

from core.access import ADMIN, ANALYST, Viewer
from data.access import FRESH_SIGN_IN_SECONDS, AccessStore, sign_in_key
from data.audit import AUDIT_ORIGIN, chain_value, verify_journal
from scripts.audit import main as audit_main

KEY = b"cle-de-test-0123456789abcdef0123456789"
ADMIN_VIEWER = Viewer(role=ADMIN, identity="admin@prefecture.test")


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("DELINQ_AUDIT_SECRET", KEY.decode())
    s = AccessStore(tmp_path / "acces.sqlite")
    token = AUDIT_ORIGIN.set(("203.0.113.7", "Navigateur de test"))
    for i in range(6):
        s.log(ADMIN_VIEWER, "export", f"fichier-{i}.csv")
    yield s
    AUDIT_ORIGIN.reset(token)


def _tampered(store: AccessStore, tmp_path, sql: str) -> sqlite3.Connection:
    copy = tmp_path / "copie.sqlite"
    shutil.copy(store.path, copy)
    db = sqlite3.connect(copy, isolation_level=None)
    db.execute("DROP TRIGGER journal_sans_modification")
    db.execute("DROP TRIGGER journal_sans_suppression")
    db.execute(sql)
    db.close()
    return copy


def test_lines_name_the_client_and_the_chain_holds(store):
    log = store.journal()
    assert set(log["adresse"]) == {"203.0.113.7"} and set(log["agent"]) == {"Navigateur de test"}
    check = verify_journal(store.path, key=KEY)
    assert check.ok and check.lines == 6 and check.head == store.journal_head()[1]


def test_the_triggers_still_refuse_changes(store):
    with sqlite3.connect(store.path) as db, pytest.raises(sqlite3.DatabaseError, match="ajout seul"):
        db.execute("DELETE FROM journal WHERE id = 2")


@pytest.mark.parametrize(
    ("sql", "broken"),
    [
        ("DELETE FROM journal WHERE id = 3", 4),
        ("UPDATE journal SET objet = 'autre.csv' WHERE id = 2", 2),
        ("UPDATE journal SET qui = 'quelquun@ailleurs' WHERE id = 5", 5),
    ],
)
def test_a_deleted_or_altered_line_is_found(store, tmp_path, sql, broken):
    copy = _tampered(store, tmp_path, sql)
    check = verify_journal(copy, key=KEY)
    assert not check.ok and check.first_broken == broken


def test_a_line_forged_without_the_key_is_found(store, tmp_path):
    copy = tmp_path / "copie.sqlite"
    shutil.copy(store.path, copy)
    db = sqlite3.connect(copy, isolation_level=None)
    previous = db.execute("SELECT chaine FROM journal WHERE id = 6").fetchone()[0]
    content = [7, "2026-01-01T00:00:00", "x", "analyste", "export", "", "", "fait", "", ""]
    forged = chain_value(previous, content, b"une autre cle")
    db.execute(
        "INSERT INTO journal (id, quand, qui, role, action, objet, details, etat, adresse, agent, chaine) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (*content, forged),
    )
    db.close()
    assert verify_journal(copy, key=KEY).first_broken == 7


def test_a_cut_tail_is_found_against_an_earlier_head(store, tmp_path):
    head = store.journal_head()[1]
    copy = _tampered(store, tmp_path, "DELETE FROM journal WHERE id >= 5")
    assert verify_journal(copy, key=KEY).ok  # a shorter chain is still a chain…
    check = verify_journal(copy, key=KEY, expected_head=head)
    assert not check.ok and "coupée" in check.reason  # …but not the one noted
    assert verify_journal(store.path, key=KEY, expected_head=head).ok


def test_concurrent_writers_never_fork_the_chain(store):
    def write(n: int) -> None:
        for i in range(40):
            store.log(ADMIN_VIEWER, "export", f"t{n}-{i}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check = verify_journal(store.path, key=KEY)
    assert check.ok and check.lines == 6 + 120


def test_the_command_says_whether_the_chain_holds(store, tmp_path, capsys, monkeypatch):
    assert audit_main(["verify", "--base", str(store.path)]) == 0
    assert "Chaîne intacte" in capsys.readouterr().out
    copy = _tampered(store, tmp_path, "DELETE FROM journal WHERE id = 2")
    assert audit_main(["verify", "--base", str(copy)]) == 1
    assert "ligne 3" in capsys.readouterr().err
    assert audit_main(["verify", "--base", str(tmp_path / "absente.sqlite")]) == 2


def test_the_database_is_private(tmp_path):
    s = AccessStore(tmp_path / "espace" / "acces.sqlite")
    s.log(ADMIN_VIEWER, "export", "x")
    assert s.path.stat().st_mode & 0o777 == 0o600
    assert s.path.parent.stat().st_mode & 0o777 == 0o700
    for side in s.path.parent.glob("acces.sqlite-*"):  # the WAL and its index
        assert side.stat().st_mode & 0o077 == 0, side


def test_refusals_are_audited(store):
    store.refused(Viewer(role=ANALYST, identity="a@b.test"), "suppression", "jeu-72", "hors territoire")
    last = store.journal(limit=1).iloc[0]
    assert (last["etat"], last["action"], last["objet"]) == ("refus", "suppression", "jeu-72")


# -- sign-in records ----------------------------------------------------------------------
def _claims(iat: float, nonce: str = "n1") -> dict:
    return {"iss": "http://idp", "sub": "analyste", "iat": iat, "nonce": nonce}


def test_a_sign_in_opens_once_from_a_fresh_token_and_closes_for_good(store):
    now = time.time()
    key = sign_in_key(_claims(now))
    assert (
        store.open_sign_in(key, "a@b.test", issued_at=now, expires_at=now + 3600, max_hours=8) == "nouvelle"
    )
    assert store.open_sign_in(key, "a@b.test", issued_at=now, expires_at=now + 3600, max_hours=8) == "ouverte"
    store.close_sign_in(key, "déconnexion")
    assert (
        store.open_sign_in(key, "a@b.test", issued_at=now, expires_at=now + 3600, max_hours=8)
        == "fermée (déconnexion)"
    )
    assert store.sign_in_state(key).startswith("fermée")


def test_a_stale_or_expired_token_opens_nothing(store):
    old = time.time() - FRESH_SIGN_IN_SECONDS - 5
    assert (
        store.open_sign_in(sign_in_key(_claims(old)), "a", issued_at=old, expires_at=None, max_hours=8)
        == "périmée"
    )
    now = time.time()
    assert (
        store.open_sign_in(
            sign_in_key(_claims(now, "n2")), "a", issued_at=now, expires_at=now - 1, max_hours=8
        )
        == "périmée"
    )


def test_maximum_age_and_withdrawal_close_the_sign_in(store):
    now = time.time()
    signed = now - 100  # a fresh token (under five minutes) from a sign-in past a 36-second maximum
    key = sign_in_key(_claims(signed, "n3"))
    assert (
        store.open_sign_in(key, "a@b.test", issued_at=signed, expires_at=None, max_hours=0.01)
        == "fermée (durée maximale)"
    )
    person = store.save_person(by=ADMIN_VIEWER, role=ANALYST, territory="53", email="c@d.test")
    key2 = sign_in_key({"iss": "i", "sub": "c", "iat": now, "nonce": "n4"})
    store.open_sign_in(key2, "c@d.test", issued_at=now, expires_at=None, max_hours=8)
    store.remove_person(person.id, by=ADMIN_VIEWER)
    assert store.sign_in_state(key2) == "fermée (accès retiré)"


def test_two_sign_ins_of_one_person_have_two_keys():
    assert sign_in_key(_claims(1.0, "a")) != sign_in_key(_claims(1.0, "b"))
    assert sign_in_key(_claims(1.0, "a")) != sign_in_key(_claims(2.0, "a"))
