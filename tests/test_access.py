"""Roles, pages and capabilities (core.access) and the access database (data.access)."""

from __future__ import annotations

import sqlite3

import pytest

from core import access as a
from core.privacy import View
from data.access import DONE, FAILED, INTENT, AccessError, AccessStore

ADMIN = a.Viewer(role=a.ADMIN, identity="admin@prefecture.fr")


def test_pages_and_capabilities_by_role():
    mayor = a.Viewer(role=a.MAYOR, identity="maire@commune.fr", departements=("53",), communes=("53130",))
    assert mayor.pages == (a.MA_COMMUNE,)
    assert not mayor.may_open(a.DONNEES) and not mayor.may_open(a.VIDEO)
    assert mayor.may_see_departement("53") and not mayor.may_see_departement("72")
    referent = a.Viewer(role=a.REFERENT, identity="r", departements=("53",))
    assert referent.may_open(a.VIDEO) and not referent.may_open(a.SUIVI) and not referent.can(a.IMPORT)
    assert referent.can(a.PUBLISH_PROPOSAL)
    prefet = a.Viewer(role=a.PREFET, identity="p", departements=("53",))
    assert prefet.may_open(a.DONNEES) and not prefet.can(a.IMPORT) and prefet.can(a.REPORT)
    public = a.Viewer.anonymous()
    assert public.pages == (a.DIAGNOSTIC, a.SUIVI) and not public.can(a.EXPORT)
    local = a.Viewer.local_analyst()
    assert local.may_see_departement("976") and local.can(a.IMPORT) and not local.may_open(a.ADMINISTRATION)


@pytest.mark.parametrize("role", [a.REFERENT, a.PREFET, a.MAYOR, a.PUBLIC])
def test_only_analysts_get_the_internal_view(role):
    viewer = a.Viewer(role=role, identity="x")
    assert viewer.audience(internal_requested=True).view == View.PUBLISHED


@pytest.mark.parametrize("role", [a.ANALYST, a.ADMIN])
def test_analysts_get_it_when_they_ask(role):
    viewer = a.Viewer(role=role, identity="x")
    assert viewer.audience(internal_requested=True).view == View.INTERNAL
    assert viewer.audience().view == View.PUBLISHED


def test_departement_of_commune():
    assert a.departement_of_commune("53130") == "53"
    assert a.departement_of_commune("2A004") == "2A"
    assert a.departement_of_commune("97411") == "974"


def test_people_roles_and_identity_matching(tmp_path):
    store = AccessStore(tmp_path / "acces.sqlite")
    store.bootstrap_admins(("Admin@Prefecture.fr",))
    store.bootstrap_admins(("admin@prefecture.fr",))  # idempotent
    assert [p.role for p in store.people()] == [a.ADMIN]
    mayor = store.save_person(
        by=ADMIN, role=a.MAYOR, territory="53130, 53001", email="maire@laval.fr", name="Maire"
    )
    assert mayor.viewer().communes == ("53130", "53001") and mayor.viewer().departements == ("53",)
    # An unverified e-mail does not match; (issuer, subject) does.
    assert (
        store.person_for_identity(email="maire@laval.fr", email_verified=False, issuer="i", subject="s")
        is None
    )
    assert (
        store.person_for_identity(email="MAIRE@laval.fr", email_verified=True, issuer=None, subject=None).id
        == mayor.id
    )
    by_sub = store.save_person(by=ADMIN, role=a.REFERENT, territory="53", issuer="https://idp", subject="abc")
    assert (
        store.person_for_identity(
            email="other@x.fr", email_verified=False, issuer="https://idp", subject="abc"
        ).id
        == by_sub.id
    )
    # A role change applies to the same row.
    store.save_person(by=ADMIN, role=a.ANALYST, territory="53,72", email="maire@laval.fr")
    again = store.person_for_identity(email="maire@laval.fr", email_verified=True, issuer=None, subject=None)
    assert again.role == a.ANALYST and again.territory == ("53", "72") and again.id == mayor.id
    store.remove_person(again.id, by=ADMIN)
    assert (
        store.person_for_identity(email="maire@laval.fr", email_verified=True, issuer=None, subject=None)
        is None
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "chef", "territory": "53", "email": "x@y.fr"}, "Rôle inconnu"),
        ({"role": a.ANALYST, "territory": "53"}, "adresse électronique"),
        ({"role": a.ANALYST, "territory": "53", "email": "pas une adresse"}, "invalide"),
        ({"role": a.ANALYST, "territory": "", "email": "x@y.fr"}, "territoire"),
        ({"role": a.MAYOR, "territory": "53", "email": "x@y.fr"}, "codes de commune"),
        ({"role": a.PREFET, "territory": "53130", "email": "x@y.fr"}, "codes de département"),
    ],
)
def test_bad_people_are_refused_in_french(tmp_path, kwargs, message):
    store = AccessStore(tmp_path / "acces.sqlite")
    with pytest.raises(AccessError, match=message):
        store.save_person(by=ADMIN, **kwargs)


def test_audit_log_is_append_only_and_logs_intent_then_outcome(tmp_path):
    store = AccessStore(tmp_path / "acces.sqlite")
    with store.audited(ADMIN, "import", "jeu.csv", {"lignes": 10}):
        pass
    with pytest.raises(RuntimeError), store.audited(ADMIN, "suppression", "jeu"):
        raise RuntimeError("disque plein")
    log = store.journal()
    assert log["etat"].tolist() == [FAILED, INTENT, DONE, INTENT]
    assert "disque plein" in log.iloc[0]["details"]
    db = sqlite3.connect(tmp_path / "acces.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="ajout seul"):
        db.execute("DELETE FROM journal")
    with pytest.raises(sqlite3.IntegrityError, match="ajout seul"):
        db.execute("UPDATE journal SET qui = 'x'")


def test_a_write_that_fails_to_log_does_not_happen(tmp_path):
    store = AccessStore(tmp_path / "acces.sqlite")
    store.path = tmp_path / "absent" / "dir" / "acces.sqlite"  # unwritable: cannot even open
    done = []
    with pytest.raises(AccessError, match="journal d'audit"), store.audited(ADMIN, "import", "x"):
        done.append(1)
    assert done == []


def test_proposals_are_published_per_commune_and_audited(tmp_path):
    store = AccessStore(tmp_path / "acces.sqlite")
    referent = a.Viewer(role=a.REFERENT, identity="referent@gendarmerie.fr")
    store.publish_proposal(
        by=referent,
        communes=["53130", "53062"],
        title="Vidéoprotection — centre",
        parameters=[("Rayon", "150 m")],
        sheet_pdf=b"%PDF-1.4 test",
    )
    laval = store.proposals("53130")
    assert len(laval) == 1 and laval.iloc[0]["auteur"] == "referent@gendarmerie.fr"
    assert store.proposal_sheet(int(laval.iloc[0]["id"]), "53130") == b"%PDF-1.4 test"
    with pytest.raises(AccessError, match="introuvable"):
        store.proposal_sheet(int(laval.iloc[0]["id"]), "53001")  # another commune's mayor
    assert store.proposals("53001").empty
    assert ("referent@gendarmerie.fr", "proposition publiée", DONE) in set(
        zip(*[store.journal()[c] for c in ("qui", "action", "etat")], strict=True)
    )
    with pytest.raises(AccessError, match="au moins une commune"):
        store.publish_proposal(by=referent, communes=[], title="x", parameters=[], sheet_pdf=b"")


def test_first_runs_coming_together_bootstrap_the_administrator_once(tmp_path):
    """A fresh server's first sessions all bootstrap the configured administrators at once."""
    import threading

    for attempt in range(10):  # the race is between a look-up and a write: give it chances
        path = tmp_path / f"acces-{attempt}.sqlite"
        AccessStore(path)  # the schema exists, nobody in it
        barrier, errors = threading.Barrier(8), []

        def first_run(path=path, barrier=barrier, errors=errors) -> None:
            store = AccessStore(path)
            barrier.wait()
            try:
                store.bootstrap_admins(("Admin@Prefecture.gouv.fr", "second@prefecture.gouv.fr"))
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

        threads = [threading.Thread(target=first_run) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        people = AccessStore(path).people()
        assert sorted((p.email, p.role) for p in people) == [
            ("admin@prefecture.gouv.fr", a.ADMIN),
            ("second@prefecture.gouv.fr", a.ADMIN),
        ]
