import datetime as dt

import numpy as np
import pandas as pd
import pytest
import shapely

from core import model as m
from core.vocabulary import OFFENCES, PLACE_TYPES
from data.synthetic import (
    synthetic_incidents_for_departement,
    yearly_counts_for_departement,
)
from tests.conftest import TODAY


def test_calibrated_on_real_ssmsi_totals(synthetic53):
    g = synthetic53.incidents
    got = g.groupby([g[m.START].dt.year, m.OFFENCE]).size().unstack(fill_value=0)
    expected = yearly_counts_for_departement("53", range(2022, 2026))
    # Real SSMSI figures for Mayenne 2022 (README of the real data).
    assert expected.at[2022, "Cambriolages de logement"] == 568
    assert expected.at[2022, "Destructions et dégradations volontaires"] == 1906
    assert (
        expected.at[2022, "Violences physiques intrafamiliales"]
        + expected.at[2022, "Violences physiques hors cadre familial"]
        == 1109
    )
    # Later years carry the last level with a 2 % yearly drift.
    assert expected.at[2024, "Cambriolages de logement"] == round(568 * 1.02**2)
    np.testing.assert_array_equal(got[list(expected.columns)].to_numpy(), expected.to_numpy())
    assert list(got.index) == list(expected.index)


def test_deterministic(communes53):
    a = synthetic_incidents_for_departement(communes53, years=(2024, 2024), seed=3, scale=0.05, today=TODAY)
    b = synthetic_incidents_for_departement(communes53, years=(2024, 2024), seed=3, scale=0.05, today=TODAY)
    c = synthetic_incidents_for_departement(communes53, years=(2024, 2024), seed=4, scale=0.05, today=TODAY)
    pd.testing.assert_frame_equal(a.incidents.to_wkb(), b.incidents.to_wkb())
    assert not np.array_equal(a.incidents.geometry.x.to_numpy()[:50], c.incidents.geometry.x.to_numpy()[:50])


def test_points_inside_their_commune(small53, communes53):
    g = small53.incidents
    polys = communes53.set_index("code").geometry.reindex(g[m.COMMUNE]).to_numpy()
    assert shapely.contains(polys, g.geometry.to_numpy()).all()
    assert not g[m.OUTSIDE].any()


def test_model_columns_and_vocabulary(synthetic53):
    g = synthetic53.incidents
    assert list(g.columns[:-1]) == list(m.INCIDENT_COLUMNS)
    assert set(g[m.OFFENCE]) <= set(OFFENCES)
    assert set(g[m.PLACE]) <= set(PLACE_TYPES)
    assert g[m.ID].is_unique
    assert g[m.START].max() < pd.Timestamp(TODAY)


def test_profiles_differ_by_offence(synthetic53):
    g = synthetic53.incidents
    burglary = g[g[m.OFFENCE] == "Cambriolages de logement"]
    violence = g[g[m.OFFENCE] == "Violences physiques hors cadre familial"]
    assert burglary[m.END].notna().mean() > 0.6  # mostly known "between ... and ..."
    assert (burglary[m.END] > burglary[m.START]).sum() == burglary[m.END].notna().sum()
    assert (burglary[m.PLACE] == "domicile").all()
    night = lambda s: s.dt.hour.isin([21, 22, 23, 0, 1, 2, 3]).mean()  # noqa: E731
    assert night(violence[m.START]) > night(burglary[m.START]) + 0.15
    weekend = lambda s: (s.dt.day_of_week >= 5).mean()  # noqa: E731
    assert weekend(violence[m.START]) > weekend(burglary[m.START])
    # Offender profile only on part of incidents, minors consistent with the age class.
    known = g[g[m.AGE].notna()]
    assert 0.25 < len(known) / len(g) < 0.45
    assert (known[m.MINOR] == (known[m.AGE] == "moins de 18 ans")).all()


def test_urban_excess(synthetic53, communes53):
    g = synthetic53.incidents
    counts = g[m.COMMUNE].value_counts()
    laval_rate = counts["53130"] / 49728
    dep_rate = len(g) / communes53["population"].sum()
    assert laval_rate > 1.3 * dep_rate


def test_planted_hotspots_are_dense(synthetic53):
    g = synthetic53.incidents.to_crs(2154)
    xy = np.column_stack([g.geometry.x, g.geometry.y])
    assert len(synthetic53.hotspots) == 6
    for hs in synthetic53.hotspots:
        start, end = pd.Timestamp(hs.start), pd.Timestamp(hs.end) + pd.Timedelta(days=1)
        in_period = ((g[m.START] >= start) & (g[m.START] < end)).to_numpy()
        d = np.hypot(xy[:, 0] - hs.x, xy[:, 1] - hs.y)
        inside = (d <= hs.radius_m) & in_period & g[m.OFFENCE].isin(hs.offences).to_numpy()
        assert inside.sum() >= hs.n_incidents  # every planted incident is in its disc
        assert dt.date.fromisoformat(hs.start) <= dt.date.fromisoformat(hs.end)


def test_no_future_incidents(communes53):
    ds = synthetic_incidents_for_departement(
        communes53, years=(2026, 2026), seed=1, scale=0.05, n_hotspots=0, today=dt.date(2026, 3, 31)
    )
    assert ds.incidents[m.START].max() < pd.Timestamp("2026-04-01")


def test_no_commune_above_the_rate_bound(synthetic53, communes53):
    """k times the highest departmental rate of the offence (data.synthetic_bounds.RATE_BOUND): every
    host of a planted hot spot and every commune of 1,000 inhabitants or more, every year."""
    from data.synthetic_bounds import RATE_BOUND, commune_rate_bounds, highest_departmental_rates

    assert RATE_BOUND == 3.0
    assert highest_departmental_rates()["Cambriolages de logement"] == pytest.approx(7.52, abs=0.01)
    inc = synthetic53.incidents
    pop = communes53.set_index("code")["population"].astype(float)
    hosts = {h.commune for h in synthetic53.hotspots}
    assert hosts  # hot spots were planted
    checked = pop[(pop >= 1000) | pop.index.isin(hosts)]
    for (year, offence), group in inc.groupby([inc[m.START].dt.year, inc[m.OFFENCE].astype(str)]):
        counts = group[m.COMMUNE].astype(str).value_counts().reindex(checked.index, fill_value=0)
        bound = commune_rate_bounds(checked.to_numpy(), offence)
        over = counts[counts.to_numpy() > bound]
        assert over.empty, (year, offence, over.to_dict())
