"""The error guard: a page body runs inside it; users read French messages, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from core.errors import DelinquanceError
from core.escape import markdown_text

log = logging.getLogger(__name__)


def guarded(body: Callable[[], None]) -> None:
    """Run a page body; show errors in French, never a traceback."""
    try:
        body()
    except DelinquanceError as exc:
        st.error(markdown_text(exc))
    except Exception:  # noqa: BLE001 - last line of defence for the user
        log.exception("Erreur inattendue dans la page")
        st.error(
            "Erreur inattendue : l'opération n'a pas abouti. Rechargez la page ; si l'erreur "
            "persiste, signalez-la avec le fichier utilisé (le détail est dans le journal du serveur)."
        )
