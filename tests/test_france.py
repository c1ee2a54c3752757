"""The France page's view (usecases.france): published summary rows on the départements' outlines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import access as a
from core.access import Viewer
from core.privacy import SECRET_LABEL
from core.settings import SETTINGS
from geo.communes import all_communes, departements_from_communes
from usecases.france import NO_DATA, NO_RESULT, STALE, france_view
from usecases.national import SUMMARY_COLUMNS, THRESHOLD


@pytest.fixture(scope="module")
def outlines():
    return departements_from_communes(all_communes())


def _summary() -> pd.DataFrame:
    rows = [
        {
            "departement": "53",
            "nom": "Mayenne",
            "faits": 9000,
            "population": 307000,
            "taux_pour_mille": 29.3,
            "zones": 6,
            "evolution_annee": 0.12,
            "evolution_precedente": -0.03,
            "hausses_significatives": 2,
            "baisses_significatives": 0,
        },
        {
            "departement": "72",
            "nom": "Sarthe",
            "faits": 21000,
            "population": 566000,
            "taux_pour_mille": 37.1,
            "zones": 9,
            "evolution_annee": -0.05,
            "evolution_precedente": 0.01,
            "hausses_significatives": 0,
            "baisses_significatives": 1,
        },
        {
            "departement": "48",
            "nom": "Lozère <b>",
            "faits": SECRET_LABEL,
            "population": 76000,
            "taux_pour_mille": None,
            "zones": 0,
            "evolution_annee": None,
            "evolution_precedente": None,
            "hausses_significatives": 0,
            "baisses_significatives": 0,
        },
    ]
    frame = pd.DataFrame(rows).reindex(columns=[*SUMMARY_COLUMNS, "version", THRESHOLD])
    frame["version"] = "v1"
    frame[THRESHOLD] = SETTINGS.privacy_threshold
    return frame


def test_rates_coloured_secret_grey_missing_said(outlines):
    view = france_view(_summary(), outlines, measure="taux_pour_mille")
    assert len(view.props) == len(outlines) == 101 and len(view.table) == 101
    fill = view.props["fill"].set_axis(outlines["code"].to_numpy())
    assert fill["53"] != NO_DATA and fill["72"] != NO_DATA
    assert fill["48"] == NO_DATA  # secret: no colour that would give it back
    by_code = view.props.set_axis(outlines["code"].to_numpy())
    assert by_code.loc["48", "faits"] == SECRET_LABEL and by_code.loc["48", "taux"] == "—"
    assert any("98 département(s) sans résultat" in n for n in view.notes)
    assert view.legend[-1] == ("pas de résultat ou secret", NO_DATA)


def test_changes_by_class_and_table_sortable(outlines):
    view = france_view(_summary(), outlines, measure="evolution_annee")
    fill = view.props["fill"].set_axis(outlines["code"].to_numpy())
    assert fill["53"] == "#b2182b" and fill["72"] == "#67a9cf"  # +12 %, -5 %
    table = view.table.set_index("Département")
    assert table.loc["72", "Pour 1 000 hab."] == pytest.approx(37.1)
    assert np.isnan(table.loc["48", "Pour 1 000 hab."]) and np.isnan(table.loc["48", "Faits (12 mois)"])
    assert table.loc["48", "Remarque"].startswith("secret statistique") and table.loc["53", "Remarque"] == ""
    assert table.loc["01", "Remarque"] == NO_RESULT
    assert view.table["Faits (12 mois)"].dtype.kind == "f"  # numbers sort as numbers


def test_text_is_escaped_and_no_small_count_is_sent(outlines):
    summary = _summary()
    named = outlines.assign(nom=outlines["nom"].where(outlines["code"] != "48", "Lozère <b>"))
    view = france_view(summary, named)
    sent = " ".join(view.props.drop(columns="fill").astype(str).to_numpy().ravel())
    assert "<b>" not in sent and "Lozère &lt;b&gt;" in sent  # the names reach the tooltips escaped
    for count in range(1, 6):
        assert f">{count}<" not in sent
    faits = pd.to_numeric(view.table["Faits (12 mois)"], errors="coerce")
    assert not ((faits >= 1) & (faits <= 5)).any()


def test_only_the_viewers_territory_is_sent(outlines):
    viewer = Viewer(role=a.PREFET, identity="p@x.fr", name="P", departements=("53", "48"))
    view = france_view(_summary(), outlines, measure="taux_pour_mille", viewer=viewer)
    assert sorted(view.table["Département"]) == ["48", "53"]
    by_code = view.props.set_axis(outlines["code"].to_numpy())
    assert by_code.loc["72", "taux"] == by_code.loc["72", "faits"] == "hors de votre territoire"
    assert by_code.loc["72", "fill"] == NO_DATA
    sent = " ".join(view.props.drop(columns="fill").astype(str).to_numpy().ravel())
    assert "37,1" not in sent and "21 000" not in sent.replace(
        "\u202f", " "
    )  # the Sarthe's figures stay on the server
    assert any("Votre territoire : 2 département(s)" in n for n in view.notes)
    with pytest.raises(ValueError, match="Mesure inconnue"):
        france_view(_summary(), outlines, measure="faits")


def test_rows_gated_with_another_threshold_are_not_published(outlines):
    summary = _summary()
    summary.loc[summary["departement"] == "72", THRESHOLD] = (
        SETTINGS.privacy_threshold - 2
    )  # an older, laxer run
    view = france_view(summary, outlines)
    table = view.table.set_index("Département")
    assert np.isnan(table.loc["72", "Faits (12 mois)"]) and table.loc["72", "Remarque"] == STALE
    by_code = view.props.set_axis(outlines["code"].to_numpy())
    assert by_code.loc["72", "faits"] == "—" and by_code.loc["72", "fill"] == NO_DATA
    assert table.loc["53", "Faits (12 mois)"] == 9000  # the others as they are


def test_without_results_only_the_one_who_runs_the_batch_is_told_the_command():
    from core.access import ADMIN, PREFET, Viewer
    from usecases.france import no_results_message

    prefet = Viewer(role=PREFET, identity="prefet@x", name="Préfète", departements=("53",))
    admin = Viewer(role=ADMIN, identity="admin@x", name="Admin")
    assert "make national" not in no_results_message(prefet)
    assert "administrateur" in no_results_message(prefet) and "demandez" in no_results_message(prefet)
    assert "make national" in no_results_message(admin)
    assert "make national" in no_results_message(Viewer.local_analyst())  # the poste local runs it
