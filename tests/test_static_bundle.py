"""Streamlit's front-end files answered from memory (ui.static_bundle), everything else passed on."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

from streamlit import file_util

from ui.static_bundle import MAX_AGE_SECONDS, PAGE_STYLE, StaticBundle

ROOT = Path(file_util.get_static_dir())


class Inner:
    """Stands for Streamlit's application: records the paths it receives."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def request(
    app, path: str, method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": headers or [], "query_string": b""}
    asyncio.run(app(scope, receive, send))
    start, body = sent[0], sent[1]
    return start["status"], dict(start["headers"]), body["body"]


def test_hashed_files_are_answered_from_memory_with_streamlits_headers():
    inner = Inner()
    app = StaticBundle(inner)
    scripts = sorted((ROOT / "static" / "js").glob("*.js"))
    assert len(scripts) > 100 and len(app.files) >= len(scripts)  # the whole bundle is there
    script = scripts[0]
    status, headers, body = request(app, f"/static/js/{script.name}")
    assert status == 200 and body == script.read_bytes()
    assert headers[b"content-type"] == b"text/javascript; charset=utf-8"
    assert headers[b"content-length"] == str(len(body)).encode()
    assert headers[b"cache-control"] == f"public, immutable, max-age={MAX_AGE_SECONDS}".encode()
    css = next((ROOT / "static" / "css").glob("*.css"))
    assert request(app, f"/static/css/{css.name}")[1][b"content-type"] == b"text/css; charset=utf-8"
    status, headers, body = request(app, f"/static/js/{script.name}", method="HEAD")
    assert status == 200 and body == b"" and headers[b"content-length"] == str(script.stat().st_size).encode()
    assert inner.paths == []


def test_everything_else_goes_to_streamlit():
    inner = Inner()
    app = StaticBundle(inner)
    script = next((ROOT / "static" / "js").glob("*.js")).name
    passed = [
        "/",
        "/index.html",  # no-cache: Streamlit's answer
        "/suivi",
        "/_stcore/health",
        "/oauth2callback",
        "/app/static/vendor/leaflet/leaflet.js",
        "/static/js/absent.js",
        "/static/../index.html",
        f"/base/static/js/{script}",
    ]
    for path in passed:
        assert request(app, path)[0] == 204, path
    assert request(app, f"/static/js/{script}", method="POST")[0] == 204
    assert inner.paths == [*passed, f"/static/js/{script}"]


def test_the_app_entry_declares_the_middleware():
    """``streamlit run app.py`` finds the st.App (Streamlit's own discovery) with the bundle in
    front, then the gatekeeper (:mod:`ui.gatekeeper`)."""
    from streamlit.web.server.app_discovery import discover_asgi_app

    entry = Path(__file__).resolve().parents[1] / "app.py"
    found = discover_asgi_app(entry)
    assert found.is_asgi_app and found.import_string == "app:app"
    import app as entry_module
    from ui.gatekeeper import Gatekeeper

    assert [m.cls for m in entry_module.app._user_middleware] == [StaticBundle, Gatekeeper]


def test_a_browser_accepting_gzip_gets_the_same_file_compressed():
    app = StaticBundle(Inner())
    script = max((ROOT / "static" / "js").glob("*.js"), key=lambda p: p.stat().st_size)
    accept = [(b"accept-encoding", b"gzip, deflate, br, zstd")]
    status, headers, body = request(app, f"/static/js/{script.name}", headers=accept)
    assert (
        status == 200 and headers[b"content-encoding"] == b"gzip" and headers[b"vary"] == b"Accept-Encoding"
    )
    assert gzip.decompress(body) == script.read_bytes() and len(body) < script.stat().st_size / 2
    assert headers[b"content-length"] == str(len(body)).encode()
    assert headers[b"content-type"] == b"text/javascript; charset=utf-8"
    assert request(app, f"/static/js/{script.name}", headers=accept)[2] is body  # compressed once
    plain = request(app, f"/static/js/{script.name}")  # no Accept-Encoding: as it is on disk
    assert b"content-encoding" not in plain[1] and plain[2] == script.read_bytes()
    tiny = min((ROOT / "static" / "js").glob("*.js"), key=lambda p: p.stat().st_size)
    assert tiny.stat().st_size < 500
    status, headers, body = request(app, f"/static/js/{tiny.name}", headers=accept)
    assert b"content-encoding" not in headers and body == tiny.read_bytes()


class Html:
    """Stands for Streamlit answering a page: its index.html (gzipped or not, in two parts)."""

    def __init__(self, *, gzipped: bool, content_type: bytes = b"text/html") -> None:
        self.gzipped, self.content_type = gzipped, content_type

    async def __call__(self, scope, receive, send) -> None:
        page = (ROOT / "index.html").read_bytes()
        body = gzip.compress(page) if self.gzipped else page
        headers = [(b"content-type", self.content_type), (b"content-length", str(len(body)).encode())]
        if self.gzipped:
            headers.append((b"content-encoding", b"gzip"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        half = len(body) // 2
        await send({"type": "http.response.body", "body": body[:half], "more_body": True})
        await send({"type": "http.response.body", "body": body[half:]})


def test_every_html_document_declares_french():
    assert b'<html lang="en"' in (ROOT / "index.html").read_bytes()  # what Streamlit ships
    for gzipped in (False, True):
        status, headers, body = request(StaticBundle(Html(gzipped=gzipped)), "/diagnostic")
        page = gzip.decompress(body) if gzipped else body
        assert status == 200 and b'<html lang="fr"' in page and b'lang="en"' not in page
        assert headers[b"content-length"] == str(len(body)).encode()
        head = page[: page.index(b"</head>")]
        assert head.count(PAGE_STYLE) == 1  # our layout rules, once, in Streamlit's document
    # Other responses are passed as they are (a JavaScript file that mentions the string).
    status, headers, body = request(
        StaticBundle(Html(gzipped=False, content_type=b"text/javascript")), "/x.js"
    )
    assert b'<html lang="en"' in body
