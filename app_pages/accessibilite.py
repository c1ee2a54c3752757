"""Déclaration d'accessibilité: the RGAA statement (every role, the public included)."""

from __future__ import annotations

import streamlit as st

from ui.guard import guarded
from usecases.accessibility import STATEMENT


def body() -> None:
    st.title("Déclaration d'accessibilité")
    st.markdown(STATEMENT)


guarded(body)
