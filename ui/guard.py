"""The error guard: a page body runs inside it; users read French messages, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from core.errors import DelinquanceError
from core.escape import markdown_text

log = logging.getLogger(__name__)


def guarded(body: Callable[[], None], page: str | None = None) -> None:
    """Run a page body; show errors in French, never a traceback.

    Parameters
    ----------
    body : callable
        The page.
    page : str, optional
        The page's key (:mod:`core.access`): the server refuses to run it for a viewer whose
        role does not include it, whatever the URL.
    """
    from ui.access import AccessRefusedError, guard_page

    try:
        if page is not None:
            guard_page(page)
        body()
    except AccessRefusedError:
        return  # the reason is on screen
    except DelinquanceError as exc:
        st.error(markdown_text(exc))
    except Exception:  # noqa: BLE001 - last line of defence for the user
        log.exception("Erreur inattendue dans la page")
        st.error(
            "Erreur inattendue : l'opération n'a pas abouti. Rechargez la page ; si l'erreur "
            "persiste, signalez-la avec le fichier utilisé (le détail est dans le journal du serveur)."
        )
