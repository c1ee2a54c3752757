"""Streamlit's own front-end bundle answered from memory, before Streamlit's middleware.

A browser that opens the app for the first time fetches about 300 content-hashed files of
Streamlit's front end (``/static/js/*.js``, ``/static/css``, ``/static/media``). Through
Streamlit's stack (path checks, session, gzip decision, router, ``FileResponse`` on a worker
thread) each one costs the server about a millisecond of CPU: half of a whole session's
server time in ``bench/bench_sessions.py``. :class:`StaticBundle` is a plain ASGI middleware,
placed in front through ``st.App``, that answers a ``GET``/``HEAD`` of exactly one of these
files from bytes read once at start, with the headers Streamlit gives them (content type,
``Cache-Control: public, immutable, max-age=1 year``: the names carry a content hash).

Everything else (the pages, ``index.html`` which must stay ``no-cache``, ``/_stcore``, the
sign-in routes, components, media, ``/app/static``) goes to Streamlit, with one change: an
HTML document it answers (its ``index.html`` for every page, a component's own ``index.html``,
such as the map's) says ``lang="fr"`` instead of ``lang="en"`` (RGAA / WCAG 3.1.1: the
language of the page; Streamlit's front end never sets it), and Streamlit's carries
:data:`PAGE_STYLE`. Only files under Streamlit's own
``static/static`` folder are served from memory, so nothing else on disk can be reached
through it.
"""

from __future__ import annotations

import gzip
import mimetypes
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from streamlit import file_util

#: One year, as Streamlit (``STATIC_ASSET_CACHE_MAX_AGE_SECONDS``) for its hashed assets.
MAX_AGE_SECONDS = 365 * 24 * 60 * 60
#: Bodies smaller than this are sent as they are (Starlette's ``GZipMiddleware`` default).
MIN_GZIP_BYTES = 500
COMPRESSIBLE = ("text/", "application/json", "image/svg+xml")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


def bundle_from_directory(root: Path) -> dict[str, tuple[bytes, list[tuple[bytes, bytes]]]]:
    """URL path -> (body, response headers) for every file under ``root/static``.

    Parameters
    ----------
    root : Path
        Streamlit's static directory (``streamlit.file_util.get_static_dir()``).

    Returns
    -------
    dict
        Keys like ``/static/js/index.abc123.js``.
    """
    out: dict[str, tuple[bytes, list[tuple[bytes, bytes]]]] = {}
    folder = root / "static"
    if not folder.is_dir():
        return out
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        body = path.read_bytes()
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix in (".js", ".mjs"):
            ctype = "text/javascript"
        if ctype.startswith("text/") or ctype in ("application/json", "image/svg+xml"):
            ctype += "; charset=utf-8"
        headers = [
            (b"content-type", ctype.encode("latin-1")),
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"cache-control", f"public, immutable, max-age={MAX_AGE_SECONDS}".encode("latin-1")),
            (b"x-content-type-options", b"nosniff"),
            (b"vary", b"Accept-Encoding"),
        ]
        out["/" + path.relative_to(root).as_posix()] = (body, headers)
    return out


class StaticBundle:
    """ASGI middleware answering Streamlit's hashed front-end files from memory.

    Parameters
    ----------
    app : ASGI application
        Streamlit's application (everything not in the bundle goes to it).
    root : Path, optional
        Streamlit's static directory (default: the installed Streamlit's).
    """

    def __init__(self, app: ASGIApp, root: Path | None = None) -> None:
        self.app = app
        self.files = bundle_from_directory(Path(root or file_util.get_static_dir()))
        self._gzipped: dict[str, tuple[bytes, list[tuple[bytes, bytes]]]] = {}

    def gzipped(self, path: str) -> tuple[bytes, list[tuple[bytes, bytes]]] | None:
        """The gzip-compressed body and headers of a bundle file (made once), or None when
        the file is too small or not text."""
        found = self._gzipped.get(path)
        if found is None:
            body, headers = self.files[path]
            ctype = dict(headers)[b"content-type"].decode("latin-1")
            if len(body) < MIN_GZIP_BYTES or not ctype.startswith(COMPRESSIBLE):
                return None
            packed = gzip.compress(body, compresslevel=6, mtime=0)
            kept = [(k, v) for k, v in headers if k != b"content-length"]
            found = self._gzipped[path] = (
                packed,
                [*kept, (b"content-encoding", b"gzip"), (b"content-length", str(len(packed)).encode())],
            )
        return found

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path = scope["path"]
            found = self.files.get(path)
            if found is not None:
                if _accepts_gzip(scope):
                    found = self.gzipped(path) or found
                body, headers = found
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
                return
        if scope["type"] == "http" and scope["method"] == "GET":
            await self.app(scope, receive, _FrenchDocument(send))
            return
        await self.app(scope, receive, send)


#: The document language Streamlit's and its components' ``index.html`` declare, and ours.
ENGLISH_ROOT = b'<html lang="en"'
FRENCH_ROOT = b'<html lang="fr"'
#: Our style rule over Streamlit's layout, in its ``index.html`` (an element drawn by each run
#: would shift the page's elements: a select box there no longer opened its list): below
#: 1200 px, less room at the page's sides (at 1024 px, Streamlit's 5rem on each side left the
#: page 564 px of 724). ``!important``: Streamlit's own rules, of the same specificity, are
#: written after ours. (Less room above the page, 3rem instead of 6rem, made the France page's
#: « Ouvrir un département » select box stop opening its list in the browser test: not kept.)
PAGE_STYLE = (
    b"<style>@media (max-width: 1200px) { [data-testid='stMainBlockContainer'] "
    b"{ padding-left: 1.5rem !important; padding-right: 1.5rem !important; } }</style>"
)
#: What tells Streamlit's own ``index.html`` from a component's.
STREAMLIT_ROOT = b'<div id="root">'


class _FrenchDocument:
    """A ``send`` that rewrites an HTML response's root element to ``lang="fr"`` (the body
    gathered, gunzipped when needed, its length corrected); any other response passes as it is."""

    def __init__(self, send: Callable[[Message], Awaitable[None]]) -> None:
        self.send = send
        self.start: Message | None = None
        self.parts: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            if headers.get(b"content-type", b"").startswith(b"text/html"):
                self.start = message  # held until the whole body is known
                return
            await self.send(message)
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.send(message)
            return
        self.parts.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(self.parts)
        headers = [(k, v) for k, v in self.start.get("headers", []) if k != b"content-length"]
        gzipped = any(k == b"content-encoding" and b"gzip" in v for k, v in headers)
        text = gzip.decompress(body) if gzipped and body else body
        if ENGLISH_ROOT in text[:4096]:
            text = text.replace(ENGLISH_ROOT, FRENCH_ROOT, 1)
            if STREAMLIT_ROOT in text:
                text = text.replace(b"</head>", PAGE_STYLE + b"</head>", 1)
            body = gzip.compress(text, compresslevel=6, mtime=0) if gzipped else text
        headers.append((b"content-length", str(len(body)).encode("latin-1")))
        await self.send({**self.start, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})


def _accepts_gzip(scope: Scope) -> bool:
    """Whether the request's ``Accept-Encoding`` lists gzip."""
    for name, value in scope.get("headers", ()):
        if name == b"accept-encoding":
            return b"gzip" in value.lower()
    return False
