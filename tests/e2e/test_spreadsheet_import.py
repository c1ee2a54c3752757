"""A reporting tool's spreadsheet export through the Données page in Chromium: a summary sheet
first, a title block, a header over two rows, Excel dates, numeric INSEE codes and a totals row;
imported with no manual mapping, every row accounted for, saved."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import offline_page, streamlit_server
from tests.e2e.test_monthly_import import _settled, upload_file
from tests.test_spreadsheets import report_workbook

pytestmark = pytest.mark.e2e
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    ws = tmp_path_factory.mktemp("ws")
    with streamlit_server({"DELINQ_WORKSPACE_DIR": str(ws)}) as url:
        yield url, ws


def _metric(page, label: str) -> str:
    metric = page.locator("[data-testid='stMetric']").filter(has_text=label)
    return metric.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_a_report_workbook_imports_through_the_donnees_page(browser, server):
    url, ws = server
    blocked: list[str] = []
    dialogs: list[str] = []
    page = offline_page(browser, blocked, dialogs, viewport={"width": 1500, "height": 2200})
    page.goto(f"{url}/donnees")
    page.get_by_text("Importer un fichier de faits").wait_for(timeout=60_000)
    upload_file(page, "extraction.xlsx", report_workbook(), mime=XLSX)
    # The data sheet was chosen over the summary, its header found under the title block.
    assert page.get_by_text("feuille « Faits »", exact=False).count() >= 1
    assert page.get_by_text("en-tête ligne 4 sur deux lignes", exact=False).count() >= 1
    sheet = page.locator("[data-testid='stSelectbox']").filter(has_text="Feuille du classeur")
    assert sheet.get_by_role("combobox").input_value() == "Faits"
    page.get_by_role("button", name="Valider le fichier").click(timeout=60_000)
    page.get_by_text("Rapport de validation").wait_for(timeout=60_000)
    _settled(page)
    assert (
        _metric(page, "Lignes du fichier"),
        _metric(page, "Faits acceptés"),
        _metric(page, "Lignes rejetées"),
    ) == (
        "6",
        "4",
        "2",
    )
    assert page.get_by_text("pied de tableau", exact=False).count() >= 1  # the footer rows' reason
    page.get_by_label("Nom du jeu de données").fill("Extraction tableur")
    page.get_by_role("button", name="Enregistrer le jeu de données").click()
    page.get_by_text("enregistré (4 faits)").wait_for(timeout=60_000)
    from data.store import DatasetStore

    [info] = DatasetStore(ws / "datasets").list()
    data = DatasetStore(ws / "datasets").load(info.slug).set_index("identifiant")
    assert sorted(data.index) == ["P1", "P2", "P3", "P4"]
    assert set(data["code_commune"]) == {"53130"}
    assert dialogs == []
    page.close()
