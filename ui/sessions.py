"""What the server knows of each browser tab, shared by the script runs and the ASGI middleware.

The middleware (:mod:`ui.gatekeeper`) sees the websocket of a session and its HTTP requests
but not the script; the script sees the person but not the socket. This registry joins them,
by Streamlit's session id, in this process:

- the client address and user agent of the session's websocket (for the audit log);
- the person signed in, as the key of their sign-in record (:func:`data.access.sign_in_key`)
  and their identity;
- whether the page the session shows now has a file uploader (else the middleware drops the
  session's requests for upload URLs and refuses its uploads);
- the upload URLs the server issued to the session, and the uploads it received;
- which sign-ins may fetch each ``/media/`` file (a file id is a hash of the content, shared
  by every session that produced the same bytes).

Nothing here imports Streamlit's runtime at import time; every method is thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

#: A sign-in key standing for « anyone »: media sent to a session nobody signed in to.
PUBLIC_KEY = "*"
#: Media files remembered at most (the oldest forgotten first: Streamlit drops a file once no
#: session refers to it, so an old id is no longer served anyway).
MAX_MEDIA_FILES = 20_000


@dataclass
class SessionInfo:
    """One browser tab (one Streamlit session)."""

    address: str = ""
    agent: str = ""
    sign_in: str = ""
    identity: str = ""
    role: str = ""
    #: The département the sidebar shows (what the session's downloads are about).
    departement: str = ""
    #: The uploader-drawing state of the last finished run, and of the current one.
    uploads_allowed: bool = False
    uploads_this_run: bool = False
    #: file id -> time the upload URL was issued / the file was received.
    issued: dict[str, float] = field(default_factory=dict)
    received: dict[str, float] = field(default_factory=dict)
    #: file ids the front end's last widget states referred to.
    referenced: set[str] = field(default_factory=set)
    #: Refusals audited for this session so far.
    refusals: int = 0


class SessionRegistry:
    """Every live session of this server process, by Streamlit session id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, SessionInfo] = {}
        self._media: OrderedDict[str, set[str]] = OrderedDict()

    def get(self, session_id: str) -> SessionInfo:
        """The session's record (created empty on first use)."""
        with self._lock:
            return self._sessions.setdefault(session_id, SessionInfo())

    def find(self, session_id: str) -> SessionInfo | None:
        with self._lock:
            return self._sessions.get(session_id)

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    # -- the socket ---------------------------------------------------------------------
    def connected(self, session_id: str, address: str, agent: str) -> None:
        info = self.get(session_id)
        info.address, info.agent = address, agent

    # -- the person ---------------------------------------------------------------------
    def signed_in(self, session_id: str, *, sign_in: str, identity: str, role: str) -> None:
        info = self.get(session_id)
        info.sign_in, info.identity, info.role = sign_in, identity, role

    # -- uploads ------------------------------------------------------------------------
    def run_started(self, session_id: str) -> None:
        self.get(session_id).uploads_this_run = False

    def uploader_drawn(self, session_id: str) -> None:
        info = self.get(session_id)
        info.uploads_this_run = info.uploads_allowed = True

    def run_finished(self, session_id: str) -> None:
        info = self.get(session_id)
        info.uploads_allowed = info.uploads_this_run

    def may_upload(self, session_id: str) -> bool:
        info = self.find(session_id)
        return info is not None and info.uploads_allowed

    def issued(self, session_id: str, file_ids: list[str]) -> None:
        info = self.get(session_id)
        now = time.time()
        for fid in file_ids:
            info.issued[fid] = now

    def take_issued(self, session_id: str, file_id: str) -> bool:
        """True (once) when the server issued this upload URL to this session."""
        info = self.find(session_id)
        if info is None or info.issued.pop(file_id, None) is None:
            return False
        info.received[file_id] = time.time()
        return True

    def referenced(self, session_id: str, file_ids: set[str]) -> None:
        self.get(session_id).referenced = set(file_ids)

    def abandoned(self, session_id: str, *, older_than: float) -> list[str]:
        """Uploads received more than ``older_than`` seconds ago that no widget refers to
        (they are released; the list is forgotten here)."""
        info = self.find(session_id)
        if info is None:
            return []
        limit = time.time() - older_than
        out = [f for f, t in info.received.items() if t < limit and f not in info.referenced]
        for f in out:
            del info.received[f]
        return out

    # -- media --------------------------------------------------------------------------
    def media_sent(self, session_id: str, file_ids: list[str]) -> None:
        """The session was sent these ``/media/`` files: its person may fetch them."""
        info = self.find(session_id)
        if info is None:
            return
        key = info.sign_in or (PUBLIC_KEY if info.role == "public" else "")
        if not key:
            return
        with self._lock:
            for fid in file_ids:
                self._media.setdefault(fid, set()).add(key)
                self._media.move_to_end(fid)
            while len(self._media) > MAX_MEDIA_FILES:
                self._media.popitem(last=False)

    def media_keys(self, file_id: str) -> set[str]:
        with self._lock:
            return set(self._media.get(file_id, ()))


#: The registry of this server process.
REGISTRY = SessionRegistry()


def script_session_id() -> str | None:
    """The session id of the script run on this thread (None outside a run)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None
