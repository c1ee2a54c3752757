"""Who is looking, decided by the server on every run: mode, sign-in, role, page guard.

- « Poste local » (``make run``): no sign-in, the one analyst; the app refuses to serve when it
  listens on anything but the loopback address.
- « Serveur »: Streamlit's ``st.login`` (OpenID Connect, Authlib). The person is looked up in the
  access database on every run (a role change applies at once), the sign-in must be younger than
  ``SETTINGS.session_max_hours`` (Streamlit does not check the ID token's expiry), and a failed,
  cancelled or ended sign-in is said in French (Streamlit only logs it: a short-lived cookie set
  before leaving tells the page that a sign-in was under way).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import streamlit as st

from core.access import EXPORT, PUBLIC, REPORT, ROLE_LABELS, SERVER, Viewer
from core.escape import markdown_text
from core.settings import SETTINGS
from data.access import AccessError, AccessStore

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
    st.iframe(f"<script>document.cookie = '{name}={value}; path=/; max-age={max_age}; SameSite=Lax';</script>", height=1)


def _user_claims() -> dict:
    try:
        return {k: st.user.get(k) for k in ("email", "email_verified", "iss", "sub", "name", "iat")}
    except Exception:  # noqa: BLE001 - no auth configured (local mode): nobody is signed in
        return {}


def _signed_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except Exception:  # noqa: BLE001
        return False


def current_viewer() -> Viewer:
    """The viewer of this run (server mode: re-read from the access database every time).

    Raises
    ------
    AccessRefusedError
        Local mode on a non-loopback address, an expired sign-in, or a signed-in person
        without access: the page shows why and stops.
    """
    if not server_mode():
        address = st.get_option("server.address")
        if address not in LOOPBACK:  # None: every interface
            st.error(
                f"Mode « poste local » : l'application écoute sur {markdown_text(address or 'toutes les interfaces')}, visible depuis le "
                "réseau, sans connexion. Lancez-la avec `make run` (127.0.0.1 seulement) ou passez au mode "
                "« serveur » (connexion obligatoire, voir le README)."
            )
            raise AccessRefusedError
        return Viewer.local_analyst()
    if not _signed_in():
        return Viewer.anonymous()
    claims = _user_claims()
    iat = claims.get("iat")
    if iat is not None and time.time() - float(iat) > SETTINGS.session_max_hours * 3600:
        st.warning(
            f"Votre session a plus de {SETTINGS.session_max_hours:g} heures : reconnectez-vous pour continuer."
        )
        if st.button("Se reconnecter", type="primary", key="acc_relogin"):
            st.logout()
        raise AccessRefusedError
    store = access_store()
    person = store.person_for_identity(
        email=claims.get("email"),
        email_verified=bool(claims.get("email_verified")),
        issuer=claims.get("iss"),
        subject=claims.get("sub"),
    )
    if person is None:
        who = claims.get("email") or claims.get("sub") or "?"
        if st.session_state.get("_acc_refused") != iat:
            st.session_state["_acc_refused"] = iat
            store.log(Viewer(role=PUBLIC, identity=str(who)), "connexion refusée", str(who), "personne inconnue")
        st.error(
            f"Vous êtes connecté en tant que {markdown_text(who)}, mais ce compte n'a pas d'accès à "
            "l'application. Demandez-le à l'administrateur de la préfecture (il vous ajoutera avec votre "
            "rôle et votre territoire)."
        )
        if st.button("Se déconnecter", key="acc_logout_unknown"):
            st.logout()
        raise AccessRefusedError
    viewer = person.viewer()
    if st.session_state.get("_acc_logged_iat") != iat:  # first run of this sign-in
        st.session_state["_acc_logged_iat"] = iat
        store.log(viewer, "connexion", viewer.identity, {"role": viewer.role})
        _set_cookie(PENDING_COOKIE, "", 0)
    return viewer


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
        with contextlib.suppress(AccessError):  # leaving must always be possible
            access_store().log(viewer, "déconnexion", viewer.identity, dt.datetime.now().isoformat(timespec="seconds"))
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
    """A download button whose file is made on click, after its audit line (none if that fails).

    Nothing is drawn for a viewer without the export capability (the public).
    """
    if not viewer.can(EXPORT) and not (action == "rapport" and viewer.can(REPORT)):
        return

    def produce() -> bytes | str:
        access_store().log(viewer, action, file_name, {"libelle": label})  # raises: no file
        return data() if callable(data) else data

    container.download_button(label, produce, file_name, mime, on_click="ignore", key=key, **kwargs)
