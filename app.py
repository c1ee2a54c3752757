"""Entry point: navigation by role, shared sidebar, theme. Run with ``make run`` (local mode)
or ``make serve`` (server mode, sign-in).

``streamlit run app.py`` reads this file twice over: it first imports it as the module ``app``
and finds :data:`app`, an ``st.App`` (Streamlit's ASGI application with our middleware in
front: Streamlit's front-end files answered from memory, see ``ui/static_bundle.py``); then
every session runs it as ``__main__``, which draws the navigation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from core import access as a
from core.settings import SETTINGS
from data.audit import keep_audit_key
from ui import prefetch
from ui.access import (
    AccessRefusedError,
    current_viewer,
    intended_page,
    refuse_unlisted_page,
    server_mode,
    sign_in_page,
)
from ui.downloads import install_deferred_file_guard
from ui.gatekeeper import Gatekeeper
from ui.guard import guarded
from ui.heap import freeze_once
from ui.maps import register_folium_component
from ui.sessions import REGISTRY, script_session_id
from ui.static_bundle import StaticBundle
from ui.tls import share_default_context

#: Page key -> file, title, icon (the order of the navigation).
PAGES = {
    a.DIAGNOSTIC: ("app_pages/diagnostic.py", "Diagnostic territorial", ":material/analytics:"),
    a.MA_COMMUNE: ("app_pages/ma_commune.py", "Ma commune", ":material/location_city:"),
    a.ZONES: ("app_pages/zones.py", "Zones prioritaires", ":material/target:"),
    a.VIDEO: ("app_pages/videoprotection.py", "Vidéoprotection", ":material/videocam:"),
    a.SUIVI: ("app_pages/suivi.py", "Suivi bimestriel", ":material/monitoring:"),
    a.ORGANISATION: ("app_pages/organisation.py", "Organisation territoriale", ":material/local_police:"),
    a.FRANCE: ("app_pages/france.py", "France", ":material/public:"),
    a.DONNEES: ("app_pages/donnees.py", "Données", ":material/folder_open:"),
    a.ADMINISTRATION: ("app_pages/administration.py", "Administration", ":material/admin_panel_settings:"),
}


def main() -> None:
    """One script run: the pages this viewer may open, then the chosen one."""
    st.set_page_config(
        page_title="Délinquance — diagnostic territorial",
        page_icon=str(Path(__file__).with_name("assets") / "icon.png"),
        layout="wide",
    )
    prefetch.activity()  # computing ahead waits for the server to be idle
    register_folium_component()
    sid = script_session_id()
    if sid:
        REGISTRY.run_started(sid)  # uploads: allowed again only if this run draws an uploader
    try:
        _run_pages()
    finally:
        if sid:
            REGISTRY.run_finished(sid)


def _run_pages() -> None:
    try:
        viewer = current_viewer()
    except AccessRefusedError:
        st.stop()
    allowed = [k for k in PAGES if viewer.may_open(k)]
    if server_mode() and viewer.role == a.PUBLIC and not SETTINGS.public_pages:
        allowed = []
    refuse_unlisted_page(viewer, asked=intended_page(), known=set(PAGES), allowed=set(allowed))
    pages = [
        st.Page(PAGES[k][0], title=PAGES[k][1], icon=PAGES[k][2], default=i == 0)
        for i, k in enumerate(allowed)
    ]
    if server_mode() and viewer.role == a.PUBLIC:
        pages.append(
            st.Page(
                lambda: guarded(sign_in_page),
                title="Connexion",
                icon=":material/login:",
                url_path="connexion",
                default=not pages,
            )
        )
    # The RGAA statement: for everyone, signed in or not (static text, no data).
    pages.append(
        st.Page(
            "app_pages/accessibilite.py",
            title="Accessibilité",
            icon=":material/accessibility:",
            default=not pages,
        )
    )
    try:
        st.navigation(pages).run()
    finally:
        freeze_once()  # once per process: the imported libraries out of the collector's passes


if __name__ == "__main__":
    main()
else:
    os.umask(0o077)  # data sets, audit database, exports written by the server: 0600 files, 0700 folders
    keep_audit_key(os.environ.pop("DELINQ_AUDIT_SECRET", ""))  # read once, out of the environment
    _auth = json.loads(os.environ.pop("DELINQ_AUTH", "") or "null")  # server mode's [auth], never on disk
    share_default_context()  # the sign-in's HTTP clients: one TLS context, not one per request
    install_deferred_file_guard()  # a deferred download is made only for the session it was offered to
    app = st.App(
        Path(__file__).resolve(),
        middleware=[Middleware(StaticBundle), Middleware(Gatekeeper)],
        secrets={"auth": _auth} if _auth else None,
    )
