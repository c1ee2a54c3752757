"""The monthly import in Chromium: a two-month file, one label corrected in the review,
saved; then the next month appended to the same data set."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import offline_page, streamlit_server

pytestmark = pytest.mark.e2e
HEADER = "N° procédure;Date des faits;Heure;Nature de l'infraction;Type de lieu;Code INSEE;X (L93);Y (L93)\n"
ROWS = [
    ("P1", "06/01/2025", "20h55", "VOLS A LA ROULOTTE", "RUE"),
    ("P2", "14/01/2025", "08h10", "VIOLENCES VOLONTAIRES SUR PERSONNE DE 15 ANS OU PLUS", "RUE"),
    ("P3", "03/02/2025", "23h30", "RODEO MOTORISE", "RUE"),
    ("P4", "17/02/2025", "14h00", "CAMBRIOLAGES DE LOCAUX D'HABITATIONS PRINCIPALES", "DOMICILE"),
]
MARCH = [
    (
        "P4",
        "17/02/2025",
        "14h00",
        "CAMBRIOLAGES DE LOCAUX D'HABITATIONS PRINCIPALES",
        "DOMICILE",
    ),  # duplicate
    ("P5", "04/03/2025", "21h15", "VOLS D'AUTOMOBILES", "RUE"),
]


def _csv(rows) -> bytes:
    body = "".join(  # each incident at its own place, whatever the file it comes in
        f"{i};{d};{h};{o};{p};53130;{419_000 + 50 * int(i[1:])},5;{6_783_000 + 50 * int(i[1:])},25\n"
        for i, d, h, o, p in rows
    )
    return (HEADER + body).encode("cp1252")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    ws = tmp_path_factory.mktemp("ws")
    with streamlit_server({"DELINQ_WORKSPACE_DIR": str(ws)}) as url:
        yield url, ws


RUNNING = "[data-testid='stStatusWidgetRunningIcon'],[data-testid='stStatusWidgetRunningManIcon']"


def _settled(page) -> None:
    """The script run is over (a widget touched while the page reruns may be replaced)."""
    page.wait_for_timeout(700)
    page.wait_for_function(f'() => !document.querySelector("{RUNNING}")', timeout=90_000)
    page.locator("[data-stale='true']").first.wait_for(state="detached", timeout=90_000)


def upload_file(page, name: str, data: bytes, mime: str = "text/csv") -> None:
    """Give a file to the Données page's uploader until its « Valider le fichier » shows."""
    _settled(page)
    for _ in range(3):  # the file input can be re-created by a rerun: upload again then
        page.locator("input[type=file]").first.set_input_files(
            {"name": name, "mimeType": mime, "buffer": data}
        )
        try:
            page.get_by_role("button", name="Valider le fichier").wait_for(timeout=30_000)
            break
        except Exception:  # noqa: BLE001 - Playwright's timeout
            _settled(page)
    _settled(page)


def _upload(page, name: str, data: bytes) -> None:
    upload_file(page, name, data)
    page.get_by_role("button", name="Valider le fichier").click(timeout=60_000)
    page.get_by_text("Revue des libellés", exact=True).wait_for(timeout=60_000)
    _settled(page)


def _edit_first_class(page, value: str) -> None:
    """Set the class of the review table's first row (the unrecognised label) in the grid."""
    editors = page.locator("[data-testid='stDataFrame']")
    grid = editors.nth(editors.count() - 2)  # offences, then places
    box = grid.bounding_box()
    # Columns: libellé, faits, statut, classe; the class is the last column, the first row under the header.
    page.mouse.dblclick(box["x"] + box["width"] - 60, box["y"] + 35 + 17)
    page.keyboard.type(value)
    page.keyboard.press("Enter")
    page.wait_for_timeout(1500)


def test_two_months_reviewed_saved_then_next_month_appended(browser, server):
    url, ws = server
    blocked: list[str] = []
    dialogs: list[str] = []
    page = offline_page(browser, blocked, dialogs, viewport={"width": 1500, "height": 2200})
    page.goto(f"{url}/donnees")
    page.get_by_text("Importer un fichier de faits").wait_for(timeout=60_000)
    _upload(page, "janvier-fevrier.csv", _csv(ROWS))
    assert page.get_by_text("1 libellé(s) non reconnu(s)").count() >= 1
    _edit_first_class(page, "Destructions et dégradations volontaires")
    page.get_by_label("Nom du jeu de données").fill("Export GN")
    page.get_by_role("button", name="Enregistrer le jeu de données").click()
    page.get_by_text("enregistré (4 faits)").wait_for(timeout=60_000)
    from data.store import DatasetStore

    store = DatasetStore(ws / "datasets")
    [info] = store.list()
    data = store.load(info.slug).set_index("identifiant")
    assert data.loc["P3", "infraction"] == "Destructions et dégradations volontaires"  # the edited label
    assert data.loc["P2", "infraction"] == "Violences physiques hors cadre familial"
    # Next month, appended to the same data set.
    page.goto(f"{url}/donnees")
    page.get_by_text("Importer un fichier de faits").wait_for(timeout=60_000)
    _upload(page, "mars.csv", _csv(MARCH))
    page.get_by_text("Ajouter à un jeu existant (import du mois)").click()
    page.get_by_role("button", name="Ajouter au jeu de données").click()
    page.get_by_text("1 nouveaux, 1 doublons, 0 mis à jour, 0 rejetés").wait_for(timeout=60_000)
    [after] = store.list()
    assert after.slug == info.slug and after.n_rows == 5
    assert [h["fichier"] for h in after.extra["historique"]] == ["janvier-fevrier.csv", "mars.csv"]
    assert dialogs == []
    page.close()
