"""Start the app with ``streamlit run`` on a free port, and drive Debian's Chromium.

Shared by the browser tests and the render benchmark.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, log: str, timeout: float = 90) -> None:
    """Wait for ``url`` to answer 200 while ``proc`` runs (a French error with its log otherwise)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            raise RuntimeError(f"processus arrêté (code {proc.returncode}), voir {log}")
    raise RuntimeError(f"{url} ne répond pas à temps, voir {log}")


@contextlib.contextmanager
def streamlit_process(
    env: dict[str, str] | None = None, timeout: float = 90
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run the app on a free local port; yield its base URL and the server process."""
    port = free_port()
    log = open(ARTIFACTS.joinpath(f"streamlit-{port}.log"), "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/_stcore/health", proc, log.name, timeout)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def streamlit_server(env: dict[str, str] | None = None, timeout: float = 90) -> Iterator[str]:
    """Run the app on a free local port; yield its base URL."""
    with streamlit_process(env, timeout) as (url, _proc):
        yield url


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


def offline_route(blocked: list[str]):
    """A Playwright route handler aborting every request to another host than this machine
    (each aborted URL appended to ``blocked``): for a page or a whole browser context."""

    def route(r):
        host = r.request.url.split("/")[2] if "://" in r.request.url else ""
        if host.startswith(("127.0.0.1", "localhost")) or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    return route


def offline_page(browser, blocked: list[str], dialogs: list[str], **kw):
    """A page whose every request to another host than this machine is aborted."""
    page = browser.new_page(**kw)
    page.route("**/*", offline_route(blocked))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return page


MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"
#: The app's own map (ui.layer_map): in the page, its shapes on a canvas.
LAYER_MAP = ".carto-map"

_LAYER_COUNTS = """([nth, want]) => {
  const maps = document.querySelectorAll('.carto-map');
  const box = maps[nth < 0 ? maps.length + nth : nth];
  if (!box || !box.dataset.layers) return false;
  const counts = Object.fromEntries(box.dataset.layers.split(';').map(s => {
    const i = s.lastIndexOf(':'); return [s.slice(0, i), Number(s.slice(i + 1))];
  }));
  for (const [name, n] of Object.entries(want)) if (!(counts[name] >= n)) return false;
  return counts;
}"""


def layer_map_drawn(
    page, want: dict[str, int] | None = None, *, nth: int = -1, timeout: int = 90_000
) -> dict:
    """Wait until the ``nth`` app map (ui.layer_map) has drawn at least ``want`` shapes per layer
    (default: one commune); its shape count per layer."""
    want = {"Communes": 1} if want is None else want
    handle = page.wait_for_function(_LAYER_COUNTS, arg=[nth, want], timeout=timeout)
    return handle.json_value()


_ANY_MAP = """() => !!document.querySelector('.carto-map[data-layers]') || [...document.querySelectorAll('iframe')]
  .some(f => { try { return !!f.contentDocument.querySelector('.leaflet-overlay-pane path'); } catch (e) { return false; } })"""


def any_map_drawn(page, *, timeout: int = 120_000) -> None:
    """Wait until a map of the page has drawn something (the app's map or a folium frame)."""
    page.wait_for_function(_ANY_MAP, timeout=timeout)


def layer_point(page, text: str, *, nth: int = -1) -> tuple[float, float] | None:
    """Page coordinates of the centre of the shape (of the first layer) one of whose values
    contains ``text``, after zooming the map on it; None when no shape does."""
    js = """([nth, text]) => {
      const maps = document.querySelectorAll('.carto-map');
      const box = maps[nth < 0 ? maps.length + nth : nth];
      const layer = box.carto.layers[0];
      const i = layer.spec.values.findIndex(row => row.some(v => String(v).includes(text)));
      if (i < 0) return null;
      const item = layer.items[i], map = box.carto.map;
      map.fitBounds(item.getBounds(), {animate: false, maxZoom: 12});
      const shape = item.getLayers ? item.getLayers()[0] : item;
      const p = map.latLngToContainerPoint(shape.getCenter ? shape.getCenter() : shape.getLatLng());
      const r = map.getContainer().getBoundingClientRect();
      return [p.x + r.left, p.y + r.top];
    }"""
    return page.evaluate(js, [nth, text])


def page_settled(page, *, pause_ms: int = 1500) -> None:
    """Wait for the page's title, then for its script run to end (no stale element, no running
    indicator) and ``pause_ms`` more for what the run starts (maps, charts)."""
    page.locator("[data-testid='stMain'] h1").first.wait_for(timeout=120_000)
    page.wait_for_timeout(800)
    page.locator("[data-stale='true']").first.wait_for(state="detached", timeout=120_000)
    page.locator("[data-testid='stStatusWidget']").first.wait_for(state="detached", timeout=120_000)
    page.wait_for_timeout(pause_ms)


def open_each_tab(page, settle=None) -> int:
    """Choose each tab of the page's main part in turn, then the first again (a lazy tab, such
    as the Diagnostic's charts, is computed and sent only when chosen); the number of tabs."""
    settle = settle or page_settled
    tabs = page.locator("[data-testid='stMain'] [role='tab']")
    n = tabs.count()
    for i in [*range(1, n), 0] if n else []:
        tabs.nth(i).click()  # a tab behind a modal (« Page not found ») times out: a failure
        settle(page)
    return n


def type_period(page, day: tuple[str, str, str]) -> None:
    """Type one day (dd, mm, yyyy) as both ends of the sidebar's period, then leave the field."""
    fields = page.locator("[data-testid='stSidebar'] [data-testid='stDateInput'] [role='spinbutton']")
    for i, value in enumerate(day * 2):
        fields.nth(i).click()
        page.keyboard.type(value)
    page.keyboard.press("Escape")
    page.locator("[data-testid='stMain'] h1").first.click()
