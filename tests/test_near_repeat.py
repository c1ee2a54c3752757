"""Knox near-repeat test (analysis.near_repeat) against a brute-force reference."""

import numpy as np
import pytest

from analysis.near_repeat import knox_brute_force, knox_test


def _random(n, seed, side=3000.0, span=120):
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(0, side, n), -1)  # rounded: some incidents share a location
    y = np.round(rng.uniform(0, side, n), -1)
    return x, y, rng.integers(0, span, n)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_same_counts_and_p_values_as_brute_force(metric):
    x, y, day = _random(160, 1)
    x[:5], y[:5] = x[5], y[5]  # a repeated place
    res = knox_test(x, y, day, permutations=49, metric=metric, seed=3)
    obs, p = knox_brute_force(x, y, day, permutations=49, metric=metric, seed=3)
    assert (res.observed.to_numpy() == obs).all() and obs.sum() > 0
    assert np.array_equal(res.p_value.to_numpy(), p)
    assert res.observed.to_numpy()[0].sum() >= 10  # the same-location row is filled


def _planted(n, seed, share):
    """Burglaries over a year; a share of them followed by another within 150 m and 7 days."""
    rng = np.random.default_rng(seed)
    x, y, day = rng.uniform(0, 20_000, n), rng.uniform(0, 20_000, n), rng.integers(0, 365, n)
    k = int(share * n)
    src = rng.integers(0, n - k, k)
    angle, r = rng.uniform(0, 2 * np.pi, k), rng.uniform(0, 150, k)
    x[n - k :], y[n - k :] = x[src] + r * np.cos(angle), y[src] + r * np.sin(angle)
    day[n - k :] = np.minimum(day[src] + rng.integers(0, 8, k), 364)
    return x, y, day


def test_planted_near_repeats_are_found_and_none_without():
    x, y, day = _planted(3000, 7, 0.2)
    res = knox_test(x, y, day, permutations=199, seed=1)
    assert res.ratio.iloc[1, 0] > 1.5 and res.p_value.iloc[1, 0] < 0.05  # < 100 m, 0–7 days
    x, y, day = _planted(3000, 8, 0.0)
    none = knox_test(x, y, day, permutations=199, seed=1)
    assert (none.p_value.to_numpy() < 0.05).mean() <= 0.10
    assert np.nanmax(none.ratio.iloc[1:3, :2].to_numpy()) < 1.5
