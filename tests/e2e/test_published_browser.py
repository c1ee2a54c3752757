"""Browser pass of the published-view audit: what the server sends, read off the wire.

Two adversarial cases of tests/test_published_audit.py, driven through the real widgets
in Chromium, in the published view (the default): the Diagnostic on one day and one rare
offence, and the same day at the EPCI and Canton levels. Every WebSocket frame the tab
receives is decoded (tests/e2e/wire.py) and every download the page offers is fetched:
no count from 1 to 5 may appear in a metric, a table, chart data, a map property, a text
or a download. Non-vacuity: the selection does hold 1 to 5 incidents in some commune
(the internal view shows them), and the published tab did receive tables, charts, maps
and downloads.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest

from core.settings import SETTINGS
from tests.e2e.helpers import any_map_drawn, offline_page, open_each_tab, type_period
from tests.e2e.wire import Sent, Wire

pytestmark = pytest.mark.e2e
T = SETTINGS.privacy_threshold
#: Columns and properties that hold counts of incidents.
COUNT_NAMES = re.compile(r"^(faits|nombre|n|effectif|faits_reference|total)$|^faits_", re.IGNORECASE)
SMALL_IN_TEXT = re.compile(r"(?<![\d,.\u202f\u00a0])([1-5])(?:\u00a0|\s)+(faits?|incidents?)\b")
RARE = "Violences sexuelles"


def _day_of_a_few(offence: str) -> tuple[str, str, str]:
    """A day of June 2025 on which the embedded default data hold 1 to 5 incidents of
    ``offence`` (so that the published view has something to hide), as (dd, mm, yyyy)."""
    from core import model as m
    from data.default_dataset import DEFAULT_SLUG, ensure_default_dataset
    from data.locations import default_store

    ensure_default_dataset()
    inc = default_store().load(DEFAULT_SLUG)
    days = inc.loc[inc[m.OFFENCE].astype(str) == offence, m.START].dt.date.value_counts()
    june = sorted(d for d, n in days.items() if 1 <= n <= T and d.year == 2025 and d.month == 6)
    assert june, f"no day of June 2025 with 1 to {T} incidents of {offence} in the default data"
    day = june[len(june) // 2]
    return f"{day.day:02d}", f"{day.month:02d}", f"{day.year}"


DAY = _day_of_a_few(RARE)


def small(value: object) -> bool:
    """A count of 1 to 5 (an integer: rates and shares are checked by the use-case audit)."""
    if isinstance(value, str):
        value = value.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        v = float(value)
    except (TypeError, ValueError):
        return False
    return bool(np.isfinite(v) and 0 < v <= T and v == int(v))


def small_counts(frame: pd.DataFrame) -> list[object]:
    return [v for c in frame.columns if COUNT_NAMES.search(str(c)) for v in frame[c] if small(v)]


def settled(page) -> None:
    """Wait for the script run to finish and the map to be drawn."""
    page.wait_for_timeout(500)
    page.locator("[data-stale='true']").first.wait_for(state="detached", timeout=120_000)
    any_map_drawn(page)
    page.wait_for_timeout(1500)


def select_day_and_offence(page) -> None:
    """Period: one day; offences: the rare one only (through the sidebar widgets)."""
    type_period(page, DAY)
    settled(page)
    select_rare_offence(page)


def select_rare_offence(page) -> None:
    """Offences: the rare one only (through the sidebar's multiselect)."""
    offences = page.locator("[data-testid='stMultiSelect']").first
    clear = offences.get_by_role("button", name=re.compile("Clear all|Tout effacer", re.IGNORECASE))
    if clear.count():  # (the sidebar opens with none chosen: « Toutes les infractions »)
        clear.click()
        settled(page)
    offences.locator("input").fill(RARE)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.locator("h1").first.click()  # closes the option list, which would take the next click
    settled(page)


def download_frames(page, base: str, sent: Sent) -> list[pd.DataFrame]:
    """Every file the page offers, fetched as a user would: the exports are made on click
    (after their audit line), so each download button is clicked and its file read."""
    import json

    out = []
    buttons = page.locator("[data-testid='stDownloadButton'] button")
    for i in range(buttons.count()):
        button = buttons.nth(i)
        button.scroll_into_view_if_needed()
        with page.expect_download(timeout=60_000) as info:
            button.click()
        name = info.value.suggested_filename
        body = open(info.value.path(), "rb").read()  # noqa: SIM115
        if name.endswith(".csv"):
            out.append(
                pd.read_csv(io.BytesIO(body), sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
            )
        elif name.endswith(".geojson"):
            out.append(pd.DataFrame([f["properties"] for f in json.loads(body)["features"]]))
    for label, url in sent.downloads.items():  # files sent with the page, if any
        response = page.request.get(base + url)
        assert response.ok, f"{label} : {response.status}"
    return out


def audit(sent: Sent, downloads: list[pd.DataFrame]) -> list[str]:
    """Every count of 1 to 5 found in what was sent, described."""
    found = [f"métrique {label} = {body}" for label, body in sent.metrics if small(body)]
    found += [f"tableau : {v}" for t in sent.tables for v in small_counts(t)]
    found += [f"graphique : {v}" for t in sent.charts for v in small_counts(t)]
    found += [f"téléchargement : {v}" for t in downloads for v in small_counts(t)]
    found += [
        f"carte : {k} = {v}"
        for props in sent.map_properties
        for k, v in props.items()
        if COUNT_NAMES.search(k) and small(v)
    ]
    found += [f"texte : {m.group(0)}" for text in sent.texts for m in SMALL_IN_TEXT.finditer(text)]
    return found


@pytest.mark.parametrize("level", ["Commune", "EPCI", "Canton"])
def test_published_diagnostic_one_day_one_rare_offence(browser, server, level):
    blocked, dialogs = [], []
    page = offline_page(browser, blocked, dialogs, viewport={"width": 1500, "height": 1400})
    wire = Wire(page)
    page.goto(server)
    settled(page)
    select_day_and_offence(page)
    # The published view works in whole months: the day asked for becomes its month, and it says so.
    assert page.get_by_text("Période du 01/06/2025 au 30/06/2025").count() == 1
    assert page.get_by_text(re.compile("période étendue aux mois entiers")).count() == 1
    if level != "Commune":
        page.get_by_role("radio", name=level, exact=True).click()
        settled(page)
    assert open_each_tab(page, settled) == 5  # the charts' tabs: each is sent when chosen
    # Everything this tab received from the start, whatever is on screen now.
    sent = wire.sent()
    downloads = download_frames(page, server, sent)
    assert sent.metrics and sent.tables and sent.charts and sent.map_properties and downloads
    assert audit(sent, downloads) == []
    # Non-vacuity: in the internal view the same selection shows counts of 1 to 5.
    wire.clear()
    switch = page.locator("[data-testid='stSidebar'] input[type=checkbox]").first
    assert switch.is_checked()
    page.locator("[data-testid='stSidebar'] label:has-text('Vue diffusable')").first.click()
    settled(page)
    assert not switch.is_checked()
    open_each_tab(page, settled)
    internal = wire.sent()
    assert audit(internal, download_frames(page, server, internal)), "the case selects no count of 1 to 5"
    page.close()


def test_published_zones_near_repeat_and_concentration(browser, server):
    """The Knox table, the concentration table and curves, read off the wire in the published view."""
    blocked, dialogs = [], []
    page = offline_page(browser, blocked, dialogs, viewport={"width": 1500, "height": 1400})
    wire = Wire(page)
    page.goto(server + "/zones")
    settled(page)
    page.get_by_text("Calculer le test de Knox").click()
    page.get_by_text(re.compile("Après un cambriolage|Répétition proche|Pas de risque")).first.wait_for(
        timeout=120_000
    )
    page.get_by_text("Calculer la concentration des faits").click()
    page.get_by_text("mailles de 100 m couvrent le territoire").first.wait_for(timeout=120_000)
    settled(page)
    sent = wire.sent()
    heat = [t for t in sent.charts if "observees" in t.columns]
    assert heat, "the Knox table was not sent"
    assert not [v for t in heat for v in t["observees"] if small(v)]
    assert [t for t in sent.tables if "gini_lieux" in t.columns], "the concentration table was not sent"
    assert not [t for t in sent.tables if {"latitude", "longitude"} & set(t.columns)]  # no repeat place
    found = audit(sent, download_frames(page, server, sent))
    found = [f for f in found if not f.startswith("métrique Zones =")]  # a number of zones, not of incidents
    assert found == [], found
    # Non-vacuity: the internal view sends pair counts of 1 to 5 and the repeat places.
    wire.clear()
    page.locator("[data-testid='stSidebar'] label:has-text('Vue diffusable')").first.click()
    page.get_by_text("Lieux touchés plusieurs fois").first.wait_for(timeout=120_000)
    settled(page)
    internal = wire.sent()
    assert [v for t in internal.charts if "observees" in t.columns for v in t["observees"] if small(v)]
    assert [t for t in internal.tables if {"latitude", "longitude"} <= set(t.columns)]
    page.close()


def test_published_zones_backtest(browser, server):
    """The back-test of a rare offence, read off the wire: in the published view no window
    with 1 to 5 incidents (on the horizon or caught) is sent; the internal view sends them."""
    blocked, dialogs = [], []
    page = offline_page(browser, blocked, dialogs, viewport={"width": 1500, "height": 1400})
    wire = Wire(page)
    page.goto(server + "/zones")
    settled(page)
    select_rare_offence(page)
    wire.clear()
    page.get_by_text("Comparer les méthodes sur l'historique").click()
    sentence = re.compile("Ici, la méthode qui a le mieux prédit|rétro-évaluation n'est pas publiable")
    page.get_by_text(sentence).first.wait_for(timeout=300_000)
    settled(page)
    sent = wire.sent()

    def backtest_counts(s: Sent) -> list[object]:
        tables = [t for t in s.tables if "Faits captés" in t.columns]
        return [v for t in tables for c in t.columns if str(c).startswith("Faits") for v in t[c] if small(v)]

    assert [t for t in sent.tables if "Rapport à la référence" in t.columns], "the summary was not sent"
    assert [t for t in sent.tables if "Faits captés" in t.columns], "the monthly table was not sent"
    assert backtest_counts(sent) == []
    found = [f for f in audit(sent, []) if not f.startswith("métrique Zones =")]
    assert found == [], found
    assert any("non publié" in text for text in sent.texts)
    # Non-vacuity: the internal view sends the windows of 1 to 5 incidents.
    wire.clear()
    page.locator("[data-testid='stSidebar'] label:has-text('Vue diffusable')").first.click()
    page.get_by_text(re.compile("Ici, la méthode qui a le mieux prédit")).first.wait_for(timeout=300_000)
    settled(page)
    assert backtest_counts(wire.sent())
    page.close()


def test_published_hot_streets(browser, server):
    """Incidents per street segment, read off the wire: in the published view no segment of 1
    to 5 incidents is sent (table, map properties, downloads, metrics, texts); the internal view
    sends them."""
    blocked, dialogs = [], []
    page = offline_page(
        browser, blocked, dialogs, viewport={"width": 1500, "height": 1400}, accept_downloads=True
    )
    wire = Wire(page)
    page.goto(server + "/zones")
    settled(page)
    wire.clear()
    page.get_by_text("Compter les faits par tronçon de rue").click()
    page.get_by_text("Tronçons qui concentrent la moitié des faits").first.wait_for(timeout=120_000)
    settled(page)
    sent = wire.sent()
    segments = [t for t in sent.tables if "par_km" in t.columns]
    assert segments and len(segments[-1]), "the segment table was not sent"
    assert [p for p in sent.map_properties if "par_km" in p], "the segment map was not sent"
    found = [
        f for f in audit(sent, download_frames(page, server, sent)) if not f.startswith("métrique Zones =")
    ]
    assert found == [], found
    assert any("ne sont pas montrés" in text for text in sent.texts)
    # Non-vacuity: the internal view sends the segments of 1 to 5 incidents.
    wire.clear()
    page.locator("[data-testid='stSidebar'] label:has-text('Vue diffusable')").first.click()
    page.get_by_text("Tronçons qui concentrent la moitié des faits").first.wait_for(timeout=120_000)
    settled(page)
    internal = wire.sent()
    assert [
        v for p in internal.map_properties if "par_km" in p for k, v in p.items() if k == "faits" and small(v)
    ]
    page.close()
