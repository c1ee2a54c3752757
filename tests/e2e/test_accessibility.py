"""Accessibility (RGAA, on WCAG 2.1 A and AA): axe-core in Chromium on every page.

axe-core (npm, ``tests/a11y``; installed by ``make test``) is injected into each page and into
each of its frames (the maps are component frames), then run with the WCAG 2.1 A and AA rules.
No violation of impact « critical » or « serious » may remain; the others are listed in the
failure message of the test that checks the count, and in the accessibility statement.
With CI=true a missing axe-core fails the test, it never skips it.
"""

from __future__ import annotations

import pytest

from tests.e2e.a11y import axe_source_or_fail, serious, violations
from tests.e2e.helpers import offline_page, page_settled

pytestmark = pytest.mark.e2e

PAGES = ("", "zones", "videoprotection", "suivi", "organisation", "france", "donnees", "accessibilite")


@pytest.fixture(scope="module")
def axe_source() -> str:
    return axe_source_or_fail()


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
    bad, report = serious(found)
    assert not bad, report
    page.close()
