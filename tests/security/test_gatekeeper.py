"""The gatekeeper middleware in isolation, and the Streamlit internals it relies on.

The second half fails if a Streamlit upgrade moves what :mod:`ui.gatekeeper`,
:mod:`ui.downloads` and :mod:`ui.access` rely on (the pins are in requirements.txt): the
cookie's signing, the deferred-file manager's bookkeeping, the messages' fields.
"""

from __future__ import annotations

import asyncio
import json
import time

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Common_pb2 import FileUploaderState, FileURLsRequest, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates

from ui import gatekeeper as gk
from ui.sessions import SessionRegistry


class Recorder:
    """An inner ASGI app that records what reaches it (Streamlit's place)."""

    def __init__(self, frames_out: list[bytes] | None = None) -> None:
        self.received: list[BackMsg] = []
        self.frames_out = frames_out or []
        self.http_headers: list = []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
            )
            await send({"type": "http.response.body", "body": b"ok"})
            return
        for frame in self.frames_out:
            await send({"type": "websocket.send", "bytes": frame})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            self.received.append(BackMsg.FromString(message["bytes"]))


def _run_ws(
    app, inbound: list[BackMsg], frames_out: list[bytes] | None = None
) -> tuple[Recorder, list[dict]]:
    inner = Recorder(frames_out)
    guarded = gk.Gatekeeper(inner)
    queue = [{"type": "websocket.receive", "bytes": m.SerializeToString()} for m in inbound]
    queue.append({"type": "websocket.disconnect"})
    sent: list[dict] = []

    async def receive():
        return queue.pop(0)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/_stcore/stream",
        "headers": [(b"user-agent", b"test")],
        "client": ("203.0.113.9", 1),
    }
    asyncio.run(guarded(scope, receive, send))
    return inner, sent


def _new_session(session_id: str) -> bytes:
    msg = ForwardMsg()
    msg.new_session.initialize.session_id = session_id
    msg.new_session.initialize.environment_info.streamlit_version = "1.67.0"
    msg.new_session.initialize.environment_info.python_version = "3.11.7"
    msg.new_session.main_script_path = "/srv/secret/path/app.py"
    return msg.SerializeToString()


def test_clear_cache_never_reaches_streamlit(monkeypatch):
    monkeypatch.setattr(gk, "_audit_refusal", lambda *a, **k: None)
    rerun = BackMsg(rerun_script=ClientState())
    inner, _ = _run_ws(
        None, [BackMsg(clear_cache=True), rerun, BackMsg(clear_cache=True)], [_new_session("s1")]
    )
    assert [m.WhichOneof("type") for m in inner.received] == ["rerun_script"]


def test_upload_urls_only_for_a_page_with_an_uploader(monkeypatch):
    monkeypatch.setattr(gk, "_audit_refusal", lambda *a, **k: None)
    ask = BackMsg(file_urls_request=FileURLsRequest(request_id="r", file_names=["a.csv"]))
    inner, _ = _run_ws(None, [ask], [_new_session("s2")])
    assert inner.received == []
    gk.REGISTRY.get("s3").uploads_allowed = True
    inner, _ = _run_ws(None, [ask], [_new_session("s3")])
    assert [m.WhichOneof("type") for m in inner.received] == ["file_urls_request"]


def test_new_session_leaves_with_constants(monkeypatch):
    _, sent = _run_ws(None, [], [_new_session("s4")])
    out = ForwardMsg.FromString(sent[0]["bytes"])
    env = out.new_session.initialize.environment_info
    assert (env.streamlit_version, env.python_version) == (gk.HIDDEN_VERSION, gk.HIDDEN_VERSION)
    assert out.new_session.main_script_path == gk.HIDDEN_SCRIPT_PATH
    assert out.new_session.initialize.session_id == "s4"


def test_http_headers_and_metrics():
    inner = Recorder()
    guarded = gk.Gatekeeper(inner)
    for path, status in (("/", 200), ("/_stcore/metrics", 404)):
        sent: list[dict] = []

        async def send(message, sent=sent):
            sent.append(message)

        async def receive():
            return {"type": "http.request", "body": b""}

        asyncio.run(guarded({"type": "http", "path": path, "method": "GET", "headers": []}, receive, send))
        start = sent[0]
        assert start["status"] == status
        headers = dict(start["headers"])
        assert b"frame-ancestors 'self'" in headers[b"content-security-policy"]
        assert headers[b"x-content-type-options"] == b"nosniff"


def test_abandoned_uploads_are_released_and_held_ones_kept():
    reg = SessionRegistry()
    reg.issued("s", ["held", "dropped"])
    assert reg.take_issued("s", "held") and reg.take_issued("s", "dropped")
    assert not reg.take_issued("s", "held")  # one upload per issued URL
    assert not reg.take_issued("s", "never-issued")
    reg.referenced("s", {"held"})
    for fid in ("held", "dropped"):
        reg.get("s").received[fid] = time.time() - 1000
    assert reg.abandoned("s", older_than=60) == ["dropped"]
    assert reg.abandoned("s", older_than=60) == []


def test_widget_states_say_which_uploads_the_page_holds():
    state = FileUploaderState(uploaded_file_info=[UploadedFileInfo(name="a.csv", size=1, file_id="f1")])
    msg = BackMsg(
        rerun_script=ClientState(
            widget_states=WidgetStates(widgets=[WidgetState(id="w", file_uploader_state_value=state)])
        )
    )
    assert gk._referenced_uploads(msg) == {"f1"}


def test_media_of_a_public_page_is_public_and_of_a_person_theirs():
    reg = SessionRegistry()
    reg.signed_in("anon", sign_in="", identity="public", role="public")
    reg.signed_in("mayor", sign_in="k1", identity="m@x", role="maire")
    reg.media_sent("anon", ["a"])
    reg.media_sent("mayor", ["b"])
    reg.media_sent("unknown", ["c"])
    assert reg.media_keys("a") == {"*"} and reg.media_keys("b") == {"k1"} and reg.media_keys("c") == set()


# -- what a Streamlit upgrade must not move ------------------------------------------------
def test_streamlit_cookie_is_decoded_as_streamlit_signs_it(monkeypatch):
    from streamlit.web.server.starlette import starlette_websocket
    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

    monkeypatch.setattr(starlette_websocket, "get_cookie_secret", lambda: "secret-de-test")
    claims = {"iss": "i", "sub": "s", "iat": 1, "nonce": "n", "is_logged_in": True}
    value = create_signed_value("secret-de-test", "_streamlit_user", json.dumps(claims)).decode()
    assert gk.sign_in_from_cookies({"_streamlit_user": value}) == claims
    assert gk.sign_in_from_cookies({"_streamlit_user": value[:-3] + "xyz"}) is None
    assert gk.sign_in_from_cookies({}) is None


def test_deferred_files_remember_their_session_and_the_guard_installs():
    from streamlit.runtime.backend_operation_handler import DeferredFileHandler
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    from ui.downloads import deferred_file_guard_is_installed, install_deferred_file_guard, owner_of_deferred

    mgr = MediaFileManager(MemoryMediaFileStorage("/media"))
    file_id = mgr.add_deferred(lambda: b"x", "text/csv", "coords")
    assert owner_of_deferred(mgr, file_id) == "dontcare"  # outside a run: Streamlit's constant
    install_deferred_file_guard()
    install_deferred_file_guard()  # idempotent
    assert deferred_file_guard_is_installed()
    import inspect

    assert list(inspect.signature(DeferredFileHandler.handle).parameters) == ["self", "request", "session_id"]


def test_message_fields_the_middleware_reads():
    assert {"clear_cache", "file_urls_request", "rerun_script"} <= set(BackMsg.DESCRIPTOR.fields_by_name)
    assert {"new_session", "file_urls_response", "backend_operation_response"} <= set(
        ForwardMsg.DESCRIPTOR.fields_by_name
    )
    from streamlit.web.server.starlette.starlette_routes import BASE_ROUTE_UPLOAD_FILE

    assert BASE_ROUTE_UPLOAD_FILE == "_stcore/upload_file"
    from streamlit.runtime.app_session import AppSession

    assert hasattr(AppSession, "_handle_clear_cache_request") and hasattr(
        AppSession, "_handle_file_urls_request"
    )
    from streamlit.runtime.pages_manager import PagesManager

    assert isinstance(PagesManager.intended_page_name, property)  # ui.access.intended_page reads it


def test_the_media_map_is_bounded(monkeypatch):
    import ui.sessions as sessions

    monkeypatch.setattr(sessions, "MAX_MEDIA_FILES", 3)
    reg = SessionRegistry()
    reg.signed_in("s", sign_in="k", identity="a", role="analyste")
    reg.media_sent("s", ["a", "b", "c", "d"])
    assert reg.media_keys("a") == set() and reg.media_keys("d") == {"k"}
