"""The Diagnostic's filters with the keyboard only (RGAA: every control reachable and operable).

Chromium, no mouse: Tab walks the page from its start; every filter of the sidebar (period,
offences, places, forces) and every control above the map (rate, level, classes) receives the
focus in turn. Then, still by keyboard only, an offence is chosen in the picker (typed, Enter)
and the level set to EPCI (Tab to the level, whose options are one stop as in any group of
radio buttons, the right arrow to EPCI, Space): what the server sends afterwards (read on the
wire) is the selection asked for.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.helpers import offline_page, page_settled
from tests.e2e.wire import Wire

pytestmark = pytest.mark.e2e

#: What the focused element is: its label, its text, or the label of the widget around it.
FOCUSED = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "";
  const widget = el.closest("[data-testid^='st']");
  const label = widget && widget.querySelector("label");
  return [el.getAttribute("aria-label") || "", (el.innerText || "").trim().split("\\n")[0],
          label ? label.innerText.trim() : ""].join(" | ");
}
"""
#: The controls the filters are made of, by the text the focus walk must meet.
EXPECTED = (
    "Période",
    "Infractions",
    "Types de lieu",
    "Force",
    "Taux brut",
    "Commune",
    "Classes de la carte",
)


def tab_until(page, pattern: re.Pattern, limit: int = 120) -> list[str]:
    """Press Tab until the focused element matches ``pattern``; every focus met on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(FOCUSED))
        if pattern.search(seen[-1]):
            return seen
    raise AssertionError(f"{pattern.pattern} jamais atteint au clavier ; parcours : {seen}")


def test_diagnostic_filters_by_keyboard_only(browser, server):
    page = offline_page(browser, [], [], viewport={"width": 1440, "height": 900}, locale="fr-FR")
    wire = Wire(page)
    page.goto(server)
    page_settled(page)
    walk = tab_until(page, re.compile(r"Classes de la carte"))
    for name in EXPECTED:
        assert any(name in f for f in walk), f"« {name} » n'est pas atteint au clavier : {walk}"
    # Operate: one offence, typed in the picker and chosen with Enter.
    # From the start of the page again (the user's F5: headless Chromium leaves the key to the page).
    before = dict(wire.sent().metrics).get("Faits")
    page.reload()
    page_settled(page)
    tab_until(page, re.compile(r"^Infractions \|"))
    wire.clear()
    page.keyboard.type("Cambriolages de logement")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page_settled(page)
    after = dict(wire.sent().metrics).get("Faits")
    assert before and after and after != before, (before, after)
    # Operate: the EPCI level, reached with Tab and pressed with Space.
    wire.clear()
    tab_until(page, re.compile(r"\| Commune \| Échelon"))
    page.keyboard.press("ArrowRight")
    assert "EPCI" in page.evaluate(FOCUSED)
    page.keyboard.press("Space")
    page_settled(page)
    assert any("EPCI" in t.columns for t in wire.sent().tables), "the ranking was not redrawn by EPCI"
    page.close()
