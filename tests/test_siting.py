import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.siting import (
    ONE_MINUS_INV_E,
    coverage_curve,
    coverage_from_points,
    exact_mclp,
    greedy_mclp,
    set_cover_for_target,
)


def _value(a, w, sites):
    return float(w[np.asarray(a[:, list(sites)].sum(axis=1)).ravel() > 0].sum()) if len(sites) else 0.0


def _instance(seed, n_dem=200, n_cand=12, size=1000.0, radius=200.0):
    rng = np.random.default_rng(seed)
    dem = rng.uniform(0, size, (n_dem, 2))
    cand = rng.uniform(0, size, (n_cand, 2))
    w = rng.integers(1, 6, n_dem).astype(float)
    return dem, cand, w, coverage_from_points(dem, cand, radius)


def test_coverage_matrix_known_case():
    dem = np.array([[0.0, 0.0], [100.0, 0.0], [400.0, 0.0]])
    cand = np.array([[0.0, 0.0], [300.0, 0.0]])
    a = coverage_from_points(dem, cand, 150.0).toarray()
    assert a.tolist() == [[1, 0], [1, 0], [0, 1]]  # co-located demand included, 150 m inclusive
    with pytest.raises(ValueError, match="rayon"):
        coverage_from_points(dem, cand, 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("p", [1, 2, 3])
def test_exact_is_the_brute_force_optimum(seed, p):
    _, _, w, a = _instance(seed)
    best = max(_value(a, w, s) for s in itertools.combinations(range(a.shape[1]), p))
    res = exact_mclp(a, w, p)
    assert res.objective == pytest.approx(best)
    assert _value(a, w, res.chosen) == pytest.approx(res.objective)
    assert res.gap == pytest.approx(0.0, abs=1e-6) and res.status == "optimal"


def test_existing_cameras_are_kept_and_counted_first():
    _, _, w, a = _instance(3)
    existing = np.array([0, 5])
    for res in (exact_mclp(a, w, 3, existing=existing), greedy_mclp(a, w, 3, existing=existing)):
        assert res.chosen[:2].tolist() == [0, 5]
        assert len(set(res.chosen.tolist())) == 5
        assert res.objective == pytest.approx(_value(a, w, res.chosen))
    best = max(
        _value(a, w, [0, 5, *s]) for s in itertools.combinations([j for j in range(12) if j not in (0, 5)], 3)
    )
    assert exact_mclp(a, w, 3, existing=existing).objective == pytest.approx(best)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(1, 5), r1=st.floats(50, 300), dr=st.floats(0, 200))
def test_properties(seed, p, r1, dr):
    dem, cand, w, _ = _instance(seed, n_dem=120, n_cand=15)
    a1 = coverage_from_points(dem, cand, r1)
    a2 = coverage_from_points(dem, cand, r1 + dr)
    e1, e2 = exact_mclp(a1, w, p), exact_mclp(a2, w, p)
    assert e2.objective >= e1.objective - 1e-9  # a larger radius never covers less
    assert exact_mclp(a1, w, p + 1).objective >= e1.objective - 1e-9  # nor one more camera
    g = greedy_mclp(a1, w, p)
    assert g.objective >= ONE_MINUS_INV_E * e1.objective - 1e-9  # greedy within its bound
    assert g.upper_bound >= e1.objective - 1e-9  # and its bound is a true bound
    curve = coverage_curve(a1, w, p)
    assert np.all(np.diff(curve) >= -1e-12) and curve[-1] == pytest.approx(g.share)


def test_set_cover_reaches_target_with_the_fewest_sites():
    _, _, w, a = _instance(4)
    res = set_cover_for_target(a, w, 0.5)
    assert res.share >= 0.5 - 1e-9
    k = len(res.chosen)
    assert all(_value(a, w, s) < 0.5 * w.sum() for s in itertools.combinations(range(12), k - 1))
    with pytest.raises(ValueError, match="inatteignable"):
        set_cover_for_target(a, w, 1.01)


def test_unreachable_target_is_a_user_error():
    from analysis.siting import SitingError
    from errors import DelinquanceError

    _, _, w, a = _instance(5)
    with pytest.raises(SitingError, match="inatteignable") as info:
        set_cover_for_target(a, w, 1.01)
    assert isinstance(info.value, DelinquanceError)  # shown in French by the pages, not as a crash
