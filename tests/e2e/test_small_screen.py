"""The analyst's pages on a 1024 x 768 screen: every control on screen, no figure cut.

Chromium at 1024 x 768 (a préfecture laptop): in the main part of each page, every button,
option, field and selector lies within the window's width (none pushed off to the right),
and every metric's value and label is shown whole (no ellipsis: their text fits their box);
a communes' map narrower than 640 px has its legend under it, not over the territory.
A screenshot of each page is kept in ``test-artifacts``.
"""

from __future__ import annotations

import pytest

from tests.e2e.helpers import ARTIFACTS, offline_page, page_settled

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 1024, 768
PAGES = ("", "zones", "videoprotection", "suivi", "organisation")

#: The controls of the main part that lie beyond the window's right edge, and the metric
#: texts whose content is wider than their box (cut with « … »).
LAYOUT_FAULTS = """
(width) => {
  const main = document.querySelector("[data-testid='stMain']");
  const block = main.querySelector("[data-testid='stMainBlockContainer']") || main;
  const out = [];
  const controls = main.querySelectorAll(
    "button, [role='radio'], [role='combobox'], input, [data-testid='stSegmentedControl'] *"
  );
  for (const el of controls) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;  // hidden (a closed expander)
    // Beyond the window, or beyond the column or block that clips it.
    const box = (el.closest("[data-testid='stColumn']") || block).getBoundingClientRect();
    if (r.right > Math.min(width, box.right) + 1)
      out.push(`hors écran : ${(el.innerText || el.getAttribute('aria-label') || el.tagName).slice(0, 40)} (${Math.round(r.right)} px)`);
  }
  const texts = main.querySelectorAll(
    "[data-testid='stMetricValue'], [data-testid='stMetricValue'] *, [data-testid='stMetricLabel'], [data-testid='stMetricLabel'] *"
  );
  for (const el of texts) {
    if (el.clientWidth && el.scrollWidth > el.clientWidth + 1) out.push(`coupé : ${el.innerText.slice(0, 40)}`);
  }
  // A legend laid over a narrow communes' map hides part of the territory: it goes under it.
  for (const wrap of main.querySelectorAll(".carto")) {
    const m = wrap.querySelector(".carto-map").getBoundingClientRect();
    const l = wrap.querySelector(".carto-legend");
    if (l.hidden || m.width >= 640) continue;
    const r = l.getBoundingClientRect();
    if (r.top < m.bottom - 1) out.push(`légende sur la carte (${Math.round(m.width)} px de large)`);
  }
  return out;
}
"""


@pytest.mark.parametrize("path", PAGES, ids=[p or "diagnostic" for p in PAGES])
def test_page_fits_a_1024_by_768_screen(browser, server, path):
    blocked, dialogs = [], []
    page = offline_page(
        browser, blocked, dialogs, viewport={"width": WIDTH, "height": HEIGHT}, locale="fr-FR"
    )
    page.goto(f"{server}/{path}")
    page_settled(page, pause_ms=3000)
    page.screenshot(path=str(ARTIFACTS / f"ecran_1024_{path or 'diagnostic'}.png"), full_page=True)
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator("[data-testid='stMain'] button").count() > 0
    faults = page.evaluate(LAYOUT_FAULTS, WIDTH)
    assert faults == [], "\n".join(faults)
    page.close()
