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
            "pages/diagnostic.py", title="Diagnostic territorial", icon=":material/analytics:", default=True
        ),
        st.Page("pages/zones.py", title="Zones prioritaires", icon=":material/target:"),
        st.Page("pages/organisation.py", title="Organisation territoriale", icon=":material/local_police:"),
        st.Page("pages/donnees.py", title="Données", icon=":material/folder_open:"),
    ]
)
pages.run()
