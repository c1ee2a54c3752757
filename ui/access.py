"""Who is looking, decided by the server on every run: mode, sign-in, role, page guard.

- « Poste local » (``make run``): no sign-in, the one analyst; the app refuses to serve when it
  listens on anything but the loopback address.
- « Serveur »: Streamlit's ``st.login`` (OpenID Connect, Authlib). Every run checks the
  server-side record of the sign-in (:meth:`data.access.AccessStore.open_sign_in`), keyed by
  the ID token's issuer, subject, issue time and nonce read from ``st.user``: it is opened only
  from a fresh ID token, and « Se déconnecter », the withdrawal of the person's access and the
  maximum age (``SETTINGS.session_max_hours``) close it for good, so a replayed sign-in cookie
  opens nothing. The record replaces the ID token's ``exp`` for the length of the session: the
  token is checked unexpired when the record opens (it proves that sign-in), and Streamlit
  never refreshes it, so holding sessions to its hour would sign everyone out every hour.
  The person is looked up in the access database on every run (a role change applies at
  once), and a failed, cancelled or ended sign-in is said in French (Streamlit only logs it: a
  short-lived cookie set before leaving tells the page that a sign-in was under way).
- Downloads: :func:`export_button` captures who drew the button; when the file is made (in a
  thread without script context, see :mod:`ui.downloads`) that person is read again, with
  their sign-in record, role and territory, and the file is refused if anything changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import streamlit as st

from core.access import EXPORT, PUBLIC, REPORT, ROLE_LABELS, SERVER, Viewer
from core.escape import markdown_text
from core.settings import SETTINGS
from data.access import AUDIT_ORIGIN, AccessError, AccessStore, sign_in_key
from ui.sessions import REGISTRY, script_session_id

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PENDING_COOKIE = "delinq_connexion"
LOGOUT_COOKIE = "delinq_deconnexion"


class AccessRefusedError(Exception):
    """Raised to stop a page the viewer may not use (the message is already on screen)."""


_STORE_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _opened_store(path: str) -> AccessStore:
    store = AccessStore(Path(path))
    store.bootstrap_admins(SETTINGS.admins)
    return store


def _store(path: str) -> AccessStore:
    """The store at ``path``, opened and bootstrapped once (the first runs of a fresh server
    come together: one of them opens it, the others wait)."""
    with _STORE_LOCK:
        return _opened_store(path)


def access_store() -> AccessStore:
    """The access database of this server (created, first administrators added, once)."""
    return _store(str(SETTINGS.access_db_path))


def server_mode() -> bool:
    """True in the « Serveur » mode."""
    return SETTINGS.mode == SERVER


def _set_cookie(name: str, value: str, max_age: int) -> None:
    """Set (or, with ``max_age=0``, clear) a cookie of the app's origin from the browser."""
    # Fixed text only (names and values are constants of this module): never user content.
    # A document of its own (axe-core checks each frame: title and language).
    st.iframe(
        '<!doctype html><html lang="fr"><head><title>Session</title></head><body>'
        f"<script>document.cookie = '{name}={value}; path=/; max-age={max_age}; SameSite=Lax';</script>"
        "</body></html>",
        height=1,
    )


def _user_claims() -> dict:
    try:
        return {
            k: st.user.get(k)
            for k in ("email", "email_verified", "iss", "sub", "name", "iat", "exp", "nonce")
        }
    except Exception:  # noqa: BLE001 - no auth configured (local mode): nobody is signed in
        return {}


def _signed_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except Exception:  # noqa: BLE001
        return False


@dataclass(frozen=True)
class SignIn:
    """Who signed in on this session, as the script run saw it: the sign-in record's key and the
    claims that find the person again (for a download made later, outside the run)."""

    key: str
    email: str | None
    email_verified: bool
    issuer: str | None
    subject: str | None

    def person(self, store: AccessStore):
        """The person of this sign-in as the access database says now (None: no access)."""
        return store.person_for_identity(
            email=self.email, email_verified=self.email_verified, issuer=self.issuer, subject=self.subject
        )


def _bind_origin() -> str | None:
    """This run's session id; the audit lines of the run get its client address and agent.

    The socket's record is written when the server's first message of the session goes out;
    the first run may start before (its script thread races the event loop): the address and
    agent are then read from the request Streamlit keeps for the session, the same way."""
    sid = script_session_id()
    info = REGISTRY.find(sid) if sid else None
    origin = (info.address, info.agent) if info and info.address else _origin_from_context()
    AUDIT_ORIGIN.set(origin)
    if sid and info is not None and not info.address and origin[0]:
        REGISTRY.connected(sid, *origin)
    return sid


def _origin_from_context() -> tuple[str, str]:
    """The client's address (the configured proxy header's first entry, else the peer) and
    user agent, from the session's request; empty when there is none (a test harness)."""
    try:
        headers = st.context.headers
        address = ""
        if SETTINGS.client_address_header:
            forwarded = headers.get(SETTINGS.client_address_header) or ""
            address = forwarded.split(",")[0].strip()[:64]
        if not address:  # (st.context.ip_address hides 127.0.0.1: the peer as the socket has it)
            from streamlit.runtime.context import _get_client_context

            address = str(getattr(_get_client_context(), "remote_ip", "") or "")
        return address, (headers.get("User-Agent") or "")[:300]
    except Exception:  # noqa: BLE001 - no request behind this run
        return "", ""


def _refuse_sign_in(message: str, button: str, key: str) -> None:
    st.warning(message)
    if st.button(button, type="primary", key=key):
        st.logout()
    raise AccessRefusedError


def current_viewer() -> Viewer:
    """The viewer of this run (server mode: re-read from the access database every time).

    Raises
    ------
    AccessRefusedError
        Local mode on a non-loopback address, a closed, expired or replayed sign-in, or a
        signed-in person without access: the page shows why and stops.
    """
    sid = _bind_origin()
    if not server_mode():
        address = st.get_option("server.address")
        if address not in LOOPBACK:  # None: every interface
            st.error(
                f"Mode « poste local » : l'application écoute sur {markdown_text(address or 'toutes les interfaces')}, visible depuis le "
                "réseau, sans connexion. Lancez-la avec `make run` (127.0.0.1 seulement) ou passez au mode "
                "« serveur » (connexion obligatoire, voir le README)."
            )
            raise AccessRefusedError
        viewer = Viewer.local_analyst()
        if sid:
            REGISTRY.signed_in(sid, sign_in="", identity=viewer.identity, role=viewer.role)
        return viewer
    if not _signed_in():
        if sid:
            REGISTRY.signed_in(sid, sign_in="", identity="public", role=PUBLIC)
        return Viewer.anonymous()
    claims = _user_claims()
    sign_in = _sign_in_from_claims(claims)
    store = access_store()
    who = claims.get("email") or claims.get("sub") or "?"
    iat = float(claims.get("iat") or 0)
    exp = claims.get("exp")
    state = store.open_sign_in(
        sign_in.key,
        str(who),
        issued_at=iat,
        expires_at=float(exp) if exp else None,
        max_hours=SETTINGS.session_max_hours,
    )
    if state not in ("nouvelle", "ouverte"):
        if st.session_state.get("_acc_refused_signin") != sign_in.key:
            st.session_state["_acc_refused_signin"] = sign_in.key
            store.refused(Viewer(role=PUBLIC, identity=str(who)), "connexion", str(who), f"connexion {state}")
        if "durée maximale" in state:
            _refuse_sign_in(
                f"Votre session a plus de {SETTINGS.session_max_hours:g} heures : reconnectez-vous pour continuer.",
                "Se reconnecter",
                "acc_relogin",
            )
        _refuse_sign_in(
            "Cette connexion a été fermée (déconnexion, accès retiré ou connexion trop ancienne) : "
            "reconnectez-vous pour continuer.",
            "Se reconnecter",
            "acc_relogin",
        )
    person = sign_in.person(store)
    if person is None:
        if st.session_state.get("_acc_refused") != sign_in.key:
            st.session_state["_acc_refused"] = sign_in.key
            store.refused(Viewer(role=PUBLIC, identity=str(who)), "connexion", str(who), "personne inconnue")
        st.error(
            f"Vous êtes connecté en tant que {markdown_text(who)}, mais ce compte n'a pas d'accès à "
            "l'application. Demandez-le à l'administrateur de la préfecture (il vous ajoutera avec votre "
            "rôle et votre territoire)."
        )
        if st.button("Se déconnecter", key="acc_logout_unknown"):
            store.close_sign_in(sign_in.key, "déconnexion")
            st.logout()
        raise AccessRefusedError
    viewer = person.viewer()
    if sid:
        REGISTRY.signed_in(sid, sign_in=sign_in.key, identity=viewer.identity, role=viewer.role)
    st.session_state["_acc_sign_in"] = sign_in
    if state == "nouvelle":
        store.log(viewer, "connexion", viewer.identity, {"role": viewer.role})
        _set_cookie(PENDING_COOKIE, "", 0)
    return viewer


def _sign_in_from_claims(claims: dict) -> SignIn:
    return SignIn(
        key=sign_in_key(claims),
        email=claims.get("email"),
        email_verified=bool(claims.get("email_verified")),
        issuer=claims.get("iss"),
        subject=claims.get("sub"),
    )


def viewer_now(sign_in: SignIn | None, drawn_for: Viewer) -> Viewer:
    """The person behind a sign-in as the access database says now (outside a script run).

    Local mode (``sign_in`` None): the one analyst, unchanged.

    Raises
    ------
    AccessError
        The sign-in is closed or expired, or the person's access was withdrawn (French).
    """
    if not server_mode() or sign_in is None:
        if server_mode() and drawn_for.role != PUBLIC:
            raise AccessError("Connexion inconnue : rechargez la page et reconnectez-vous.")
        return drawn_for
    store = access_store()
    state = store.sign_in_state(sign_in.key)
    if state != "ouverte":
        raise AccessError(
            f"Votre connexion n'est plus valable ({state}) : reconnectez-vous, puis recommencez."
        )
    person = sign_in.person(store)
    if person is None:
        raise AccessError("Votre accès à l'application a été retiré : le fichier n'a pas été produit.")
    return person.viewer()


def audited(viewer: Viewer, action: str, objet: str = "", details: dict | str = ""):
    """The audit context of a write (see :meth:`data.access.AccessStore.audited`): the intent is
    logged first, and the write does not happen if that fails."""
    return access_store().audited(viewer, action, objet, details)


def guard_page(page: str) -> Viewer:
    """Refuse to run a page the viewer may not use (a direct URL included).

    Raises
    ------
    AccessRefusedError
        With the reason on screen.
    """
    viewer = current_viewer()
    if not viewer.may_open(page):
        if server_mode():
            access_store().refused(viewer, "ouverture de page", page, f"rôle « {viewer.role} »")
        if viewer.role == PUBLIC and server_mode():
            st.info("Cette page demande une connexion.")
            sign_in_button()
        else:
            st.error(
                f"Accès refusé : le rôle « {ROLE_LABELS.get(viewer.role, viewer.role)} » ne donne pas accès à cette "
                "page. Demandez à l'administrateur si vous en avez besoin."
            )
        raise AccessRefusedError
    return viewer


def intended_page() -> str:
    """The page the browser asked for on this run (its URL path), before the navigation decides."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    return (ctx.pages_manager.intended_page_name or "") if ctx is not None else ""


def refuse_unlisted_page(viewer: Viewer, *, asked: str, known: set[str], allowed: set[str]) -> None:
    """Audit the opening of a page left out of this viewer's navigation (a direct URL): Streamlit
    answers « page introuvable » and runs the first allowed page; the attempt is in the log."""
    if server_mode() and asked in known and asked not in allowed:
        access_store().refused(viewer, "ouverture de page", asked, f"rôle « {viewer.role} »")


def sign_in_button(key: str = "acc_login") -> None:
    """« Se connecter »: remember that a sign-in is under way, then go to the provider."""
    if st.button("Se connecter", type="primary", key=key):
        _set_cookie(PENDING_COOKIE, "1", 900)
        time.sleep(0.8)  # the cookie is set by the browser before it leaves for the provider
        st.login()


def sign_in_page() -> None:
    """The page of a visitor who is not signed in (server mode)."""
    st.title("Cartographie de la délinquance — connexion")
    cookies = st.context.cookies
    if cookies.get(LOGOUT_COOKIE):
        st.success("Vous êtes déconnecté.")
        _set_cookie(LOGOUT_COOKIE, "", 0)
    elif cookies.get(PENDING_COOKIE):
        st.error(
            "La connexion n'a pas abouti : elle a été annulée ou refusée par le fournisseur d'identité. "
            "Réessayez ; si l'échec se répète, contactez l'administrateur de la préfecture."
        )
        _set_cookie(PENDING_COOKIE, "", 0)
    st.write(
        "Cette application est réservée aux services de l'État et à leurs partenaires (préfecture, "
        "police et gendarmerie, maires). Connectez-vous avec votre compte professionnel."
    )
    sign_in_button("acc_login_page")
    if SETTINGS.public_pages:
        st.caption("Le diagnostic et le suivi publics sont accessibles sans connexion (menu de gauche).")


def sidebar_identity(viewer: Viewer) -> None:
    """Who is signed in, and « Se déconnecter » (server mode)."""
    if not server_mode():
        return
    sb = st.sidebar
    if viewer.role == PUBLIC:
        with sb:
            sign_in_button("acc_login_sidebar")
        return
    sb.caption(f"Connecté : {markdown_text(viewer.name)} — {ROLE_LABELS.get(viewer.role, viewer.role)}")
    if sb.button("Se déconnecter", key="acc_logout"):
        sign_in = st.session_state.get("_acc_sign_in")
        if sign_in is not None:
            access_store().close_sign_in(sign_in.key, "déconnexion")  # the cookie opens nothing any more
        with contextlib.suppress(AccessError):  # leaving must always be possible
            access_store().log(
                viewer, "déconnexion", viewer.identity, dt.datetime.now().isoformat(timespec="seconds")
            )
        with sb:
            _set_cookie(LOGOUT_COOKIE, "1", 300)
        time.sleep(0.8)
        st.logout()


def export_button(
    container,
    viewer: Viewer,
    label: str,
    data: bytes | str | Callable[[], bytes | str],
    file_name: str,
    mime: str,
    *,
    action: str = "export",
    key: str | None = None,
    **kwargs,
) -> None:
    """A download button whose file is made on click, for the person who was offered it.

    Nothing is drawn for a viewer without the export capability (the public). When the file is
    made (Streamlit runs ``produce`` in a thread, after the run), the person is read again
    (:func:`viewer_now`): sign-in still open, access not withdrawn, capability and territory
    (the département the page showed) still theirs; then the audit line is written, naming them
    and the requesting client (none, and no file, if that fails). Only the session that was
    offered the button can ask for it (:mod:`ui.downloads`).
    """
    if not may_export(viewer, action):
        return
    sign_in = st.session_state.get("_acc_sign_in") if server_mode() else None
    sid = script_session_id()
    info = REGISTRY.find(sid) if sid else None
    departement = info.departement if info else ""

    def produce() -> bytes | str:
        from ui.downloads import requesting_origin

        token = AUDIT_ORIGIN.set(requesting_origin())
        try:
            try:
                now = viewer_now(sign_in, viewer)
                if not may_export(now, action):
                    raise AccessError(
                        "Votre rôle ne permet plus ce téléchargement : le fichier n'a pas été produit."
                    )
                if departement and not now.may_see_departement(departement):
                    raise AccessError(
                        f"Le département {departement} n'est plus dans votre territoire : le fichier n'a pas été produit."
                    )
            except AccessError as exc:
                access_store().refused(viewer, action, file_name, str(exc))
                raise
            access_store().log(
                now, action, file_name, {"libelle": label, "departement": departement}
            )  # raises: no file
            return data() if callable(data) else data
        finally:
            AUDIT_ORIGIN.reset(token)

    container.download_button(label, produce, file_name, mime, on_click="ignore", key=key, **kwargs)


def may_export(viewer: Viewer, action: str) -> bool:
    """Whether the role may download this kind of file (an export, or a report for REPORT)."""
    return viewer.can(EXPORT) or (action == "rapport" and viewer.can(REPORT))
