"""Server mode in Chromium: real OpenID sign-in (npm oidc-provider), roles, refusals, audit.

Each role signs in through the real redirect flow and is checked on what the server sends
(tests/e2e/wire.py), not on what is visible: pages it may not use are absent from the
navigation and refuse to run on a direct URL; the public-view switch exists only for
analysts; a mayor never receives an incident coordinate or a count of 1 to 5.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from data.access import AccessStore
from scripts.serve_demo import seed_demo_people
from tests.e2e.a11y import axe_source_or_fail, serious, violations
from tests.e2e.helpers import offline_page
from tests.e2e.oidc import ACCOUNTS, node_modules_ready, server_mode_app, sign_in
from tests.e2e.test_french_numbers import problems
from tests.e2e.wire import Wire
from tests.tooling import skip_or_fail

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    if not node_modules_ready():
        skip_or_fail(
            "oidc-provider absent de tests/oidc/node_modules : lancez `make test` (il l'installe avec npm)."
        )
    ws = tmp_path_factory.mktemp("ws")
    seed_demo_people(AccessStore(ws / "acces.sqlite"), "mise en place du test")
    with server_mode_app(ws) as (base, issuer):
        yield base, ws


def settled(page) -> None:
    page.wait_for_timeout(400)
    page.locator("[data-stale='true']").first.wait_for(state="detached", timeout=120_000)
    page.wait_for_timeout(800)


def choose_option(page, chooser, typed: str, option: str, attempts: int = 4) -> None:
    """Pick ``option`` in a multiselect and wait until it shows as chosen.

    The option is clicked in its list (react-aria's combo box needs it highlighted for Enter).
    A script rerun can redraw the widget between the typing and the click: then the list is
    gone, and the choice is made again.
    """
    tags = chooser.locator("[data-testid='stMultiSelectTagsContainer']")
    for _ in range(attempts):
        chooser.scroll_into_view_if_needed()
        chooser.locator("input").click()
        chooser.locator("input").fill(typed)
        try:
            page.get_by_role("option", name=option).click(timeout=15_000)
            tags.get_by_text(option).wait_for(timeout=30_000)
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
            settled(page)
            continue
        page.keyboard.press("Escape")
        return
    raise AssertionError(f"option « {option} » not chosen after {attempts} attempts")


def choose_in_selectbox(page, box, option: str, attempts: int = 4) -> None:
    """Pick ``option`` in a select box; a rerun that redraws the box closes its list: try again."""
    for _ in range(attempts):
        box.click()
        try:
            page.get_by_role("option", name=option).click(timeout=15_000)
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
            settled(page)
            continue
        return
    raise AssertionError(f"option « {option} » not chosen after {attempts} attempts")


def nav_labels(page) -> list[str]:
    return [
        t.strip().split("\n")[-1] for t in page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()
    ]


def journal(ws) -> list[tuple[str, str, str]]:
    log = AccessStore(ws / "acces.sqlite").journal()
    return list(zip(log["qui"], log["action"], log["etat"], strict=True))


def test_signed_out_visitor_sees_only_the_sign_in_page(browser, app):
    base, _ = app
    page = offline_page(browser, [], [])
    page.goto(base + "/donnees")
    page.get_by_role("button", name="Se connecter").first.wait_for(timeout=60_000)
    settled(page)
    assert "Données" not in nav_labels(page)
    assert page.get_by_text("Importer").count() == 0
    page.close()


def test_mayor_gets_ma_commune_only_and_no_point_no_small_count(browser, app):
    base, ws = app
    page = offline_page(browser, [], [], viewport={"width": 1400, "height": 1200})
    wire = Wire(page)
    sign_in(page, base, "maire")
    page.get_by_text("Ma commune — Laval").wait_for(timeout=120_000)
    settled(page)
    assert nav_labels(page) == ["Ma commune", "Accessibilité"]  # and the RGAA statement
    assert page.get_by_text("Vue diffusable (secret statistique)").count() == 0
    sent = wire.sent()
    assert sent.metrics and sent.charts
    for label, value in sent.metrics:
        digits = value.replace("\u202f", "").split(" ")[0]
        assert not (digits.isdigit() and 1 <= int(digits) <= 5), (label, value)
    for table in [*sent.tables, *sent.charts]:
        assert not {"latitude", "longitude", "x", "y"} & set(table.columns)
        if "faits" in table.columns:
            values = [str(v).replace("\u202f", "") for v in table["faits"]]
            assert not [v for v in values if v.replace(".0", "").isdigit() and 1 <= float(v) <= 5]
    assert not [c for c in sent.components if re.search(r"circleMarker|L\.marker|\"Point\"", c)]
    # Direct URLs to pages a mayor may not use: refused by the server, nothing of them sent.
    for path, marker in (("/donnees", "Importer"), ("/videoprotection", "caméras")):
        wire.clear()
        page.goto(base + path)
        settled(page)
        assert page.get_by_text(re.compile(marker)).count() == 0
        assert nav_labels(page) == ["Ma commune", "Accessibilité"]  # and the RGAA statement
    assert (ACCOUNTS["maire"]["email"], "connexion", "fait") in journal(ws)
    page.close()


@pytest.mark.parametrize(
    ("account", "expected", "switch"),
    [
        (
            "analyste",
            [
                "Diagnostic territorial",
                "Zones prioritaires",
                "Vidéoprotection",
                "Suivi bimestriel",
                "Organisation territoriale",
                "France",
                "Données",
            ],
            True,
        ),
        ("referent", ["Diagnostic territorial", "Zones prioritaires", "Vidéoprotection"], False),
        (
            "prefet",
            [
                "Diagnostic territorial",
                "Zones prioritaires",
                "Vidéoprotection",
                "Suivi bimestriel",
                "Organisation territoriale",
                "France",
                "Données",
            ],
            False,
        ),
    ],
)
def test_roles_navigation_and_public_switch(browser, app, account, expected, switch):
    base, ws = app
    page = offline_page(browser, [], [], viewport={"width": 1400, "height": 1200})
    sign_in(page, base, account)
    page.get_by_text("Diagnostic territorial").first.wait_for(timeout=120_000)
    settled(page)
    page.get_by_text(re.compile("^Source des volumes de calibrage")).wait_for(
        timeout=120_000
    )  # the sidebar's end
    assert nav_labels(page) == [*expected, "Accessibilité"]  # every role has the RGAA statement
    if switch:  # drawn by the same run as the sidebar's end, which a rerun may redraw: wait for it
        page.get_by_text("Vue diffusable (secret statistique)").first.wait_for(timeout=60_000)
    else:
        assert page.get_by_text("Vue diffusable (secret statistique)").count() == 0
    if account == "referent":
        page.goto(base + "/suivi")
        settled(page)
        assert (
            page.get_by_text(re.compile("^Suivi bimestriel —")).count() == 0
        )  # not run: the default page instead
        assert page.get_by_text(re.compile("^Diagnostic territorial —")).count() == 1
        page.goto(base + "/france")  # the national comparison is not a référent's page
        settled(page)
        assert page.get_by_text("France — tous les départements").count() == 0
    if account == "prefet":
        page.goto(base + "/donnees")
        page.get_by_text("Lecture seule").wait_for(timeout=60_000)
        assert page.get_by_text("Importer un fichier de faits").count() == 0
        assert page.get_by_role("button", name="Supprimer").count() == 0
    assert (ACCOUNTS[account]["email"], "connexion", "fait") in journal(ws)
    page.close()


def test_unknown_and_unverified_accounts_get_no_access(browser, app):
    base, _ = app
    for account in ("inconnu", "non_verifie"):
        page = offline_page(browser, [], [])
        sign_in(page, base, account)
        page.get_by_text("n'a pas d'accès").wait_for(timeout=60_000)
        assert page.get_by_text("Diagnostic territorial").count() == 0
        page.close()


def test_cancelled_sign_in_says_so_in_french(browser, app):
    base, _ = app
    page = offline_page(browser, [], [])
    sign_in(page, base, "", cancel=True)
    page.get_by_text("La connexion n'a pas abouti").wait_for(timeout=60_000)
    page.close()


def test_sign_out_and_administration(browser, app):
    base, ws = app
    page = offline_page(browser, [], [], viewport={"width": 1400, "height": 1200})
    sign_in(page, base, "admin")
    page.get_by_text("Diagnostic territorial").first.wait_for(timeout=120_000)
    settled(page)
    assert "Administration" in nav_labels(page)
    page.goto(base + "/administration")
    page.get_by_text("Journal d'audit").wait_for(timeout=60_000)
    page.get_by_label("Adresse électronique (vérifiée par le fournisseur d'identité)").fill(
        "nouveau.maire@mairie.test"
    )
    page.get_by_label("Territoire", exact=True).fill("53062")
    page.get_by_label("Territoire", exact=True).press(
        "Tab"
    )  # commit the text now: its rerun would close the list
    settled(page)
    choose_in_selectbox(
        page,
        page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").first,
        "Maire (et police municipale)",
    )
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("nouveau.maire@mairie.test : Maire").wait_for(timeout=60_000)
    assert ("admin@prefecture.test", "changement de rôle", "fait") in journal(ws)
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(r"/session/end|localhost"), timeout=60_000)
    page.wait_for_timeout(1500)
    if "/session/end" in page.url:  # the provider asks to confirm the sign-out
        page.locator("button[type=submit], button[autofocus]").first.click()
    page.get_by_text("Vous êtes déconnecté").wait_for(timeout=60_000)
    assert ("admin@prefecture.test", "déconnexion", "fait") in journal(ws)
    page.close()


def test_an_export_leaves_its_audit_line(browser, app):
    base, ws = app
    page = offline_page(browser, [], [], viewport={"width": 1400, "height": 1400})
    sign_in(page, base, "analyste")
    page.get_by_text("Diagnostic territorial").first.wait_for(timeout=120_000)
    settled(page)
    button = page.get_by_role("button", name=re.compile(r"Tableau par Commune \(CSV\)"))
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=60_000) as download:
        button.click()
    assert download.value.suggested_filename == "diagnostic_commune.csv"
    page.wait_for_timeout(500)
    assert (ACCOUNTS["analyste"]["email"], "export", "fait") in journal(ws)
    page.close()


def test_public_pages_and_expired_session(browser, tmp_path):
    """Another server: public pages open, sign-ins valid 2 seconds."""
    if not node_modules_ready():
        skip_or_fail("oidc-provider absent de tests/oidc/node_modules : lancez `make test`.")
    seed_demo_people(AccessStore(tmp_path / "acces.sqlite"), "mise en place du test")
    with server_mode_app(tmp_path, public_pages=True, session_hours=2 / 3600) as (base, _):
        page = offline_page(browser, [], [], viewport={"width": 1400, "height": 1200})
        page.goto(base)
        page.get_by_text(re.compile("^Diagnostic territorial —")).wait_for(timeout=120_000)
        settled(page)
        assert nav_labels(page) == [
            "Diagnostic territorial",
            "Suivi bimestriel",
            "Connexion",
            "Accessibilité",
        ]
        assert page.get_by_text("Vue diffusable (secret statistique)").count() == 0
        assert (
            page.get_by_role("button", name=re.compile(r"\(CSV\)|\(GeoJSON\)")).count() == 0
        )  # no export for the public
        page.goto(base + "/donnees")
        settled(page)
        assert page.get_by_text("Importer un fichier de faits").count() == 0
        sign_in(page, base, "analyste")
        page.wait_for_timeout(3000)
        page.reload()
        page.get_by_text(re.compile("Votre session a plus de")).wait_for(timeout=60_000)
        assert page.get_by_text(re.compile("^Diagnostic territorial —")).count() == 0
        page.close()


def test_referent_publishes_a_proposal_the_mayor_reads(browser, app, tmp_path):
    base, ws = app
    page = offline_page(browser, [], [], viewport={"width": 1500, "height": 1600}, accept_downloads=True)
    sign_in(page, base, "referent")
    page.get_by_text("Diagnostic territorial").first.wait_for(timeout=120_000)
    page.goto(base + "/videoprotection")
    page.get_by_text("Une commune").first.click()
    settled(page)
    commune = page.locator("[data-testid='stSelectbox']").filter(has_text="Commune").first
    commune.click()
    page.keyboard.type("Laval (53130)")
    page.keyboard.press("Enter")
    settled(page)
    page.get_by_role("button", name="Calculer les emplacements").click()
    page.get_by_text("Sites retenus").wait_for(timeout=120_000)
    page.get_by_text("Publier la proposition aux communes").scroll_into_view_if_needed()
    chooser = page.locator("[data-testid='stMultiSelect']").filter(has_text="Communes destinataires").first
    settled(page)
    choose_option(page, chooser, "Laval", "Laval (53130)")
    settled(page)
    sure = page.get_by_role("checkbox", name=re.compile("Je confirme la publication"))
    page.get_by_text("Je confirme la publication").click()
    expect(sure).to_be_checked(timeout=60_000)
    settled(page)
    publish = page.get_by_role("button", name="Publier", exact=True)
    expect(publish).to_be_enabled(timeout=60_000)
    publish.click()
    page.get_by_text("Proposition publiée à 1 commune").wait_for(timeout=120_000)
    assert (ACCOUNTS["referent"]["email"], "proposition publiée", "fait") in journal(ws)
    page.close()
    # The mayor of Laval sees it, read-only, and downloads its sheet.
    mayor = offline_page(browser, [], [], viewport={"width": 1400, "height": 1400}, accept_downloads=True)
    sign_in(mayor, base, "maire")
    mayor.get_by_text("Propositions de vidéoprotection").wait_for(timeout=120_000)
    mayor.get_by_text(re.compile("Vidéoprotection — commune de Laval")).wait_for(timeout=60_000)
    with mayor.expect_download(timeout=60_000) as dl:
        mayor.get_by_role("button", name="Fiche (PDF)").first.click()
    assert dl.value.suggested_filename.startswith("proposition_")
    assert open(dl.value.path(), "rb").read(4) == b"%PDF"  # noqa: SIM115
    assert mayor.get_by_role("button", name="Publier").count() == 0
    mayor.close()


def test_mayor_and_administration_pages_pass_axe_and_write_french_figures(browser, app):
    """The server mode's own pages: 0 critical or serious axe-core violation (WCAG 2.1 A/AA),
    and every figure they send written the French way, no placeholder (the scan of
    ``test_french_numbers``, which covers the local post's pages)."""
    source = axe_source_or_fail()
    base, _ws = app
    for account, title, path in (
        ("maire", "Ma commune — Laval", ""),
        ("admin", "Journal d'audit", "/administration"),
    ):
        page = offline_page(browser, [], [], viewport={"width": 1440, "height": 900}, locale="fr-FR")
        wire = Wire(page)
        sign_in(page, base, account)
        if path:
            page.locator("[data-testid='stSidebarNav']").wait_for(timeout=120_000)
            wire.clear()  # the page asked for, not the one opened after sign-in
            page.goto(base + path)
        page.get_by_text(title).first.wait_for(timeout=120_000)
        settled(page)
        page.wait_for_timeout(1500)
        found, checked = violations(page, source)
        bad, report = serious(found)
        assert checked >= 1 and not bad, f"{account} : {report}"
        sent = wire.sent()
        assert sent.texts, f"{account} : rien reçu"
        english = problems(sent)
        assert not english, f"{account} :\n" + "\n".join(english)
        page.close()
