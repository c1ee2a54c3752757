"""First full render of the Diagnostic page in headless Chromium, server warm.

Measures, for fresh browser pages against a warm ``streamlit run`` server on the embedded
default data (Mayenne, ~36,000 incidents; the page shows the last 12 months, ~9,300): from
navigation start until every commune polygon is drawn on the map and the charts are drawn.
There is no external anchor for this figure: it is printed against the goal (< 4 s).
Offline: every request to another host is blocked, as in the tests.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.helpers import CHROMIUM, CHROMIUM_ARGS, MAP_FRAME, offline_page, streamlit_server  # noqa: E402

GOAL_S = 4.0


def render_once(browser, url: str) -> float:
    blocked, dialogs = [], []
    page = offline_page(browser, blocked, dialogs, viewport={"width": 1500, "height": 1800})
    t = time.perf_counter()
    page.goto(url)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator("path.leaflet-interactive").nth(239).wait_for(timeout=120_000)
    page.locator("[data-testid='stVegaLiteChart']").last.locator("canvas, svg").first.wait_for(
        timeout=120_000
    )
    dt = time.perf_counter() - t
    page.close()
    return dt


def main() -> None:
    from playwright.sync_api import sync_playwright

    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    with streamlit_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        cold = render_once(browser, url)
        times = [render_once(browser, url) for _ in range(5)]
        browser.close()
    med = statistics.median(times)
    print(f"premier rendu (serveur froid, caches vides)  : {cold:.2f} s")
    print(
        f"rendu complet, serveur chaud (médiane de 5)  : {med:.2f} s  [{', '.join(f'{x:.2f}' for x in times)}]"
    )
    print(f"objectif : {GOAL_S:.1f} s ; ratio médiane / objectif : {med / GOAL_S:.2f}")


if __name__ == "__main__":
    main()
