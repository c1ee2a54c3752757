"""axe-core in Chromium: the WCAG 2.1 A and AA violations of a page and of each of its frames.

Shared by the accessibility tests of the local post (``test_accessibility.py``) and of the
server mode's own pages (the mayor's « Ma commune », « Administration »: ``test_sign_in.py``).
axe-core (npm, ``tests/a11y``) is installed by ``make test``; with CI=true a missing axe-core
fails the test, it never skips it.
"""

from __future__ import annotations

from tests.e2e.helpers import ROOT
from tests.tooling import skip_or_fail

AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN = """
async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " : " + (n.failureSummary || "").slice(0, 160)),
  }));
}
"""


def axe_source_or_fail() -> str:
    """axe-core's script; fails (CI) or skips without it."""
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


def serious(found: list[dict]) -> tuple[list[dict], str]:
    """The critical and serious violations, and their report."""
    bad = [v for v in found if v["impact"] in ("critical", "serious")]
    report = "\n".join(
        f"{v['impact']} {v['id']} ({v['frame']}) : {v['help']}\n  " + "\n  ".join(v["nodes"]) for v in bad
    )
    return bad, report
