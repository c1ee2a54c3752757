"""Entry point: navigation, shared sidebar, theme. Run with ``make run``."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

st.set_page_config(
    page_title="Délinquance — diagnostic territorial",
    page_icon=str(Path(__file__).with_name("assets") / "icon.png"),
    layout="wide",
)

pages = st.navigation(
    [
        st.Page(
            "app_pages/diagnostic.py",
            title="Diagnostic territorial",
            icon=":material/analytics:",
            default=True,
        ),
        st.Page("app_pages/zones.py", title="Zones prioritaires", icon=":material/target:"),
        st.Page("app_pages/videoprotection.py", title="Vidéoprotection", icon=":material/videocam:"),
        st.Page("app_pages/suivi.py", title="Suivi bimestriel", icon=":material/monitoring:"),
        st.Page(
            "app_pages/organisation.py", title="Organisation territoriale", icon=":material/local_police:"
        ),
        st.Page("app_pages/donnees.py", title="Données", icon=":material/folder_open:"),
    ]
)
pages.run()
