"""The ASGI middleware in front of Streamlit that holds against a client which is not our front end.

Streamlit trusts its websocket client more than a server facing the public may: any visitor
can send ``clear_cache`` (every shared cache emptied), ask for upload URLs on a page without
an uploader and upload to them, fetch ``/media/`` files without a cookie, or read
``/_stcore/metrics``. :class:`Gatekeeper` wraps Streamlit's application (through ``st.App``,
after :class:`ui.static_bundle.StaticBundle`) and, without touching Streamlit's code:

HTTP
    - every response gets ``Content-Security-Policy`` (see :data:`CSP`),
      ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``,
      ``X-Frame-Options: SAMEORIGIN``, and ``Strict-Transport-Security`` when the configuration
      says HTTPS;
    - ``/_stcore/metrics`` is answered 404 (it names cache functions with their counts);
    - an upload (``PUT /_stcore/upload_file/<session>/<file>``) is refused 403 unless the server
      issued that URL to that session while its page showed an uploader;
    - ``/auth/logout`` closes the sign-in record of the cookie it comes with (Streamlit only
      asks the browser to forget the cookie);
    - server mode: ``/media/<file>`` is answered only to a request whose sign-in cookie, verified
      as Streamlit verifies it, names an open sign-in that was sent this file (or when the file
      was sent to a public page).

Websocket
    - ``clear_cache`` is dropped (both modes: nothing in the app offers it, and in the local
      mode the analyst restarts the app to rebuild a cache), audited as a refusal;
    - ``file_urls_request`` from a session whose current page draws no uploader is dropped;
    - the widget states of each rerun say which uploads the page still holds: an upload no
      widget refers to after :data:`ABANDONED_AFTER_S` is released;
    - ``new_session`` leaves with constants instead of the Streamlit and Python versions, the
      server's OS and the script's absolute path (the front end derives its app id from the
      path: it gets a constant path, not an empty one).

The joins between the socket, the HTTP requests and the script runs go through
:data:`ui.sessions.REGISTRY`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME
from streamlit.web.server.starlette.starlette_websocket import _get_signed_cookie_with_chunks

from core.settings import SETTINGS
from ui.sessions import PUBLIC_KEY, REGISTRY

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The Content-Security-Policy of every response. What stays open, and why:
#: - ``script-src 'unsafe-inline' 'unsafe-eval'``: st_folium's component evaluates the map's
#:   generated script with ``eval``, Vega compiles chart expressions with ``Function()``, and the
#:   cookie frame of :func:`ui.access._set_cookie` is an inline ``srcdoc`` script; scripts load
#:   only from this origin (``'self'``): Leaflet is served by the app; ``blob:``: Streamlit's
#:   front end loads a ``st.components.v2`` module (the app's map, :mod:`ui.layer_map`) from a
#:   ``blob:`` URL it makes itself (only a script already running in the page can make one);
#: - ``style-src 'unsafe-inline'``: Streamlit (emotion) and Leaflet write inline styles;
#: - ``img-src`` adds ``data:``/``blob:`` (Leaflet's icons, charts exported as PNG) and the two
#:   optional base-map tile servers (IGN Géoplateforme, OpenStreetMap);
#: - ``connect-src 'self'`` covers the websocket (same origin: ``ws:``/``wss:`` of this host);
#: - ``frame-ancestors 'self'``: the map components are same-origin iframes; no other origin
#:   may frame the app (clickjacking).
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' blob: 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https://data.geopf.fr https://*.tile.openstreetmap.org https://tile.openstreetmap.org",
        "font-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "frame-src 'self' blob: data:",
        "frame-ancestors 'self'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)
#: An upload that no widget refers to for this long is released (seconds).
ABANDONED_AFTER_S = 120.0
#: Refusals audited per session at most (an attacker's flood does not fill the log).
MAX_AUDITED_REFUSALS = 20
#: What ``new_session`` says instead of the versions, the OS and the script's path.
HIDDEN_VERSION = "0.0.0"
HIDDEN_SCRIPT_PATH = "/app/app.py"

_UPLOAD = re.compile(r"^/_stcore/upload_file/([^/]+)/([^/]+)$")
_MEDIA = re.compile(r"^/media/([0-9a-f]{16,128})(\.[A-Za-z0-9]+)?$")
_MEDIA_IN_URL = re.compile(r"/media/([0-9a-f]{16,128})")


def security_headers() -> list[tuple[bytes, bytes]]:
    """The headers added to every HTTP response."""
    out = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"SAMEORIGIN"),
    ]
    if SETTINGS.https:
        out.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return out


def _header(scope: Scope, name: bytes) -> str:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return ""


def client_address(scope: Scope) -> str:
    """The client's address: the configured proxy header's first entry, else the socket's peer."""
    if SETTINGS.client_address_header:
        forwarded = _header(scope, SETTINGS.client_address_header.lower().encode("latin-1"))
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    client = scope.get("client")
    return str(client[0]) if client else ""


def _cookies(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in _header(scope, b"cookie").split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            out[name] = value
    return out


def sign_in_from_cookies(cookies: dict[str, str]) -> dict | None:
    """The claims of Streamlit's sign-in cookie, verified with the cookie secret exactly as
    Streamlit's websocket handler verifies it (None when absent, forged or expired)."""
    try:
        raw = _get_signed_cookie_with_chunks(cookies, USER_COOKIE_NAME)
    except (ValueError, UnicodeError):  # a malformed cookie
        return None
    if not raw:
        return None
    try:
        claims = json.loads(raw)
    except (ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) and claims.get("is_logged_in") else None


def _audit_refusal(
    session_id: str | None, action: str, objet: str, why: str, *, scope: Scope | None = None
) -> None:
    """An audited refusal from the middleware (never raises)."""
    from core.access import PUBLIC, Viewer
    from data.access import AUDIT_ORIGIN
    from ui.access import access_store

    info = REGISTRY.find(session_id) if session_id else None
    if info is not None:
        if info.refusals >= MAX_AUDITED_REFUSALS:
            return
        info.refusals += 1
    who = Viewer(
        role=(info.role if info and info.role else PUBLIC),
        identity=(info.identity if info and info.identity else "public"),
    )
    origin = (
        (info.address, info.agent)
        if info
        else ((client_address(scope), _header(scope, b"user-agent")) if scope else ("", ""))
    )
    token = AUDIT_ORIGIN.set(origin)
    try:
        access_store().refused(who, action, objet, why)
    except Exception:  # noqa: BLE001 - a refusal stays a refusal even if it cannot be written
        log.exception("refus non journalisé")
    finally:
        AUDIT_ORIGIN.reset(token)


def _close_sign_in_of_request(scope: Scope) -> None:
    """Streamlit's ``/auth/logout`` clears the browser's cookie; the record is closed here too,
    so a copy of that cookie opens nothing afterwards."""
    claims = sign_in_from_cookies(_cookies(scope))
    if not claims:
        return
    from data.access import sign_in_key
    from ui.access import access_store

    with contextlib.suppress(Exception):
        access_store().close_sign_in(sign_in_key(claims), "déconnexion")


def release_abandoned_uploads(session_id: str) -> int:
    """Remove from Streamlit's upload manager the session's uploads no widget holds any more."""
    stale = REGISTRY.abandoned(session_id, older_than=ABANDONED_AFTER_S)
    if not stale:
        return 0
    from streamlit import runtime

    if not runtime.exists():
        return 0
    mgr = runtime.get_instance().uploaded_file_mgr
    for fid in stale:
        mgr.remove_file(session_id=session_id, file_id=fid)
    return len(stale)


def _referenced_uploads(msg: BackMsg) -> set[str]:
    out: set[str] = set()
    for w in msg.rerun_script.widget_states.widgets:
        if w.WhichOneof("value") == "file_uploader_state_value":
            out.update(i.file_id for i in w.file_uploader_state_value.uploaded_file_info)
    return out


def scrubbed_new_session(msg: ForwardMsg) -> None:
    """Replace what ``new_session`` tells about the server by constants (in place)."""
    env = msg.new_session.initialize.environment_info
    env.streamlit_version = HIDDEN_VERSION
    env.python_version = HIDDEN_VERSION
    env.server_os = "-"
    msg.new_session.main_script_path = HIDDEN_SCRIPT_PATH


def media_ids_in(msg: ForwardMsg) -> list[str]:
    """The ``/media/`` file ids a ForwardMsg hands to the browser (download buttons, images)."""
    if not (msg.HasField("delta") and msg.delta.HasField("new_element")):
        return []
    el = msg.delta.new_element
    kind = el.WhichOneof("type")
    if kind == "download_button":
        return _MEDIA_IN_URL.findall(el.download_button.url)
    if kind in ("imgs", "audio", "video", "pdf"):
        return _MEDIA_IN_URL.findall(str(getattr(el, kind)))
    return []


class Gatekeeper:
    """ASGI middleware: security headers and the checks above, in front of Streamlit.

    Parameters
    ----------
    app : ASGI application
        What it guards (Streamlit's application, or the next middleware).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # -- HTTP ---------------------------------------------------------------------------
    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if path.rstrip("/") == "/_stcore/metrics":
            await _plain(send, 404, b"Not Found")
            return
        if path.rstrip("/") == "/auth/logout":
            await asyncio.to_thread(_close_sign_in_of_request, scope)
        upload = _UPLOAD.match(path)
        if upload and scope.get("method") == "PUT":
            session_id, file_id = upload.groups()
            if not (REGISTRY.may_upload(session_id) and REGISTRY.take_issued(session_id, file_id)):
                await asyncio.to_thread(
                    _audit_refusal,
                    REGISTRY.find(session_id) and session_id,
                    "envoi de fichier",
                    file_id[:40],
                    "adresse d'envoi non délivrée à cette session ou page sans envoi de fichier",
                    scope=scope,
                )
                await _plain(send, 403, "Envoi refusé : cette page ne demande pas de fichier.".encode())
                return
        media = _MEDIA.match(path)
        if (
            media
            and SETTINGS.mode == "serveur"
            and not await asyncio.to_thread(self._media_allowed, scope, media.group(1))
        ):
            await _plain(
                send, 403, "Fichier refusé : connectez-vous avec le compte qui l'a demandé.".encode()
            )
            return
        extra = security_headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", ())}
                message["headers"] = [
                    *message.get("headers", ()),
                    *((k, v) for k, v in extra if k not in names),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _media_allowed(scope: Scope, file_id: str) -> bool:
        keys = REGISTRY.media_keys(file_id)
        if PUBLIC_KEY in keys:
            return True
        claims = sign_in_from_cookies(_cookies(scope))
        from data.access import sign_in_key
        from ui.access import access_store

        key = sign_in_key(claims) if claims else ""
        if key and key in keys and access_store().sign_in_state(key) == "ouverte":
            return True
        _audit_refusal(
            None,
            "téléchargement",
            file_id[:40],
            "fichier non délivré à cette connexion" if claims else "pas de connexion",
            scope=scope,
        )
        return False

    # -- websocket ----------------------------------------------------------------------
    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: dict[str, str] = {"sid": ""}
        address, agent = client_address(scope), _header(scope, b"user-agent")[:300]

        async def guarded_receive() -> Message:
            while True:
                message = await receive()
                if message["type"] != "websocket.receive" or not message.get("bytes"):
                    return message
                try:
                    msg = BackMsg.FromString(message["bytes"])
                except Exception:  # noqa: BLE001 - Streamlit closes the socket on it
                    return message
                kind = msg.WhichOneof("type")
                sid = state["sid"]
                if kind == "clear_cache":
                    await asyncio.to_thread(
                        _audit_refusal, sid, "vider les caches", "", "message clear_cache ignoré"
                    )
                    continue
                if kind == "file_urls_request" and not REGISTRY.may_upload(sid):
                    await asyncio.to_thread(
                        _audit_refusal,
                        sid,
                        "envoi de fichier",
                        "",
                        "demande d'adresses d'envoi sur une page sans envoi de fichier",
                    )
                    continue
                if kind == "rerun_script" and sid:
                    REGISTRY.referenced(sid, _referenced_uploads(msg))
                    with contextlib.suppress(Exception):
                        release_abandoned_uploads(sid)
                return message

        async def guarded_send(message: Message) -> None:
            data = message.get("bytes") if message["type"] == "websocket.send" else None
            if data:
                try:
                    msg = ForwardMsg.FromString(data)
                except Exception:  # noqa: BLE001 - not ours to judge
                    msg = None
                if msg is not None:
                    kind = msg.WhichOneof("type")
                    if kind == "new_session":
                        sid = msg.new_session.initialize.session_id
                        if sid and sid != state["sid"]:
                            state["sid"] = sid
                            REGISTRY.connected(sid, address, agent)
                        scrubbed_new_session(msg)
                        message = {**message, "bytes": msg.SerializeToString()}
                    elif kind == "file_urls_response" and state["sid"]:
                        REGISTRY.issued(state["sid"], [f.file_id for f in msg.file_urls_response.file_urls])
                    elif kind == "delta" and state["sid"]:
                        ids = media_ids_in(msg)
                        if ids:
                            REGISTRY.media_sent(state["sid"], ids)
                    elif kind == "backend_operation_response" and state["sid"]:
                        ids = _MEDIA_IN_URL.findall(msg.backend_operation_response.deferred_file.url)
                        if ids:
                            REGISTRY.media_sent(state["sid"], ids)
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        finally:
            if state["sid"]:
                REGISTRY.forget(state["sid"])


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *security_headers(),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
