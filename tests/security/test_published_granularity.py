"""The published view at the granularity of the official statistics.

- Periods are whole calendar months (the sidebar widens any other period, and says so).
- Below twelve months, a commune without incident is not told apart from one with 1 to 5:
  both read « secret (0 à 5) », on the map, in the ranking (neither is listed) and in the
  exports (the SSMSI's communal base never tells them apart either).
- No message prints a count too small to publish; no legend bound comes from nothing shown;
  no « None », « nan » or « NaN » in what is sent.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analysis.hotspots import TooFewIncidentsError
from core.model import IncidentFilter
from core.privacy import Audience, View
from rendering.maps import PALETTE, choropleth_from_rates, class_legend, layer_map_json
from usecases import diagnostic as uc_diag

PUBLIC = Audience(View.PUBLISHED)
ONE_DAY = IncidentFilter(
    start=dt.date(2025, 6, 15), end=dt.date(2025, 6, 15), offences=("Violences sexuelles",)
)


def _published_map(rates, v, communes53, classes=None) -> str:
    """The Diagnostic's published map of ``rates`` as HTML (what the browser receives)."""
    fmap = choropleth_from_rates(
        rates,
        breaks=v.breaks,
        classes=v.classes if classes is None else classes,
        display_geometry=communes53.geometry,
        base="aucun",
        secret_range=v.secret_range,
    )
    return layer_map_json(fmap)


def test_whole_months():
    from core.privacy import months_in, whole_months, zeros_published

    assert whole_months(dt.date(2025, 6, 15), dt.date(2025, 6, 15)) == (
        dt.date(2025, 6, 1),
        dt.date(2025, 6, 30),
    )
    assert whole_months(dt.date(2024, 2, 10), dt.date(2025, 1, 3)) == (
        dt.date(2024, 2, 1),
        dt.date(2025, 1, 31),
    )
    assert months_in(dt.date(2025, 1, 31), dt.date(2025, 12, 1)) == 12
    assert not zeros_published(dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    assert zeros_published(dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def test_a_short_published_period_does_not_tell_zero_from_secret(synthetic53, communes53, keys53):
    flt = IncidentFilter(
        start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 30), offences=("Violences sexuelles",)
    )
    v = uc_diag.diagnostic_for_selection(synthetic53.incidents, communes53, flt, keys=keys53, audience=PUBLIC)
    zero = v.rates["faits"].to_numpy() == 0
    assert zero.any() and v.rates["secret"].to_numpy()[zero].all()
    assert v.secret_range == "0 à 5"
    fmap = _published_map(v.rates, v, communes53)
    assert "secret statistique (0 à 5 faits)" in fmap  # the legend
    assert "secret (0 \\u00e0 5)" in fmap or "secret (0 à 5)" in fmap  # the communes' properties
    r = uc_diag.ranking_for_level(v, communes53, keys53, "commune", audience=PUBLIC)
    assert not set(r.table["code"]) & set(v.rates.loc[v.rates["secret"], "code"])
    exported = r.export_csv.decode("utf-8-sig")
    assert ";0;" not in exported.replace('"', "")  # no commune's « 0 » in the export either
    cells = {str(c) for c in r.table.to_numpy().ravel()} | {
        c.strip('"') for line in exported.splitlines() for c in line.split(";")
    }
    assert not cells & {"None", "nan", "NaN", "<NA>"}


def test_a_year_still_shows_zeros(synthetic53, communes53, keys53):
    flt = IncidentFilter(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    v = uc_diag.diagnostic_for_selection(synthetic53.incidents, communes53, flt, keys=keys53, audience=PUBLIC)
    assert v.secret_range == "1 à 5"


def test_no_legend_bound_without_a_published_rate():
    labels, colours = class_legend(np.array([0.0, 1.0]), ["#fff"], classes=np.array([-1, -1, -1]))
    assert labels == [] and colours == []
    assert class_legend(np.array([0.0, 1.0, 2.0]), ["#fff", "#000"], classes=np.array([0, 1]))[0]


def test_a_map_with_no_published_rate_draws_no_class_bound(synthetic53, communes53, keys53):
    """Every commune secret (forced here, so the case cannot pass vacuously): the legend has
    the secret entry only, no « 0,00 – 1,00 » made of nothing shown."""
    flt = IncidentFilter(
        start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 30), offences=("Violences sexuelles",)
    )
    v = uc_diag.diagnostic_for_selection(synthetic53.incidents, communes53, flt, keys=keys53, audience=PUBLIC)
    rates = v.rates.assign(secret=True)
    html = _published_map(rates, v, communes53, classes=np.full(len(rates), -1))
    bounds, _ = class_legend(v.breaks, PALETTE)  # the labels the old legend drew whatever the classes
    assert bounds and "secret statistique (0 à 5 faits)" in html
    assert not [b for b in bounds if b in html], bounds


@pytest.mark.parametrize("n", [1, 2, 5])
def test_too_few_incidents_messages_print_no_count(synthetic53, communes53, n):
    from analysis.zone_detectors import ZoneSettings
    from analysis.zones import zones_from_incidents
    from core.crs import metric_crs_for_departement

    crs = metric_crs_for_departement("53")
    few = synthetic53.incidents.head(n).to_crs(crs)
    with pytest.raises(TooFewIncidentsError) as caught:
        zones_from_incidents(few, communes53.to_crs(crs), settings=ZoneSettings())
    message = str(caught.value)
    assert f"({n})" not in message and f" {n} " not in message.replace("au moins", "")


def test_the_sidebar_widens_a_published_period_to_whole_months(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from data.default_dataset import ensure_default_dataset
    from tests.tooling import isolated_settings

    isolated_settings(monkeypatch, workspace_dir=tmp_path / "ws")
    ensure_default_dataset()
    at = AppTest.from_file("../../app_pages/diagnostic.py", default_timeout=120)
    at.run()
    at.sidebar.date_input[0].set_value((dt.date(2025, 6, 15), dt.date(2025, 6, 15))).run()
    assert not at.exception
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "période étendue aux mois entiers, du 01/06/2025 au 30/06/2025" in captions
