"""Deferred downloads: only the session that was offered a file can have it made.

A download button whose data is a callable (:func:`ui.access.export_button`) gives the browser
a placeholder id; a click sends ``backend_operation_request.deferred_file`` with it, and
Streamlit's ``DeferredFileHandler.handle`` runs the callable in a worker thread. That handler
receives the requesting session's id and ignores it: any session (an anonymous socket
included) that learns the id gets the file, produced with the owner's rights.

:func:`install_deferred_file_guard` wraps ``handle`` once at start: the request is served only
when the placeholder was registered by the requesting session itself (Streamlit keeps that
session id with the callable), and the callable then runs with :data:`REQUESTER` set to that
session (``asyncio.to_thread`` copies the context), so the audit line names the requester's
address. A refused request is audited and answered like a failed one.
:func:`deferred_file_guard_is_installed` lets a test fail if a Streamlit upgrade moves the code.
"""

from __future__ import annotations

import contextvars
import functools

from ui.sessions import REGISTRY

#: The session whose click is producing a file, in the thread that produces it.
REQUESTER: contextvars.ContextVar[str] = contextvars.ContextVar("requester", default="")
_MARK = "_delinquance_guarded"


def requesting_origin() -> tuple[str, str]:
    """(client address, user agent) of the session producing a deferred file, if known."""
    info = REGISTRY.find(REQUESTER.get())
    return (info.address, info.agent) if info else ("", "")


def owner_of_deferred(media_manager, file_id: str) -> str | None:
    """The session that registered a deferred file (None when unknown)."""
    entry = getattr(media_manager, "_deferred_callables", {}).get(file_id)
    return entry.get("session_id") if entry else None


def install_deferred_file_guard() -> None:
    """Wrap ``DeferredFileHandler.handle`` (idempotent)."""
    from streamlit.proto.ForwardMsg_pb2 import BackendOperationResponse
    from streamlit.runtime.backend_operation_handler import DeferredFileHandler

    original = DeferredFileHandler.handle
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    async def handle(self, request, session_id):
        file_id = request.deferred_file.file_id
        owner = owner_of_deferred(self._get_media_file_mgr(), file_id)
        if owner is None or owner != session_id:
            import asyncio

            from ui.gatekeeper import _audit_refusal

            await asyncio.to_thread(
                _audit_refusal,
                session_id,
                "téléchargement",
                file_id[:40],
                "fichier offert à une autre session",
            )
            return BackendOperationResponse(
                request_id=request.request_id, error_msg="Failed to generate file for download"
            )
        token = REQUESTER.set(session_id)
        try:
            return await original(self, request, session_id)
        finally:
            REQUESTER.reset(token)

    setattr(handle, _MARK, True)
    DeferredFileHandler.handle = handle


def deferred_file_guard_is_installed() -> bool:
    from streamlit.runtime.backend_operation_handler import DeferredFileHandler

    return bool(getattr(DeferredFileHandler.handle, _MARK, False))
