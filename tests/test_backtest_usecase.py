"""The Zones page's back-test (usecases.backtest) on the demonstration data: every method
against the baselines at the same area, and its published view (no count of 1 to 5, no ratio
resting on one)."""

from __future__ import annotations

import pytest

from core.crs import metric_crs_for_departement
from core.errors import ParameterError
from core.model import IncidentFilter
from core.privacy import Audience, View
from usecases.backtest import BacktestRequest, backtest_table, backtest_table_for_selection, backtest_view
from usecases.zones import default_zone_settings

REQUEST = BacktestRequest(windows=4, methods=("recurrent", "gi"))
RARE = IncidentFilter(offences=("Violences sexuelles",))
INTERNAL, PUBLISHED = Audience(View.INTERNAL), Audience(View.PUBLISHED)


def _small(text: str) -> bool:
    return text.replace("\u202f", "").isdigit() and 0 < int(text.replace("\u202f", "")) <= 5


@pytest.fixture(scope="module")
def rare(synthetic53, communes53):
    crs = metric_crs_for_departement("53")
    return backtest_table_for_selection(
        synthetic53.incidents, communes53, RARE, crs=crs, settings=default_zone_settings(), request=REQUEST
    )


def test_every_method_is_scored_beside_the_three_baselines_at_its_area(rare):
    table, curves, windows = rare
    assert len(windows) == 4 and [w.horizon_end for w in windows] == sorted(w.horizon_end for w in windows)
    assert set(table["methode"]) == {"recurrent", "gi"}
    assert set(table["candidat"]) == {"recurrent", "gi", "precedente", "kde", "prospectif_ref"}
    for _, g in table.groupby(["fenetre", "methode"]):
        assert g["mailles"].nunique() == 1  # the same area for the method and its baselines
    # The baselines, and the share method among those asked for (its best cells at each share).
    assert set(curves["candidat"]) == {"precedente", "kde", "prospectif_ref", "recurrent"}
    view = backtest_view(*rare, request=REQUEST, audience=INTERNAL)
    assert view.sentence.startswith("Ici, la méthode qui a le mieux prédit est « ")
    assert list(view.summary["Méthode"]) == ["Mailles récurrentes", "Gi*"]


def test_published_view_leaves_out_windows_with_small_counts(rare):
    internal = backtest_view(*rare, request=REQUEST, audience=INTERNAL)
    published = backtest_view(*rare, request=REQUEST, audience=PUBLISHED)
    counts = ["Faits de l'horizon", "Faits captés"]
    # Non-vacuity: a rare offence over one month holds counts of 1 to 5 somewhere.
    assert any(_small(v) for c in counts for v in internal.monthly[c])
    assert not any(_small(v) for c in counts if c in published.monthly for v in published.monthly[c])
    assert len(published.monthly) < len(internal.monthly)
    assert any("non publié" in c for c in published.captions)


def test_too_short_a_history_is_said_in_french(small53, communes53):
    crs = metric_crs_for_departement("53")  # one year of data, windows of 13 months
    request = BacktestRequest(train_months=12, horizon_months=1, methods=("gi",))
    with pytest.raises(ParameterError, match="moins de 13 mois entiers"):
        backtest_table(
            small53.incidents.to_crs(crs),
            communes53.to_crs(crs),
            settings=default_zone_settings(),
            request=request,
        )
    # The page's use case does not raise: the view says how long the history must be.
    raw = backtest_table_for_selection(
        small53.incidents,
        communes53,
        IncidentFilter(),
        crs=crs,
        settings=default_zone_settings(),
        request=request,
    )
    view = backtest_view(*raw, request=request, audience=PUBLISHED)
    assert view.windows == [] and "au moins 13 mois entiers" in view.sentence and view.summary.empty


def test_automatic_method_takes_the_share_method_that_predicted_best(synthetic53, communes53):
    import dataclasses
    import datetime as dt

    from core.privacy import Audience
    from usecases.zones import zone_analysis_for_selection, zones_view

    crs = metric_crs_for_departement("53")
    settings = dataclasses.replace(default_zone_settings(), method="automatique")
    flt = IncidentFilter(start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31))
    res, _ = zone_analysis_for_selection(
        synthetic53.incidents,
        communes53,
        flt,
        crs=crs,
        settings=settings,
        severity={},
        bandwidth=None,
        truth=None,
    )
    choice = res.choice
    assert choice is not None and choice.windows == 12
    assert set(choice.hit_rates) == {"recurrent", "prospectif", "densite"}
    assert choice.hit_rates[choice.method] == max(choice.hit_rates.values())
    # The zones are the chosen method's, at the share asked for.
    assert res.zones["part_superficie"].sum() == pytest.approx(settings.area_share, rel=0.05)
    caption = next(
        c for c in zones_view(res, None, crs=crs, audience=Audience()).captions if "automatique" in c
    )
    assert "12 fenêtres glissantes" in caption and "%" not in caption  # published: no rate
    internal = next(
        c for c in zones_view(res, None, crs=crs, audience=INTERNAL).captions if "automatique" in c
    )
    assert "%" in internal


def test_clusterings_in_the_process_pool_draw_the_same_zones_as_in_process(
    synthetic53, communes53, monkeypatch
):
    """HDBSCAN's windows go to the clustering pool (its code holds the GIL), started before the
    window's other methods (DBSCAN, on the lattice, stays here): same table as computed in the
    calling process, one after another."""
    import pandas as pd

    import usecases.backtest as ub

    crs = metric_crs_for_departement("53")
    request = BacktestRequest(windows=3, methods=("dbscan", "hdbscan"))
    inc, com = synthetic53.incidents.to_crs(crs), communes53.to_crs(crs)
    assert ub.clustering_pool() is not None  # this machine has several cores
    pooled, _, _ = backtest_table(inc, com, settings=default_zone_settings(), request=request)
    submitted = []
    real_submit = ub.clustering_pool().submit
    monkeypatch.setattr(ub.clustering_pool(), "submit", lambda *a: submitted.append(1) or real_submit(*a))
    backtest_table(inc, com, settings=default_zone_settings(), request=request)
    assert len(submitted) == 3  # one clustering per window, HDBSCAN's, in the pool
    monkeypatch.setattr(ub, "clustering_pool", lambda: None)
    local, _, _ = backtest_table(inc, com, settings=default_zone_settings(), request=request)
    pd.testing.assert_frame_equal(pooled, local)
    for method in request.methods:
        assert (pooled.loc[pooled["candidat"] == method, "mailles"] > 0).any()  # zones were drawn
