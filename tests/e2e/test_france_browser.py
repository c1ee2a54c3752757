"""The France page in Chromium: the départements' map and table, read off the wire, and its links.

The workspace holds a small national data set and the batch's results (tests/tooling.py): the
Territoire de Belfort and the Creuse computed, the Lozère with three incidents (secret). Every
WebSocket frame the tab receives is decoded (tests/e2e/wire.py) and the CSV export fetched: no
count from 1 to 5 may reach the browser, in the table, the map's properties, a text or the file.
Non-vacuity: the Lozère's partition does hold 1 to 5 incidents in its twelve months, and the
page did send the table, the map and the export.
"""

from __future__ import annotations

import re
import shutil
from urllib.parse import urljoin

import geopandas as gpd
import pytest

from core.settings import SETTINGS
from tests.e2e.helpers import any_map_drawn, offline_page, streamlit_server
from tests.e2e.test_french_numbers import placeholders
from tests.e2e.test_published_browser import SMALL_IN_TEXT, download_frames, small
from tests.e2e.wire import Wire
from tests.tooling import NATIONAL_COMPUTED, NATIONAL_SECRET

pytestmark = pytest.mark.e2e
T = SETTINGS.privacy_threshold
COUNTS = ("Faits (12 mois)", "faits")


@pytest.fixture(scope="module")
def server(tmp_path_factory, national_template):
    ws = tmp_path_factory.mktemp("ws")
    shutil.copytree(national_template, ws / "national")
    with streamlit_server({"DELINQ_WORKSPACE_DIR": str(ws)}) as url:
        yield url, ws


def settled(page) -> None:
    page.wait_for_timeout(500)
    page.locator("[data-stale='true']").first.wait_for(state="detached", timeout=120_000)
    page.wait_for_timeout(800)


def map_drawn(page) -> None:
    settled(page)
    any_map_drawn(page)


def sidebar_choices(page) -> list[str]:
    """What the sidebar's select boxes show (their value is in an input, not in the text)."""
    boxes = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']")
    out = []
    for i in range(boxes.count()):
        box = boxes.nth(i)
        out += [box.inner_text(), *box.locator("input").evaluate_all("els => els.map(e => e.value)")]
    return out


def test_france_page_sends_no_small_count_and_its_links_open_the_departement(browser, server):
    base, ws = server
    # Non-vacuity: the secret département has 1 to 5 incidents in the data it was computed from.
    tiny = gpd.read_parquet(
        ws / "national" / "minuscule" / "incidents" / f"departement={NATIONAL_SECRET}" / "part-0.parquet"
    )
    assert 1 <= len(tiny) <= T
    page = offline_page(browser, [], [], viewport={"width": 1500, "height": 1400})
    wire = Wire(page)
    page.goto(base + "/france")
    page.get_by_text("France — tous les départements").first.wait_for(timeout=120_000)
    map_drawn(page)
    assert page.get_by_text("Départements avec résultats (3)").count() == 1
    page.get_by_text("Évolution sur un an (2 derniers mois)").first.click()  # another measure
    map_drawn(page)
    sent = wire.sent()
    tables = [t for t in sent.tables if "Département" in t.columns]
    assert tables and sent.map_properties
    # 101 départements on the map, every one with its tooltip fields
    departements = {p["departement"].split(" — ")[0] for p in sent.map_properties if "departement" in p}
    assert len(departements) == 101
    maps = [c for c in sent.components if "Départements" in c or "departement" in c]
    assert maps and max(len(c.encode()) for c in maps) < 2_000_000  # the map's payload stays small
    table = tables[-1].set_index("Département")
    for code in NATIONAL_COMPUTED:
        assert table.loc[code, "Faits (12 mois)"] > T
    assert table.loc[NATIONAL_SECRET, "Remarque"].startswith("secret statistique")
    secret_props = [
        p for p in sent.map_properties if p.get("departement", "").startswith(f"{NATIONAL_SECRET} ")
    ]
    assert secret_props and {p["faits"] for p in secret_props} == {"secret"}
    downloads = download_frames(page, base, sent)
    assert downloads and NATIONAL_SECRET in set(downloads[0]["Département"])
    found = [f"tableau : {v}" for t in tables for c in COUNTS if c in t for v in t[c] if small(v)]
    found += [
        f"carte : {v}" for p in sent.map_properties for c in COUNTS if c in p for v in [p[c]] if small(v)
    ]
    found += [f"téléchargement : {v}" for t in downloads for c in COUNTS if c in t for v in t[c] if small(v)]
    found += [f"texte : {m.group(0)}" for text in sent.texts for m in SMALL_IN_TEXT.finditer(text)]
    assert found == []
    assert placeholders(sent) == []  # the secret département's empty cells read « – », not « None »
    # The link opens the département's own pages, the sidebar set to it, on its national partition.
    chooser = page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").first
    chooser.click()
    page.get_by_role("option", name=re.compile("^90 – Territoire de Belfort")).click()
    settled(page)
    page.get_by_role("link", name=re.compile("Diagnostic — 90")).click()
    page.get_by_text(re.compile("^Diagnostic territorial — Territoire de Belfort")).first.wait_for(
        timeout=120_000
    )
    settled(page)
    chosen = sidebar_choices(page)
    assert "90 – Territoire de Belfort" in chosen
    assert any(c.startswith("90 — jeu national") for c in chosen), chosen
    assert "departement=" not in page.url  # taken once: the sidebar decides afterwards
    assert page.get_by_text("Page not found").count() == 0
    page.close()


def test_a_table_link_opens_the_diagnostic_of_its_departement(browser, server):
    """The table's « Ouvrir » URL, resolved against the France page and followed as a new tab would."""
    base, _ = server
    page = offline_page(browser, [], [], viewport={"width": 1400, "height": 1200})
    wire = Wire(page)
    page.goto(base + "/france")
    page.get_by_text("Départements avec résultats (3)").wait_for(timeout=120_000)
    settled(page)
    table = next(t for t in wire.sent().tables if "Ouvrir" in t.columns).set_index("Département")
    page.goto(urljoin(page.url, table.loc["23", "Ouvrir"]))
    page.get_by_text(re.compile("^Diagnostic territorial — Creuse")).first.wait_for(timeout=120_000)
    settled(page)
    assert "23 – Creuse" in sidebar_choices(page)
    assert page.get_by_text("Page not found").count() == 0  # the link names a page that exists
    page.close()
