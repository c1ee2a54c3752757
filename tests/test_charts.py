"""Charts converted once per content (ui.charts): what the browser receives equals
st.altair_chart's, the same content is converted once, another content gets its own."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from rendering import charts
from rendering.charts import READABLE_LABELS, VEGA_LOCALE
from ui import charts as ui_charts

MONTHS = pd.date_range("2024-01-01", periods=4, freq="MS")

#: Every chart of rendering.charts with small tables shaped like the use cases' ones.
CASES = {
    "bars": (
        charts.bars_from_counts,
        (pd.DataFrame({"categorie": ["Vols", "Coups"], "faits": [7, 3], "part": [0.7, 0.3]}), "infraction"),
    ),
    "monthly": (
        charts.line_from_monthly,
        (pd.DataFrame({"mois": MONTHS, "faits": [4, 6, 2, 9]}), "faits par mois"),
    ),
    "hours": (
        charts.heatmap_from_hour_weekday,
        (
            pd.DataFrame({"jour": ["lundi", "mardi"], "heure": [3, 22], "faits": [1.5, 2.25]}),
            ("lundi", "mardi"),
        ),
    ),
    "yearly": (charts.line_from_yearly, (pd.DataFrame({"annee": [2022, 2023], "nombre": [120, 131]}),)),
    "trend": (
        charts.trend_from_periods,
        (
            pd.DataFrame(
                {"periode": ["suivie", "précédente"], "debut": MONTHS[[2, 0]], "fin": MONTHS[[3, 1]]}
            ),
            pd.DataFrame({"mois": MONTHS, "serie": "Ensemble", "faits": [4, 6, 2, 9]}),
            False,
        ),
    ),
    "evaluation": (
        charts.evaluation_from_monthly,
        (
            pd.DataFrame({"mois": MONTHS, "zone": ["traitée"] * 4, "faits": [4, 6, 2, 9]}),
            pd.Timestamp("2024-03-01"),
        ),
    ),
    "near_repeat": (
        charts.heatmap_from_near_repeat,
        (
            pd.DataFrame(
                {
                    "distance": ["0-100 m"],
                    "duree": ["0-7 j"],
                    "observees": ["12"],
                    "attendues": ["6"],
                    "rapport": [2.0],
                    "p_valeur": [0.01],
                    "texte": ["2,0"],
                }
            ),
            ["0-7 j"],
            ["0-100 m"],
        ),
    ),
    "concentration": (
        charts.curves_from_concentration,
        (
            pd.DataFrame(
                {"infraction": "Ensemble", "part_lieux": [0.0, 0.5, 1.0], "part_faits": [0.0, 0.8, 1.0]}
            ),
        ),
    ),
    "coverage": (
        charts.coverage_from_curve,
        (pd.DataFrame({"cameras": [1, 2, 3], "couverture": [0.2, 0.35, 0.4]}),),
    ),
}


def _both(name: str) -> None:
    """App: the chart through st.altair_chart, then through ui.charts.show_chart."""
    import streamlit as st

    from tests.test_charts import CASES
    from ui.charts import show_chart

    build, args = CASES[name]
    st.altair_chart(build(*args), width="stretch")
    show_chart(build, *args)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_browser_receives_what_st_altair_chart_sends(name):
    ui_charts.SPECS.clear()
    at = AppTest.from_function(_both, args=(name,)).run()
    assert not at.exception
    direct, shared = at.get("vega_lite_chart")
    # The same specification, plus the French number and date locale.
    ours = json.loads(shared.proto.spec)
    assert ours["config"].pop("locale") == VEGA_LOCALE
    theirs = json.loads(direct.proto.spec)
    for part, settings in READABLE_LABELS.items():  # labels read whole, the chart's own settings kept
        assert ours["config"].pop(part) == {**settings, **theirs.get("config", {}).pop(part, {})}
    assert ours == {**theirs, "config": theirs.get("config", {})}
    assert [(d.name, d.data.data) for d in direct.proto.datasets] == [
        (d.name, d.data.data) for d in shared.proto.datasets
    ]
    assert len(direct.proto.datasets) >= 1  # the tables travel as Arrow, not inline
    direct.proto.spec = shared.proto.spec
    assert direct.proto == shared.proto


def test_same_content_is_converted_once_and_another_content_again():
    ui_charts.SPECS.clear()
    calls = []

    def counted(counts, label):
        calls.append(label)
        return charts.bars_from_counts(counts, label)

    counts = CASES["bars"][1][0]
    first = ui_charts.spec_from_chart(counted, counts, "infraction")
    again = ui_charts.spec_from_chart(counted, counts.copy(), "infraction")  # another object, same content
    assert calls == ["infraction"] and first == again
    changed = counts.assign(faits=[7, 4])  # one count differs
    other = ui_charts.spec_from_chart(counted, changed, "infraction")
    assert len(calls) == 2 and other["datasets"] != first["datasets"]
    ui_charts.spec_from_chart(counted, counts, "lieu")
    assert len(calls) == 3


def test_a_caller_cannot_alter_the_shared_specification():
    ui_charts.SPECS.clear()
    build, args = CASES["monthly"]
    spec = ui_charts.spec_from_chart(build, *args)
    spec.pop("datasets")  # what Streamlit does with the tables it sends
    spec["mark"]["color"] = "red"
    again = ui_charts.spec_from_chart(build, *args)
    assert "datasets" in again and again["mark"]["color"] == charts.BLUE


def test_cache_stays_within_its_budget(monkeypatch):
    ui_charts.SPECS.clear()
    build, args = CASES["coverage"]
    ui_charts.spec_from_chart(build, *args)
    monkeypatch.setattr(ui_charts.SPECS, "budget_bytes", 1)
    ui_charts.spec_from_chart(charts.line_from_yearly, *CASES["yearly"][1])
    assert len(ui_charts.SPECS) == 1  # the older chart made room
