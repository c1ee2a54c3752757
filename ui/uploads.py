"""The one way a page draws a file uploader: it tells the server that this page takes files.

The middleware (:mod:`ui.gatekeeper`) refuses upload URLs and uploads to a session whose last
run drew no uploader (:data:`ui.sessions.REGISTRY`); a page that calls ``st.file_uploader``
directly would see its uploads refused.
"""

from __future__ import annotations

import streamlit as st

from ui.sessions import REGISTRY, script_session_id


def file_uploader(label: str, *args, container=None, **kwargs):
    """``st.file_uploader`` (same arguments), after marking this session as taking files."""
    sid = script_session_id()
    if sid:
        REGISTRY.uploader_drawn(sid)
    return (container or st).file_uploader(label, *args, **kwargs)
