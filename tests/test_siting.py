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


def _lp_value(a, w, p):
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_dem, n_cand = a.shape
    cons = sparse.vstack(
        [
            sparse.hstack([-a, sparse.identity(n_dem)]),
            sparse.hstack([sparse.csr_matrix(np.ones((1, n_cand))), sparse.csr_matrix((1, n_dem))]),
        ]
    )
    lp = milp(
        np.concatenate([np.zeros(n_cand), -w]),
        constraints=LinearConstraint(cons, np.r_[np.full(n_dem, -np.inf), p], np.r_[np.zeros(n_dem), p]),
        bounds=Bounds(0, 1),
    )
    return -lp.fun


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
    assert res.n_covered == int((np.asarray(a[:, res.chosen].sum(axis=1)).ravel() > 0).sum())
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
    # Sites come ranked by marginal gain, and the gains add up to the objective.
    assert np.all(np.diff(res.gains) <= 1e-9) and res.gains.sum() == pytest.approx(res.objective)
    assert res.n_covered == int((np.asarray(a[:, res.chosen].sum(axis=1)).ravel() > 0).sum())
    with pytest.raises(ValueError, match="inatteignable"):
        set_cover_for_target(a, w, 1.01)


def test_unreachable_target_is_a_user_error():
    from analysis.siting import SitingError
    from core.errors import DelinquanceError

    _, _, w, a = _instance(5)
    with pytest.raises(DelinquanceError, match="inatteignable : au plus") as info:
        set_cover_for_target(a, w, 1.01)
    # A SitingError, which the pages show in French (ui.guard), saying the best reachable share.
    assert type(info.value) is SitingError and "%" in str(info.value)


def test_interchange_repairs_a_bad_start():
    # A path of three sites over four demand points: from the poor start {1, 0} one exchange
    # reaches the optimum {0, 2}.
    from scipy import sparse

    from analysis.siting import swap_improvement

    # Site 0 covers d0, d1; site 1 covers d1, d2; site 2 covers d2, d3.
    a = sparse.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=float))
    w = np.array([4.0, 3.0, 3.0, 4.0])
    assert greedy_mclp(a, w, 2).objective == 14.0  # already optimal here: {0, 2}
    sites, value, steps = swap_improvement(a, w, np.array([1, 0]))  # a poor start: {1, 0}
    assert value == 14.0 and sorted(sites.tolist()) == [0, 2] and steps == 1
    sites, value, _ = swap_improvement(a, w, np.array([1, 0]), allowed=np.array([True, True, False]))
    assert value == 10.0  # site 2 may not come in


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(1, 4))
def test_lagrangian_bound_is_a_true_bound(seed, p):
    from analysis.siting import lagrangian_bound_mclp, swap_improvement

    _, _, w, a = _instance(seed, n_dem=150, n_cand=10)
    best = max(_value(a, w, s) for s in itertools.combinations(range(10), p))
    start = greedy_mclp(a, w, p)
    sites, value, _ = swap_improvement(a, w, start.chosen)
    assert start.objective - 1e-9 <= value <= best + 1e-9
    assert value == pytest.approx(_value(a, w, sites))
    bound, lag_sites, lag_value = lagrangian_bound_mclp(a, w, p, lower=value, time_limit=5)
    assert bound >= best - 1e-6
    # The Lagrangian dual converges to the LP relaxation's value: at least it, and close to it.
    lp = _lp_value(a, w, p)
    assert lp - 1e-6 <= bound <= lp * 1.03 + 1e-6
    assert lag_value == pytest.approx(_value(a, w, lag_sites)) and lag_value <= best + 1e-9


def test_large_model_path_reports_a_proven_gap(monkeypatch):
    import analysis.siting as siting

    _, _, w, a = _instance(8, n_dem=400, n_cand=14)
    monkeypatch.setattr(siting, "HIGHS_MAX_NNZ", 0)  # as if the model were too large for HiGHS
    res = siting.exact_mclp(a, w, 3, existing=np.array([2]), time_limit=5)
    assert res.method.startswith("glouton + échanges")
    assert res.chosen[0] == 2 and res.objective == pytest.approx(_value(a, w, res.chosen))
    with_existing = max(
        _value(a, w, [2, *s]) for s in itertools.combinations([j for j in range(14) if j != 2], 3)
    )
    assert res.objective <= with_existing + 1e-9 <= res.upper_bound + 1e-6
    assert res.gap == pytest.approx((res.upper_bound - res.objective) / res.upper_bound)


def _clustered(seed, n_dem=1500, n_cand=100, integral=True):
    """Clustered demand with candidates among it, as around hotspots (r = 150 m)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 2000, (4, 2))
    dem = centres[rng.integers(0, 4, n_dem)] + rng.normal(0, 250, (n_dem, 2))
    cand = dem[rng.choice(n_dem, n_cand, replace=False)] + rng.normal(0, 20, (n_cand, 2))
    w = rng.integers(1, 5, n_dem).astype(float) if integral else rng.uniform(0.1, 3.0, n_dem)
    return w, coverage_from_points(dem, cand, 150.0)


# Seeds whose LP relaxation is fractional at p = 8 (checked by the last assertion).
@pytest.mark.parametrize(
    ("seed", "integral"), [(1, True), (3, True), (4, True), (0, False), (1, False), (3, False)]
)
def test_branch_and_bound_matches_highs_milp_where_the_lp_is_fractional(seed, integral):
    w, a = _clustered(seed, integral=integral)
    p = 8
    ours = exact_mclp(a, w, p, time_limit=60)
    highs = exact_mclp(a, w, p, time_limit=60, solver="highs")
    assert ours.method.startswith("séparation et évaluation") and highs.method == "MILP (HiGHS)"
    assert ours.status == "optimal" and highs.status == "optimal"
    assert ours.objective == pytest.approx(highs.objective, rel=1e-6)
    assert ours.objective == pytest.approx(_value(a, w, ours.chosen))
    assert len(ours.chosen) <= p and ours.upper_bound >= ours.objective - 1e-9
    # The instances need branching: their LP relaxation is above the integer optimum.
    assert _lp_value(a, w, p) > ours.objective * (1 + 1e-4)


def test_branch_and_bound_stopped_early_reports_a_true_bound():
    w, a = _clustered(3, n_dem=3000, n_cand=200, integral=False)
    exact = exact_mclp(a, w, 8, time_limit=60)
    early = exact_mclp(a, w, 8, time_limit=0.05)
    assert early.objective <= exact.objective + 1e-9 <= early.upper_bound + 1e-6
    assert early.objective == pytest.approx(_value(a, w, early.chosen))


@pytest.mark.parametrize("max_nodes", [0, 1, 2, 4, 8])
def test_branch_and_bound_cut_short_still_bounds_the_optimum(max_nodes):
    from analysis.siting_base import reduced_model
    from analysis.siting_exact import branch_and_bound_mclp

    w, a = _clustered(3, integral=False)
    opt = exact_mclp(a, w, 8, solver="highs").objective
    sub, wg, _ = reduced_model(a, w, np.zeros(0, dtype=np.int64))
    sites, value, bound, optimal = branch_and_bound_mclp(
        sub, wg, 8, np.arange(8), _value(sub, wg, range(8)), time_limit=60, rel_gap=1e-6, max_nodes=max_nodes
    )
    assert value == pytest.approx(_value(sub, wg, sites)) and len(sites) == 8
    assert value <= opt + 1e-9 <= bound + 1e-6
    if optimal:
        assert value == pytest.approx(opt, rel=1e-6)
    if max_nodes == 0:
        assert not optimal  # the root LP is fractional: some node had to be left open


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(2, 10), integral=st.booleans())
def test_branch_and_bound_agrees_with_highs_milp(seed, p, integral):
    w, a = _clustered(seed, n_dem=600, n_cand=60, integral=integral)
    ours, highs = exact_mclp(a, w, p), exact_mclp(a, w, p, solver="highs")
    assert ours.status == highs.status == "optimal"
    assert ours.objective == pytest.approx(highs.objective, rel=1e-6)
    assert ours.objective <= ours.upper_bound + 1e-9 and highs.objective <= ours.upper_bound * (1 + 1e-6)


def _fewest_sites_milp(a, w, share):
    """Oracle: the set-covering MILP (HiGHS through scipy), minimise the number of sites."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_dem, n_cand = a.shape
    res = milp(
        np.concatenate([np.ones(n_cand), np.zeros(n_dem)]),
        constraints=[
            LinearConstraint(sparse.hstack([-a, sparse.identity(n_dem)]), -np.inf, 0.0),
            LinearConstraint(np.concatenate([np.zeros(n_cand), w])[None, :], share * w.sum(), np.inf),
        ],
        integrality=np.concatenate([np.ones(n_cand), np.zeros(n_dem)]),
        bounds=Bounds(0, 1),
    )
    return round(res.fun)


@pytest.mark.parametrize(("seed", "share"), [(0, 0.3), (1, 0.5), (3, 0.7), (4, 0.8)])
def test_fewest_sites_matches_the_set_covering_milp(seed, share):
    w, a = _clustered(seed, n_dem=800, n_cand=70, integral=seed % 2 == 0)
    res = set_cover_for_target(a, w, share)
    assert res.status == "optimal" and res.share >= share - 1e-9
    assert len(res.chosen) == _fewest_sites_milp(a, w, share)
    assert res.objective == pytest.approx(_value(a, w, res.chosen))


def test_fewest_sites_keeps_existing_and_says_what_is_proven_on_a_time_out():
    w, a = _clustered(2, n_dem=800, n_cand=70)
    existing = np.array([5, 9])
    res = set_cover_for_target(a, w, 0.6, existing=existing)
    assert res.chosen[:2].tolist() == [5, 9] and res.share >= 0.6 - 1e-9
    # Minimal: one new site fewer cannot reach the target (checked by the MCLP optimum).
    n_new = len(res.chosen) - 2
    assert exact_mclp(a, w, n_new - 1, existing=existing).share < 0.6
    rushed = set_cover_for_target(a, w, 0.6, existing=existing, time_limit=0.0)
    assert rushed.share >= 0.6 - 1e-9 and len(rushed.chosen) >= len(res.chosen)
    assert rushed.status.startswith("limite de temps atteinte (au moins ")
    n_min = int(rushed.status.split("au moins ")[1].split()[0])
    assert 1 <= n_min <= n_new  # the submodularity bound, valid: the minimum is n_new


def test_lp_re_solve_gets_its_own_time_limit():
    # HiGHS compares its time limit with the run time accumulated over all runs of one object:
    # a branch-and-bound node re-solved after a long root solve must still get its own time.
    from analysis.siting_base import reduced_model
    from analysis.siting_exact import mclp_lp, solve_lp

    w, a = _clustered(5, n_dem=8000, n_cand=500)
    sub, wg, _ = reduced_model(a, w, np.zeros(0, dtype=np.int64))
    h, _ = mclp_lp(sub, wg, 10)
    first = solve_lp(h, sub.shape[1], 60, "ipm")
    assert isinstance(first, tuple)
    j = int(np.argmax(first[1]))  # a branching step: the LP's largest site is forbidden
    h.changeColBounds(j, 0.0, 0.0)
    # Less time than the root solve took, far more than this warm re-solve needs.
    again = solve_lp(h, sub.shape[1], h.getRunTime() / 2, "simplex")
    assert isinstance(again, tuple) and again[0] <= first[0] + 1e-6 and again[1][j] == 0


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_submodularity_bounds_hold_for_every_number_of_sites(seed):
    from analysis.siting import coverage_upper_bounds

    _, _, w, a = _instance(seed, n_dem=150, n_cand=10)
    order = greedy_mclp(a, w, 10).chosen
    bounds = coverage_upper_bounds(a, w, order, 6)
    assert np.all(np.diff(bounds) >= -1e-9) and bounds[0] == 0.0
    for k in range(1, 7):
        best = max(_value(a, w, s) for s in itertools.combinations(range(10), k))
        assert best <= bounds[k] + 1e-9
    # Tighter than the greedy's own 1 - 1/e guarantee.
    assert bounds[3] <= greedy_mclp(a, w, 3).upper_bound + 1e-9
