"""Accessibility (RGAA, on WCAG 2.1 A and AA): axe-core in Chromium on every page.

axe-core (npm, ``tests/a11y``; installed by ``make test``) is injected into each page and into
each of its frames (the maps are component frames), then run with the WCAG 2.1 A and AA rules.
No violation of impact « critical » or « serious » may remain; the others are listed in the
failure message of the test that checks the count, and in the accessibility statement.
With CI=true a missing axe-core fails the test, it never skips it.
"""

from __future__ import annotations

import pytest

from tests.e2e.helpers import ROOT, offline_page, page_settled
from tests.tooling import skip_or_fail

pytestmark = pytest.mark.e2e

AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGES = ("", "zones", "videoprotection", "suivi", "organisation", "france", "donnees", "accessibilite")
RUN = """
async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " : " + (n.failureSummary || "").slice(0, 160)),
  }));
}
"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        skip_or_fail(f"{AXE} introuvable : lancez « make a11y » (npm ci dans tests/a11y).")
    return AXE.read_text(encoding="utf-8")


def violations(page, source: str) -> tuple[list[dict], int]:
    """axe-core's WCAG 2.1 A/AA violations in the page and in each of its frames, and the
    number of documents checked."""
    found, checked = [], 0
    for frame in page.frames:
        try:
            frame.evaluate(source)
            for v in frame.evaluate(RUN, TAGS):
                found.append({**v, "frame": frame.name or frame.url[-60:]})
            checked += 1
        except Exception as exc:  # a frame that navigated away meanwhile
            if "detached" not in str(exc) and "destroyed" not in str(exc):
                raise
    return found, checked


@pytest.mark.parametrize("path", PAGES, ids=[p or "diagnostic" for p in PAGES])
def test_no_serious_accessibility_violation(browser, server, axe_source, path):
    blocked, dialogs = [], []
    page = offline_page(browser, blocked, dialogs, viewport={"width": 1440, "height": 900}, locale="fr-FR")
    page.goto(f"{server}/{path}")
    page_settled(page, pause_ms=3000)
    assert page.get_by_text("Page not found").count() == 0
    found, checked = violations(page, axe_source)
    maps = page.locator("iframe").count()
    assert checked >= 1 + min(maps, 1), "the map frames were not checked"
    serious = [v for v in found if v["impact"] in ("critical", "serious")]
    report = "\n".join(
        f"{v['impact']} {v['id']} ({v['frame']}) : {v['help']}\n  " + "\n  ".join(v["nodes"]) for v in serious
    )
    assert not serious, report
    page.close()
