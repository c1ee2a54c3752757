"""Browser tests: Playwright driving Debian's Chromium against ``streamlit run``.

Offline: every request to another host is blocked. With CI=true a missing browser is a
failure, never a skip.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess

import geopandas as gpd
import pytest

from core.settings import SETTINGS
from data.default_dataset import ensure_default_dataset
from geo.communes import CACHE_VERSION, build_communes_cache
from tests.e2e.helpers import (
    ARTIFACTS,
    LAYER_MAP,
    MAP_FRAME,
    layer_map_drawn,
    layer_point,
    offline_page,
    streamlit_server,
)
from tests.e2e.wire import Wire
from tests.tooling import pdf_text, tool_path

pytestmark = pytest.mark.e2e
XSS = "<img src=x onerror=alert(1)>"
XSS_CODE = "53147"  # the town of Mayenne, which has incidents


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a copy of the cache in which one commune name comes from a hostile file."""
    ARTIFACTS.mkdir(exist_ok=True)
    cache = tmp_path_factory.mktemp("cache")
    src = SETTINGS.cache_dir
    if not (src / "communes.parquet").exists():
        build_communes_cache(src)
    for name in ("communes.parquet", "cantons.parquet", "cantons.json"):
        shutil.copy(src / name, cache / name)
    com = gpd.read_parquet(cache / "communes.parquet")
    com.loc[com["code"] == XSS_CODE, "nom"] = XSS
    com.to_parquet(cache / "communes.parquet", index=False)
    (cache / "communes.json").write_text(
        json.dumps({"version": CACHE_VERSION, "size": (cache / "communes.parquet").stat().st_size})
    )
    from data.store import DatasetStore

    ensure_default_dataset(store=DatasetStore(cache / "datasets"))
    # The demonstration's road network, as set-up builds it (make cache).
    shutil.copytree(src / "routes", cache / "routes")
    env = {"DELINQ_CACHE_DIR": str(cache), "DELINQ_WORKSPACE_DIR": str(cache / "ws")}
    with streamlit_server(env) as url:
        yield url


def test_diagnostic_offline_draws_map_and_charts(browser, server):
    blocked, dialogs = [], []
    page = offline_page(browser, blocked, dialogs, viewport={"width": 1500, "height": 1800})
    page.goto(server)
    assert layer_map_drawn(page, {"Communes": 240})["Communes"] == 240  # every commune drawn
    assert page.locator(".carto-legend").first.is_visible()
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    chart.wait_for(timeout=60_000)
    chart.locator("canvas, svg").first.wait_for(timeout=60_000)
    assert page.get_by_text("faits sont synthétiques").first.is_visible()
    # The page is in French (RGAA / WCAG 3.1.1); the map is drawn in it, not in a frame.
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.locator(MAP_FRAME).count() == 0
    assert (
        page.locator(LAYER_MAP).first.get_attribute("aria-label")
        == "Taux brut pour 1 000 habitants par commune"
    )
    page.screenshot(path=str(ARTIFACTS / "diagnostic.png"), full_page=True)
    # The map needed nothing from the internet: only base-map tiles were attempted.
    assert all("geopf.fr" in u for u in blocked), blocked[:5]
    assert dialogs == []
    page.close()


def test_hostile_labels_never_execute(browser, server):
    blocked, dialogs = [], []
    page = offline_page(browser, blocked, dialogs, viewport={"width": 1500, "height": 1400})
    page.goto(server)
    layer_map_drawn(page, {"Communes": 240})
    xy = layer_point(page, "onerror")
    assert xy is not None, "la commune au nom hostile n'est pas sur la carte"
    page.wait_for_timeout(500)
    page.mouse.move(xy[0] - 1, xy[1] - 1)
    page.mouse.move(xy[0], xy[1])
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for(timeout=10_000)
    assert XSS in tooltip.inner_text()  # shown as text…
    assert tooltip.locator("img").count() == 0  # …never as markup
    page.mouse.click(xy[0], xy[1])
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    assert XSS in popup.inner_text() and popup.locator("img").count() == 0
    page.screenshot(path=str(ARTIFACTS / "xss_tooltip_popup.png"))

    # A hostile incident file through the Données page: labels, ids and the data set name.
    page.get_by_role("link", name="Données").click()
    page.get_by_text("Importer un fichier de faits").wait_for(timeout=30_000)
    csv = (
        "id;date;infraction;type_lieu;latitude;longitude\n"
        f'"{XSS}";01/02/2024 10:00;"{XSS}";"{XSS}";48.30;-0.61\n'
        f'"x2";pas une date;"{XSS}";rue;48.30;-0.61\n'
        '"x3";02/02/2024 10:00;"![x](http://evil.example/x.png)";rue;48.30;-0.61\n'
    ).encode()
    page.locator("input[type=file]").first.set_input_files(
        {"name": "hostile.csv", "mimeType": "text/csv", "buffer": csv}
    )
    page.get_by_role("button", name="Valider le fichier").click()
    page.get_by_text("Rapport de validation").wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "xss_import_report.png"), full_page=True)
    # Markdown from a file is escaped: shown as text in the report, no image fetched.
    assert page.get_by_text("![x](http://evil.example/x.png)", exact=False).count() >= 1
    page.get_by_label("Nom du jeu de données").fill(XSS)
    page.get_by_role("button", name="Enregistrer le jeu de données").click()
    page.get_by_text("faits) et choisi dans la barre latérale").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "xss_import.png"), full_page=True)
    assert dialogs == []
    # The saved data set, chosen in the sidebar at once, carries the hostile name as text.
    chosen = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
        has_text="Jeu de données"
    )
    assert XSS in chosen.get_by_role("combobox").input_value()
    assert not [u for u in blocked if "evil.example" in u]
    page.close()


def test_organisation_overlay_draws(browser, server):
    blocked, dialogs = [], []
    page = offline_page(browser, blocked, dialogs, viewport={"width": 1500, "height": 1400})
    wire = Wire(page)
    page.goto(server)
    layer_map_drawn(page, {"Communes": 240})
    page.wait_for_timeout(1000)
    first = wire.sent().layer_maps[-1]
    communes = first["layers"][0]["geometry_key"]
    assert list(first["geometries"]) == [communes]  # the outlines, with the first run
    wire.clear()
    page.get_by_text("Superposer l'organisation territoriale").click()
    # The same 240 communes, restyled, and the units' circle markers on top.
    drawn = layer_map_drawn(page, {"Communes": 240, "Unités (indicatif)": 10}, timeout=60_000)
    assert list(drawn) == ["Communes", "Unités (indicatif)"]
    page.wait_for_timeout(1000)
    after = [d for d in wire.sent().layer_maps if len(d["layers"]) == 2][-1]
    assert after["layers"][0]["geometry_key"] == communes
    # Only the units' points travel: the communes' outlines are already in the page.
    assert list(after["geometries"]) == [after["layers"][1]["geometry_key"]]
    page.screenshot(path=str(ARTIFACTS / "overlay.png"))
    page.get_by_role("link", name="Organisation territoriale").click()
    page.get_by_text("Organisation **indicative**".replace("**", "")).first.wait_for(timeout=60_000)
    # With the département's network (the demonstration's): the 10/20/30-minute areas by road,
    # three rings between the communes and the units, and the page says which estimate it shows.
    drawn = layer_map_drawn(
        page,
        {"Communes": 240, "Temps d'intervention par la route": 3, "Unités (indicatif)": 10},
        timeout=60_000,
    )
    assert list(drawn) == ["Communes", "Temps d'intervention par la route", "Unités (indicatif)"]
    legend = page.locator(".carto-legend").last
    text = legend.inner_text()
    assert text.startswith("Organisation territoriale (indicatif)")
    assert "à moins de 10 min par la route" in text and "20 à 30 min" in text
    page.get_by_text(re.compile("^Temps par la route : de l'unité de la commune à sa mairie")).wait_for(
        timeout=30_000
    )
    page.screenshot(path=str(ARTIFACTS / "organisation.png"), full_page=True)
    assert dialogs == []
    assert all("geopf.fr" in u for u in blocked), blocked[:5]
    page.close()


def test_a_page_that_lost_the_geometry_asks_for_it_again(browser, server):
    """The session believes the page holds the communes' outlines; the page lost them: it asks
    (its ``missing`` trigger) and the next run sends them again."""
    page = offline_page(browser, [], [], viewport={"width": 1500, "height": 1400})
    wire = Wire(page)
    page.goto(server)
    layer_map_drawn(page, {"Communes": 240})
    page.wait_for_timeout(1000)
    communes = wire.sent().layer_maps[-1]["layers"][0]["geometry_key"]
    page.evaluate("() => globalThis.__cartoGeometry.clear()")
    wire.clear()
    page.get_by_text("Superposer l'organisation territoriale").click()
    layer_map_drawn(page, {"Communes": 240, "Unités (indicatif)": 10}, timeout=60_000)
    page.wait_for_timeout(1500)
    runs = [d for d in wire.sent().layer_maps if len(d["layers"]) == 2]
    assert communes not in runs[0]["geometries"]  # the session thought the page had them
    assert any(communes in d["geometries"] for d in runs[1:])  # sent again on the page's request
    assert page.evaluate(f"() => globalThis.__cartoGeometry.has('{communes}')")
    page.close()


def test_zones_page_draws_density_offline(browser, server):
    blocked, dialogs = [], []
    page = offline_page(browser, blocked, dialogs, viewport={"width": 1500, "height": 1400})
    wire = Wire(page)
    page.goto(server)
    layer_map_drawn(page)  # the Diagnostic's map: the commune outlines are now in the page
    wire.clear()
    page.get_by_role("link", name="Zones prioritaires").click()
    page.get_by_text(re.compile("^Zones prioritaires — ")).first.wait_for(timeout=90_000)
    counts = layer_map_drawn(page, {"Communes": 200, "Zones prioritaires": 1, "Rang des zones": 1})
    assert counts["Zones prioritaires"] == counts["Rang des zones"]  # one badge per zone
    box = page.locator(".carto-map[data-layers]").last
    box.locator("img.leaflet-image-layer").wait_for(timeout=60_000)  # the density surface
    assert box.locator(".zone-rank").first.inner_text() == "1"
    assert page.locator(".carto-legend").last.inner_text().startswith("Zones prioritaires")
    # The Zones page sent no commune outline again: the Diagnostic's are kept in the page.
    zones_maps = [
        d for d in wire.sent().layer_maps if any(x["name"] == "Rang des zones" for x in d["layers"])
    ]
    assert zones_maps and all(len(d["geometries"]) <= 2 for d in zones_maps)  # zones and badges only
    page.screenshot(path=str(ARTIFACTS / "zones.png"), full_page=True)
    # Hot streets, on demand: the segments above the threshold drawn offline, and their table.
    page.get_by_text("Compter les faits par tronçon de rue").click()
    page.get_by_text("Tronçons qui concentrent la moitié des faits").wait_for(timeout=90_000)
    streets = page.frame_locator(MAP_FRAME).last
    streets.locator(".carto-legend").get_by_text("Rues les plus touchées").wait_for(timeout=90_000)
    assert streets.locator("path.leaflet-interactive").count() > 10
    page.get_by_text("Tronçons qui concentrent la moitié des faits").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "rues_les_plus_touchees.png"), full_page=True)
    assert dialogs == []
    assert all("geopf.fr" in u for u in blocked), blocked[:5]
    page.close()


def test_suivi_page_and_one_click_report(browser, server, tmp_path):
    tool_path("pdftotext")  # before starting: fail (CI) or skip without it
    blocked, dialogs = [], []
    page = offline_page(
        browser, blocked, dialogs, viewport={"width": 1500, "height": 1600}, accept_downloads=True
    )
    page.goto(server)
    page.get_by_role("link", name="Suivi bimestriel").click()
    page.get_by_text("Carte des changements significatifs par").first.wait_for(timeout=90_000)
    # Published view: most communes are secret over two months, so the map is by EPCI (10).
    assert page.get_by_text("Carte des changements significatifs par EPCI").count() == 1
    assert layer_map_drawn(page, {"EPCI": 10})["EPCI"] == 10
    assert page.locator(".carto-legend").last.inner_text().startswith("Évolution des faits")
    page.get_by_text("Commune", exact=True).first.click()  # « Carte par » : the communes (240)
    page.get_by_text("Carte des changements significatifs par Commune").wait_for(timeout=90_000)
    layer_map_drawn(page, {"Communes": 240})
    page.locator("[data-testid='stVegaLiteChart']").first.locator("canvas, svg").first.wait_for(
        timeout=60_000
    )
    metrics = page.locator("[data-testid='stMetricValue']")
    metrics.nth(2).wait_for(timeout=30_000)
    shown = [" ".join(metrics.nth(i).inner_text().replace("\u00a0", " ").split()) for i in range(3)]
    page.screenshot(path=str(ARTIFACTS / "suivi.png"), full_page=True)
    with page.expect_download(timeout=90_000) as dl:
        page.get_by_role("button", name="Rapport pour le préfet (PDF)").click()
    pdf = tmp_path / "rapport.pdf"
    dl.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = pdf_text(pdf)
    for figure in shown:  # the figures of the page are in the report
        assert figure in text, (figure, text[:500])
    assert "DONNÉES SYNTHÉTIQUES" in text and "Notes de méthode" in text
    assert dialogs == []
    assert all("geopf.fr" in u for u in blocked), blocked[:5]
    page.close()


def test_videoprotection_on_a_drawn_area(browser, server, tmp_path):
    blocked, dialogs = [], []
    page = offline_page(
        browser, blocked, dialogs, viewport={"width": 1500, "height": 1600}, accept_downloads=True
    )
    page.goto(server)
    page.get_by_role("link", name="Vidéoprotection").click()
    page.get_by_text("Secteur dessiné sur la carte").click()
    draw_frame = page.frame_locator(MAP_FRAME).first
    tool = draw_frame.locator("a.leaflet-draw-draw-rectangle")
    tool.wait_for(timeout=90_000)  # Leaflet.draw served by the app, offline
    tool.click()
    box = page.locator(MAP_FRAME).first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx - 120, cy - 90)
    page.mouse.down()
    page.mouse.move(cx + 120, cy + 90, steps=8)
    page.mouse.up()
    button = page.get_by_role("button", name="Calculer les emplacements")
    button.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # the drawing reaches the script (st_folium rerun)
    button.click()
    frame = page.frame_locator(MAP_FRAME).last
    frame.locator(".carto-legend").get_by_text("Vidéoprotection").wait_for(timeout=90_000)
    # 10 circles + 10 site markers, in the new-site colour (the commune outlines are grey).
    assert frame.locator('path.leaflet-interactive[stroke="#000091"]').count() == 20
    assert frame.locator(".carto-legend").inner_text().count("secteur étudié") == 1
    page.get_by_text("Sites retenus").wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "videoprotection.png"), full_page=True)
    with page.expect_download(timeout=60_000) as dl:
        page.get_by_role("button", name="Sites (CSV)").click()
    path = tmp_path / "sites.csv"
    dl.value.save_as(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("rang;statut;adresse;faits;gain_pondere") and len(lines) == 11
    rows = list(csv.DictReader(lines, delimiter=";"))
    # Candidates on the département's network by default: each site named by its streets.
    assert sum(r["adresse"].startswith(("angle ", "Rue", "D ", "à ")) for r in rows) >= 8, [
        r["adresse"] for r in rows
    ]
    # The sheet for the mayor: one click, the ten sites listed with the CSV's coordinates.
    with page.expect_download(timeout=120_000) as dl:
        page.get_by_role("button", name="Fiche pour le maire (PDF)").click()
    sheet = tmp_path / "videoprotection.pdf"
    dl.value.save_as(sheet)
    text = pdf_text(sheet)
    assert "Sites proposés" in text and "Vidéoprotection — proposition d'emplacements" in text
    assert text.count(" nouvelle ") == 10
    assert "Emplacement" in text and "Réseau routier synthétique" in text
    for row in rows[:3]:
        latitude = float(row["latitude"].replace(",", "."))  # the CSV's coordinates, decimal comma
        assert f"{latitude:.6f}".replace(".", ",") in text
    # The sheet as the mayor sees it (streets, numbered sites): kept as images for review.
    subprocess.run(
        [tool_path("pdftoppm"), "-png", "-r", "80", str(sheet), str(ARTIFACTS / "fiche_maire")], check=True
    )
    assert dialogs == []
    assert all("geopf.fr" in u for u in blocked), blocked[:5]
    page.close()
