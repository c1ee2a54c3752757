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
    assert res.ratio.iloc[1, 0] > 1.5 and res.p_value.iloc[1, 0] < 0.05  # 1–99 m, 0–6 days
    x, y, day = _planted(3000, 8, 0.0)
    none = knox_test(x, y, day, permutations=199, seed=1)
    assert (none.p_value.to_numpy() < 0.05).mean() <= 0.10
    assert np.nanmax(none.ratio.iloc[1:3, :2].to_numpy()) < 1.5


def test_bands_are_the_near_repeat_calculators_intervals():
    """Hand-built pairs at the edges: distance bands [1, 100), [100, 200)… metres, « même lieu »
    under 1 m, time bands [0, 7), [7, 14)… days, as the NRC counts them."""
    from analysis.near_repeat import day_labels, distance_labels

    # (distance in metres, gap in days) -> expected (row label, column label)
    cases = [
        ((100.0, 3), ("100 à 199 m", "0 à 6 j")),
        ((99.5, 7), ("1 à 99 m", "7 à 13 j")),
        ((0.5, 0), ("même lieu", "0 à 6 j")),
        ((1.0, 6), ("1 à 99 m", "0 à 6 j")),
        ((200.0, 14), ("200 à 299 m", "14 à 20 j")),
        ((499.9, 56), ("400 à 499 m", "56 j et plus")),
        ((500.0, 1), None),  # the largest bound is excluded: not a pair
    ]
    x, y, day = [], [], []
    for k, ((d, gap), _) in enumerate(cases):
        x += [k * 10_000.0, k * 10_000.0 + d]  # pairs 10 km apart from each other
        y += [0.0, 0.0]
        day += [100, 100 + gap]
    res = knox_test(np.array(x), np.array(y), np.array(day), permutations=9, seed=0)
    assert list(res.observed.index) == distance_labels((100.0, 200.0, 300.0, 400.0, 500.0))
    assert list(res.observed.columns) == day_labels((7, 14, 21, 28, 35, 42, 49, 56))
    assert list(res.observed.index)[:3] == ["même lieu", "1 à 99 m", "100 à 199 m"]
    assert list(res.observed.columns)[:2] == ["0 à 6 j", "7 à 13 j"]
    expected = np.zeros(res.observed.shape, dtype=int)
    for _, cell in cases:
        if cell is not None:
            expected[list(res.observed.index).index(cell[0]), list(res.observed.columns).index(cell[1])] += 1
    assert (res.observed.to_numpy() == expected).all()
    assert res.observed.to_numpy().sum() == 6
