"""The server mode attacked from a raw websocket client (no browser): one test per finding.

Each test signs in through the real test OpenID provider (or stays anonymous), sends what an
attacker would send (crafted widget states, another session's file id, a replayed cookie,
``clear_cache``, upload requests) and reads what the server answers and what it wrote, in the
test's own workspace (``tmp_path_factory``), never anywhere else.
"""

from __future__ import annotations

import socket
import sqlite3
import time

import httpx
import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import FileURLsRequest

from data.access import AccessStore
from data.store import DatasetStore
from tests.e2e.helpers import ROOT
from tests.e2e.oidc import ACCOUNTS
from tests.security.client import RawSession, session_as, sign_in_cookies
from tests.security.conftest import OTHER_DEP_NAME

pytestmark = pytest.mark.e2e


def journal(ws) -> list[dict]:
    log = AccessStore(ws / "acces.sqlite").journal()
    return log.to_dict("records")


def refusals(ws, action: str) -> list[dict]:
    return [r for r in journal(ws) if r["etat"] == "refus" and r["action"] == action]


def sent_bytes(run) -> bytes:
    return b"".join(m.SerializeToString() for m in run.messages)


# -- 1. another département's data set on the Données page -----------------------------------
@pytest.mark.parametrize("account", ["analyste", "prefet"])
def test_donnees_sends_nothing_of_another_departement(attacked, account):
    base, _ws, slug = attacked
    with session_as(base, account) as s:
        run = s.rerun(page="donnees")
        wire = sent_bytes(run)
        assert "Données".encode() in wire  # the page did run
        assert OTHER_DEP_NAME.encode() not in wire
        assert slug.encode() not in wire
        assert b"VOL SARTHE CONFIDENTIEL" not in wire


# -- 2. delete and re-classify it with crafted widget states ----------------------------------
def test_reclassification_of_own_data_set_is_audited(attacked):
    base, ws, _ = attacked
    with session_as(base, "analyste") as s:
        run = s.rerun(page="donnees")
        s.click(run.widget("button", "Reclasser le jeu"))
    lines = [r for r in journal(ws) if r["action"] == "reclassement"]
    assert [r["etat"] for r in lines][:2] == ["fait", "intention"]  # newest first
    assert lines[0]["qui"] == ACCOUNTS["analyste"]["email"]


def test_crafted_deletion_and_reclassification_of_another_departement_are_refused(attacked):
    """Runs after the tests that need the Mayenne's data set: a crafted value that the server
    does not offer falls back to the first option, which the click then deletes."""
    base, ws, slug = attacked
    store = DatasetStore(ws / "datasets")
    version = store.info(slug).imported_at
    with session_as(base, "analyste") as s:
        run = s.rerun(page="donnees")
        if run.has("selectbox", "Supprimer un jeu"):
            s.set(run.widget("selectbox", "Supprimer un jeu"), string_value=OTHER_DEP_NAME)
            s.set(run.widget("checkbox", "Je confirme la suppression"), bool_value=True)
            run = s.rerun()
            s.click(run.widget("button", "Supprimer"))
        run = s.rerun()
        if run.has("selectbox", "Jeu"):
            for el in run.elements:
                if el.kind == "selectbox" and el.label == "Jeu":
                    s.set(el, string_value=OTHER_DEP_NAME)
            run = s.rerun()
            if run.has("button", "Reclasser le jeu"):
                s.click(run.widget("button", "Reclasser le jeu"))
    assert store.exists(slug)
    assert store.info(slug).imported_at == version  # not re-classified (a new version) either
    assert "reclasse_le" not in store.info(slug).extra


# -- 3 and 4. another session's deferred export; /media/ without a cookie ----------------------
def _mayor_pdf(s: RawSession):
    run = s.rerun(page="ma_commune")
    button = run.widget("download_button", "Fiche de la commune (PDF)")
    return button.proto.deferred_file_id


def test_another_sessions_deferred_file_is_not_produced(attacked):
    base, ws, _ = attacked
    with session_as(base, "maire") as mayor, RawSession(base) as anonymous:
        file_id = _mayor_pdf(mayor)
        assert file_id
        anonymous.rerun(page="")
        answer = anonymous.deferred_file(file_id)
        assert answer is not None
        assert not answer.backend_operation_response.deferred_file.url
        assert answer.backend_operation_response.error_msg
        # The owner's own request works, and its audit line names the mayor.
        own = mayor.deferred_file(file_id)
        assert own.backend_operation_response.deferred_file.url.startswith("/media/")
    lines = [r for r in journal(ws) if r["objet"].startswith("fiche_")]
    assert lines and all(r["qui"] == ACCOUNTS["maire"]["email"] for r in lines if r["etat"] == "fait")
    assert refusals(ws, "téléchargement")


def test_media_is_served_only_to_the_sign_in_it_was_made_for(attacked):
    base, _ws, _ = attacked
    other = sign_in_cookies(base, "referent")
    with session_as(base, "maire") as mayor:
        url = mayor.deferred_file(_mayor_pdf(mayor)).backend_operation_response.deferred_file.url
        assert httpx.get(base + url).status_code == 403  # no cookie at all
        assert httpx.get(base + url, cookies=other).status_code == 403  # someone else, signed in
        mine = httpx.get(base + url, cookies=mayor.cookies)  # while the owner's session lives
        assert mine.status_code == 200 and mine.content.startswith(b"%PDF")


# -- 5. export after the access was withdrawn, or after the maximum age ----------------------
def test_export_after_withdrawal_or_maximum_age_is_refused(attacked):
    base, ws, _ = attacked
    store = AccessStore(ws / "acces.sqlite")
    with session_as(base, "analyste") as s:
        run = s.rerun(page="diagnostic")
        file_id = run.widget("download_button", "(CSV)").proto.deferred_file_id
        admin = next(p for p in store.people() if p.role == "administrateur").viewer()
        person = next(p for p in store.people() if p.email == ACCOUNTS["analyste"]["email"])
        store.remove_person(person.id, by=admin)
        try:
            answer = s.deferred_file(file_id)
            assert not answer.backend_operation_response.deferred_file.url
        finally:
            store.save_person(by=admin, role="analyste", territory="53", email=ACCOUNTS["analyste"]["email"])
    assert any("retiré" in r["details"] for r in refusals(ws, "export"))
    # The maximum age: the record of a sign-in past it is closed; its drawn buttons make nothing.
    with session_as(base, "analyste") as s:
        run = s.rerun(page="diagnostic")
        file_id = run.widget("download_button", "(CSV)").proto.deferred_file_id
        with sqlite3.connect(ws / "acces.sqlite") as db:
            db.execute("UPDATE connexions SET expire_le = ? WHERE fermee_le IS NULL", (time.time() - 1,))
        answer = s.deferred_file(file_id)
        assert not answer.backend_operation_response.deferred_file.url


# -- 6. the sign-in cookie replayed after « Se déconnecter » and after /auth/logout -----------
def _signed_in_as(base: str, cookies, email: str) -> bool:
    with RawSession(base, cookies) as s:
        texts = s.rerun(page="").texts().replace("\\", "")
    return f"Connecté : {email}" in texts


def test_cookie_replayed_after_sign_out_opens_nothing(attacked):
    base, _ws, _ = attacked
    email = ACCOUNTS["analyste"]["email"]
    cookies = sign_in_cookies(base, "analyste")
    assert _signed_in_as(base, cookies, email)
    with RawSession(base, cookies) as s:
        run = s.rerun(page="")
        s.click(run.widget("button", "Se déconnecter"))
    assert not _signed_in_as(base, cookies, email)
    # Through Streamlit's own route: the browser forgets the cookie; a copy of it opens nothing.
    cookies = sign_in_cookies(base, "analyste")
    assert _signed_in_as(base, cookies, email)
    httpx.get(base + "/auth/logout", cookies=cookies, follow_redirects=False)
    assert not _signed_in_as(base, cookies, email)


# -- 7. clear_cache from an anonymous socket -------------------------------------------------
def test_clear_cache_from_anyone_is_dropped_and_audited(attacked):
    base, ws, _ = attacked
    with RawSession(base) as s:
        s.rerun(page="")
        s.backmsg_and_wait(BackMsg(clear_cache=True), 2)
    assert refusals(ws, "vider les caches")


# -- 8. upload URLs on a page without an uploader, and an upload to a made-up URL --------------
def test_uploads_only_where_the_page_takes_files(attacked):
    base, ws, _ = attacked
    with RawSession(base) as s:
        s.rerun(page="")
        got = s.backmsg_and_wait(
            BackMsg(file_urls_request=FileURLsRequest(request_id="x", file_names=["a.csv"])), 3
        )
        assert not [m for m in got if m.WhichOneof("type") == "file_urls_response"]
        put = httpx.put(
            f"{base}/_stcore/upload_file/{s.session_id}/0b6f2c1e-0000-4000-8000-000000000000",
            files={"file": ("a.csv", b"x" * 1_000_000)},
            headers={"X-Xsrftoken": s.cookies.get("_streamlit_xsrf")},
            cookies=s.cookies,
        )
        assert put.status_code == 403
    assert refusals(ws, "envoi de fichier")
    # Where the page does take files (the analyst's Données), the front end's flow works.
    with session_as(base, "analyste") as s:
        s.rerun(page="donnees")
        got = s.backmsg_and_wait(
            BackMsg(file_urls_request=FileURLsRequest(request_id="y", file_names=["a.csv"])), 3
        )
        urls = [m for m in got if m.WhichOneof("type") == "file_urls_response"]
        assert urls
        info = urls[0].file_urls_response.file_urls[0]
        put = httpx.put(
            base + info.upload_url,
            files={"file": ("a.csv", b"date;infraction\n")},
            headers={"X-Xsrftoken": s.cookies.get("_streamlit_xsrf")},
            cookies=s.cookies,
        )
        assert put.status_code == 204


def test_upload_limit_is_200_mb():
    text = (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    assert "maxUploadSize = 200" in text


def test_an_oversized_upload_is_refused_before_its_body(attacked):
    base, _ws, _ = attacked
    with session_as(base, "analyste") as s:
        s.rerun(page="donnees")
        got = s.backmsg_and_wait(
            BackMsg(file_urls_request=FileURLsRequest(request_id="z", file_names=["big.csv"])), 3
        )
        info = next(
            m for m in got if m.WhichOneof("type") == "file_urls_response"
        ).file_urls_response.file_urls[0]
        # Only the headers are sent: a 201 MB body is announced, never written.
        host, port = base.removeprefix("http://").split(":")
        cookie = "; ".join(f"{c.name}={c.value}" for c in s.cookies.jar)
        request = (
            f"PUT {info.upload_url} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
            f"X-Xsrftoken: {s.cookies.get('_streamlit_xsrf')}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            f"Content-Length: {201 * 1024 * 1024}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", int(port)), timeout=30) as sock:
            sock.sendall(request.encode("latin-1"))
            status = sock.recv(4096).split(b"\r\n", 1)[0]
        assert b" 413 " in status


# -- 12. HTTP hardening ----------------------------------------------------------------------
def test_http_headers_metrics_and_new_session(attacked):
    base, _ws, _ = attacked
    page = httpx.get(base + "/")
    csp = page.headers.get("content-security-policy", "")
    assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
    assert page.headers.get("x-content-type-options") == "nosniff"
    assert page.headers.get("referrer-policy") == "same-origin"
    assert httpx.get(base + "/_stcore/metrics").status_code == 404
    with RawSession(base) as s:
        run = s.rerun(page="")
    import streamlit

    new = run.of("new_session")[0].SerializeToString()
    assert str(ROOT).encode() not in new
    assert streamlit.__version__.encode() not in new
    assert run.of("new_session")[0].new_session.main_script_path  # replaced, not blanked


def test_no_secrets_file_is_written(attacked):
    base, ws, _ = attacked
    import tempfile
    from pathlib import Path

    from tests.security.conftest import STARTED

    written = [
        p
        for p in Path(tempfile.gettempdir()).glob("delinquance-auth-*/secrets.toml")
        if p.stat().st_mtime >= STARTED
    ]
    assert not written
    mode = (ws / "acces.sqlite").stat().st_mode & 0o777
    assert mode == 0o600


# -- 10. audit completeness: refused page openings, client address and agent --------------------
def test_a_refused_page_opening_is_audited_with_the_client(attacked):
    base, ws, _ = attacked
    with session_as(base, "referent") as s:
        run = s.rerun(page="france")
        assert run.of("page_not_found")  # not in the référent's navigation: Streamlit says so
        assert "France" not in [e.label for e in run.elements]
    lines = [r for r in refusals(ws, "ouverture de page") if r["objet"] == "france"]
    assert lines and lines[0]["qui"] == ACCOUNTS["referent"]["email"]
    assert lines[0]["adresse"] == "127.0.0.1" and "websockets" in lines[0]["agent"].lower()
