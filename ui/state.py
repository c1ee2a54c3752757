"""The one place that sets up ``st.session_state``.

Sidebar widgets are drawn anew on every page; Streamlit forgets the state of a widget that a
run does not draw. Each persisted widget keeps its value in ``keep_<key>`` and is seeded from
it on every run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from core.settings import SETTINGS

#: The query parameter that opens a page on a département (links of the France page).
DEPARTEMENT_QUERY = "departement"


def departement_from_link() -> None:
    """Take the département of a link (``?departement=XX``) as the sidebar's, once.

    The sidebar's selector still validates it (a code outside the viewer's territory falls
    back to the default); the parameter is removed from the address, so the sidebar's own
    choice applies afterwards.
    """
    asked = st.query_params.get(DEPARTEMENT_QUERY)
    if asked is None:
        return
    st.session_state["keep_departement"] = asked
    del st.query_params[DEPARTEMENT_QUERY]


def init_state() -> None:
    """Set the session defaults once."""
    ss = st.session_state
    ss.setdefault("keep_departement", SETTINGS.default_departement)
    ss.setdefault("keep_base_map", "plan_ign")
    ss.setdefault("keep_public_view", True)


def _keep(key: str, default: Any, valid: Callable[[Any], bool] | None = None) -> str:
    ss = st.session_state
    value = ss.get(f"keep_{key}", default)
    if valid is not None and not valid(value):
        value = default
    ss[f"keep_{key}"] = value
    ss[f"w_{key}"] = value
    return f"w_{key}"


def _store(key: str) -> None:
    st.session_state[f"keep_{key}"] = st.session_state[f"w_{key}"]


def persisted(key: str, default: Any, valid: Callable[[Any], bool] | None = None) -> dict[str, Any]:
    """Widget keyword arguments (``key``, ``on_change``, ``args``) for a value kept across pages.

    Parameters
    ----------
    key : str
        Name of the kept value.
    default : object
        Its value the first time, or when ``valid`` rejects the kept one.
    valid : callable, optional
        Whether a kept value still applies (a date range inside the data, say).
    """
    return {"key": _keep(key, default, valid), "on_change": _store, "args": (key,)}


def valid_or_reset(key: str, default: Any, valid: Callable[[Any], bool]) -> None:
    """Reset a page widget's state to ``default`` when its value no longer applies."""
    if not valid(st.session_state.get(key)):
        st.session_state[key] = default
