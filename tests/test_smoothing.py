"""Empirical Bayes smoothing and Poisson intervals against PySAL (esda, libpysal) on real communes."""

from __future__ import annotations

import warnings

import esda.smoothing as esda_smoothing  # dev requirement (the anchor), installed by make test
import libpysal
import numpy as np
import pytest
from scipy import stats

from analysis.smoothing import (
    global_eb_from_counts,
    poisson_interval_from_counts,
    queen_neighbours_from_geometry,
    smoothed_rates_from_counts,
    spatial_eb_from_counts,
)
from core.model import COMMUNE
from geo.communes import communes_for_departement


def _queen(communes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about islands: they are the point here
        w = libpysal.weights.Queen.from_dataframe(communes, use_index=False)
    w.id_order = list(range(len(communes)))
    return w


def _heterogeneous_counts(population: np.ndarray, seed: int) -> np.ndarray:
    """Counts with rates that truly vary between communes (gamma-Poisson), as real ones do."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(shape=4.0, scale=0.008, size=len(population))
    return rng.poisson(population * rate)


@pytest.fixture(scope="module", params=["53", "29", "56"])
def territory(request):
    """Mayenne (no island), Finistère and Morbihan (islands: Sein, Ouessant, Groix, Belle-Île…)."""
    communes = communes_for_departement(request.param).reset_index(drop=True)
    return request.param, communes, queen_neighbours_from_geometry(communes.geometry), _queen(communes)


def test_queen_neighbours_equal_libpysal(territory):
    dep, communes, ours, theirs = territory
    assert ours.shape == (len(communes), len(communes))
    for i in range(len(communes)):
        assert set(ours[i].indices) == set(theirs.neighbors[i]), (dep, communes.loc[i, "nom"])
    islands = np.flatnonzero(np.asarray(ours.sum(axis=1)).ravel() == 0)
    assert sorted(islands) == sorted(theirs.islands)
    if dep in ("29", "56"):
        assert len(islands) >= 3  # the test is about them


def test_global_eb_equals_esda(territory):
    _, communes, _, _ = territory
    pop = communes["population"].to_numpy(float)
    counts = _heterogeneous_counts(pop, seed=3)
    ok = pop > 0
    ours = global_eb_from_counts(counts, pop)
    anchor = esda_smoothing.Empirical_Bayes(counts[ok], pop[ok]).r.ravel()
    np.testing.assert_allclose(ours[ok], anchor, rtol=0, atol=1e-9 * anchor.max())
    np.testing.assert_allclose(ours[ok], anchor, rtol=1e-9)
    assert np.isnan(ours[~ok]).all()


def test_spatial_eb_equals_esda_and_islands_fall_back_to_global(territory):
    dep, communes, ours_w, theirs_w = territory
    pop = communes["population"].to_numpy(float)
    assert (pop > 0).all()  # esda divides by the population: the anchor needs it positive
    counts = _heterogeneous_counts(pop, seed=5)
    ours = spatial_eb_from_counts(counts, pop, ours_w)
    anchor = esda_smoothing.Spatial_Empirical_Bayes(counts, pop, theirs_w).r.ravel()
    island = np.asarray(ours_w.sum(axis=1)).ravel() == 0
    np.testing.assert_allclose(ours[~island], anchor[~island], rtol=1e-9)
    np.testing.assert_allclose(ours[island], global_eb_from_counts(counts, pop)[island], rtol=1e-12)
    if island.any():
        # esda leaves an island at its raw rate; we smooth it globally (documented).
        raw = counts[island] / pop[island]
        assert not np.allclose(ours[island], raw)


def test_spatial_eb_on_the_embedded_data_equals_esda(synthetic53, communes53):
    communes = communes53.reset_index(drop=True)
    counts = communes["code"].map(synthetic53.incidents[COMMUNE].value_counts()).fillna(0).to_numpy()
    pop = communes["population"].to_numpy(float)
    ours = spatial_eb_from_counts(counts, pop, queen_neighbours_from_geometry(communes.geometry))
    anchor = esda_smoothing.Spatial_Empirical_Bayes(counts, pop, _queen(communes)).r.ravel()
    np.testing.assert_allclose(ours, anchor, rtol=1e-9)


def test_negative_variance_is_clipped_not_extrapolated():
    # Identical rates everywhere: the spread is below Poisson noise, the variance negative.
    pop = np.array([1000.0, 2000.0, 500.0, 4000.0])
    counts = np.array([10, 20, 5, 40])
    counts = counts + np.array([1, -1, 0, 0])
    ours = global_eb_from_counts(counts, pop)
    mean = counts.sum() / pop.sum()
    np.testing.assert_allclose(ours, mean)  # weight 0: everyone at the mean (GeoDa's choice)
    anchor = esda_smoothing.Empirical_Bayes(counts, pop).r.ravel()
    assert not np.allclose(anchor, mean)  # esda's negative weight pushes rates away


def test_population_zero_gets_no_rate_and_does_not_count():
    pop = np.array([0.0, 100.0, 1000.0, 5000.0])
    counts = np.array([4, 3, 20, 80])
    w = queen_neighbours_from_geometry(np.array([None, None, None, None], dtype=object))
    table, note = smoothed_rates_from_counts(counts, pop, w)
    assert np.isnan(
        table.loc[0, ["taux_brut", "taux_eb_global", "taux_eb_spatial", "ic_bas"]].astype(float)
    ).all()
    assert not table.loc[0, "peu_fiable"]
    np.testing.assert_allclose(
        table["taux_eb_global"].to_numpy()[1:], global_eb_from_counts(counts[1:], pop[1:]) * 1000
    )
    assert note.without_base == 1
    assert note.islands == 3  # no geometry: nobody has a neighbour, spatial = global
    np.testing.assert_allclose(table["taux_eb_spatial"][1:], table["taux_eb_global"][1:])


def test_poisson_interval_worked_values():
    # Garwood's exact interval, classical table values (e.g. Ulm 1990): k=0 -> [0, 3.689],
    # k=1 -> [0.0253, 5.572], k=10 -> [4.795, 18.39].
    low, high = poisson_interval_from_counts(np.array([0, 1, 10]))
    np.testing.assert_allclose(low, [0.0, 0.025318, 4.795389], atol=1e-5)
    np.testing.assert_allclose(high, [3.688879, 5.571643, 18.390356], atol=1e-5)


def test_poisson_interval_coverage_is_at_least_nominal():
    for mu in (0.5, 3.0, 12.0, 60.0):
        k = np.arange(0, int(mu * 4 + 40))
        low, high = poisson_interval_from_counts(k)
        covered = (low <= mu) & (mu <= high)
        assert stats.poisson.pmf(k[covered], mu).sum() >= 0.95


def test_unreliable_flag_for_a_village_with_three_offences():
    pop = np.array([200.0, 50_000.0])
    counts = np.array([3, 1500])
    w = queen_neighbours_from_geometry(np.array([None, None], dtype=object))
    table, note = smoothed_rates_from_counts(counts, pop, w)
    assert table.loc[0, "taux_brut"] == pytest.approx(15.0)
    assert table.loc[0, "peu_fiable"] and not table.loc[1, "peu_fiable"]
    assert note.unreliable == 1
    # The village is pulled towards the mean (30 per 1,000 here), the town barely moves.
    assert abs(table.loc[1, "taux_eb_global"] - 30.0) < 0.5


def test_excluded_units_take_no_part():
    communes = communes_for_departement("53").reset_index(drop=True)
    pop = communes["population"].to_numpy(float)
    counts = _heterogeneous_counts(pop, seed=9)
    w = queen_neighbours_from_geometry(communes.geometry)
    hidden = counts <= 5
    assert hidden.any()
    table, _ = smoothed_rates_from_counts(counts, pop, w, exclude=hidden)
    assert table.loc[hidden, ["taux_brut", "taux_eb_spatial", "ic_haut"]].isna().all().all()
    # Changing a hidden count changes no published figure.
    other = counts.copy()
    other[np.flatnonzero(hidden)[0]] += 3
    table2, _ = smoothed_rates_from_counts(other, pop, w, exclude=hidden)
    np.testing.assert_array_equal(table.to_numpy(float), table2.to_numpy(float))
