"""Video-protection siting: maximal covering location (MCLP) and set covering.

NumPy/SciPy core on a sparse coverage matrix (demand points x candidate sites, built with
a k-d tree: never a dense matrix):

* :func:`coverage_from_points`: which candidates see which demand points within a radius;
* :func:`greedy_mclp`: lazy greedy (CELF) with its (1 - 1/e) guarantee, existing cameras
  counted first;
* :func:`exact_mclp`: the MILP solved exactly from the greedy solution (LP-based branch
  and bound on HiGHS LPs, or HiGHS's MILP solver), with a time limit, reporting the proven
  optimality gap; demand rows with identical coverage are
  merged and demand already covered by existing cameras leaves the model;
* :func:`set_cover_for_target`: the fewest cameras to reach a target coverage;
* :func:`coverage_curve`: coverage against the number of cameras (greedy, nested).
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from errors import DelinquanceError
from geo.crs import require_metric

ONE_MINUS_INV_E = 1 - 1 / np.e


class SitingError(DelinquanceError):
    """A siting request that cannot be met (unreachable target, no solution)."""


@dataclass
class SitingResult:
    """Chosen sites and what they buy."""

    chosen: np.ndarray  # candidate indices, in order of choice (existing first when given)
    objective: float  # weighted demand covered (existing cameras included)
    total: float  # total weighted demand
    method: str
    gains: np.ndarray = field(default_factory=lambda: np.zeros(0))  # marginal gain of each new site
    upper_bound: float | None = None  # proven bound on the optimum
    gap: float | None = None  # (bound - objective) / bound
    seconds: float = 0.0
    status: str = ""
    n_covered: int = 0  # demand points (rows of the coverage matrix) covered

    @property
    def share(self) -> float:
        """Share of the weighted demand covered."""
        return self.objective / self.total if self.total else 0.0


def coverage_from_points(demand_xy: np.ndarray, candidate_xy: np.ndarray, radius: float) -> sparse.csr_matrix:
    """Sparse coverage matrix: entry (i, j) is 1 when candidate j is within ``radius`` of demand i.

    Parameters
    ----------
    demand_xy, candidate_xy : ndarray (n, 2)
        Coordinates in metres.
    radius : float
        Coverage radius in metres.
    """
    if radius <= 0:
        raise SitingError("Le rayon de couverture doit être positif (en mètres).")
    m = cKDTree(np.asarray(demand_xy, float)).sparse_distance_matrix(
        cKDTree(np.asarray(candidate_xy, float)), radius, output_type="coo_matrix"
    )
    a = sparse.csr_matrix((np.ones(m.nnz), (m.row, m.col)), shape=m.shape)
    # A zero distance is dropped by sparse_distance_matrix: add exact co-locations.
    d, j = cKDTree(np.asarray(candidate_xy, float)).query(np.asarray(demand_xy, float), k=1)
    exact = d == 0
    if exact.any():
        a = a + sparse.csr_matrix((np.ones(exact.sum()), (np.flatnonzero(exact), j[exact])), shape=m.shape)
    a.data[:] = 1.0
    return a


def _covered_by(a: sparse.csr_matrix, sites: np.ndarray) -> np.ndarray:
    if len(sites) == 0:
        return np.zeros(a.shape[0], dtype=bool)
    return np.asarray(a[:, sites].sum(axis=1)).ravel() > 0


def greedy_mclp(
    a: sparse.csr_matrix, weights: np.ndarray, p: int, *, existing: np.ndarray | None = None
) -> SitingResult:
    """Lazy greedy maximal covering: ``p`` new sites on top of the existing ones.

    The objective is submodular, so the greedy value is at least ``1 - 1/e`` of the
    optimum; the result's ``upper_bound`` is ``objective / (1 - 1/e)`` on the new part.
    """
    t0 = time.perf_counter()
    w = np.asarray(weights, float)
    existing = np.asarray(existing if existing is not None else [], dtype=np.int64)
    covered = _covered_by(a, existing)
    base = float(w[covered].sum())
    csc = a.tocsc()
    gain0 = np.asarray(csc.T @ np.where(covered, 0.0, w)).ravel()
    heap = [(-g, j, 0) for j, g in enumerate(gain0) if g > 0 and j not in set(existing.tolist())]
    heapq.heapify(heap)
    chosen, gains, it = [], [], 0
    while heap and len(chosen) < p:
        neg, j, stamp = heapq.heappop(heap)
        if stamp == it:
            rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
            new = rows[~covered[rows]]
            covered[new] = True
            chosen.append(j)
            gains.append(-neg)
            it += 1
        else:
            rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
            g = float(w[rows[~covered[rows]]].sum())
            if g > 0:
                heapq.heappush(heap, (-g, j, it))
    obj = base + float(np.sum(gains))
    bound = base + (obj - base) / ONE_MINUS_INV_E
    return SitingResult(
        chosen=np.concatenate([existing, np.asarray(chosen, dtype=np.int64)]),
        objective=obj,
        total=float(w.sum()),
        method="glouton paresseux",
        gains=np.asarray(gains),
        upper_bound=min(bound, float(w.sum())),
        gap=(min(bound, float(w.sum())) - obj) / min(bound, float(w.sum())) if obj > 0 else None,
        seconds=time.perf_counter() - t0,
        status="heuristique (garantie 1 - 1/e)",
    )


def _reduced_model(a: sparse.csr_matrix, w: np.ndarray, existing: np.ndarray):
    """Drop covered or uncoverable demand, merge identical rows (weights added)."""
    covered = _covered_by(a, existing)
    base = float(w[covered].sum())
    keep = ~covered & (np.diff(a.indptr) > 0)
    sub = a[keep]
    sub.sort_indices()
    keys = [sub.indices[sub.indptr[i] : sub.indptr[i + 1]].tobytes() for i in range(sub.shape[0])]
    uniq: dict[bytes, int] = {}
    group = np.array([uniq.setdefault(k, len(uniq)) for k in keys], dtype=np.int64)
    wg = np.bincount(group, weights=w[keep], minlength=len(uniq))
    first = np.zeros(len(uniq), dtype=np.int64)
    first[group[::-1]] = np.arange(len(group))[::-1]
    return sub[first], wg, base


def swap_improvement(
    a: sparse.csr_matrix,
    weights: np.ndarray,
    chosen: np.ndarray,
    *,
    time_limit: float = 10.0,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, float, int]:
    """Best-improvement interchange (Teitz-Bart) from a set of sites.

    Each step applies the exchange (one chosen site out, one other in) that gains the most
    weighted coverage, until no exchange gains or the time limit. All exchange gains are
    computed at once: ``gain_in[k] - loss_out[j] + shared[k, j]`` where ``shared`` is the
    weight covered only by ``j`` that ``k`` also covers (one sparse product per step).
    Only ``allowed`` candidates (default: all) may come in.

    Returns
    -------
    chosen : ndarray
        Improved sites (same number).
    objective : float
        Weighted demand they cover.
    steps : int
        Exchanges applied.
    """
    t_end = time.perf_counter() + time_limit
    w = np.asarray(weights, float)
    a = a.tocsr()
    at = a.T.tocsr()
    csc = a.tocsc()
    chosen = np.asarray(chosen, dtype=np.int64).copy()
    n_dem = a.shape[0]
    steps = 0
    while len(chosen) and time.perf_counter() < t_end:
        sub = csc[:, chosen].tocsr()
        count = np.diff(sub.indptr)
        gain_in = at @ np.where(count == 0, w, 0.0)
        rows = np.flatnonzero(count == 1)
        owner = sub.indices[sub.indptr[rows]]  # position in ``chosen`` of the only site covering the row
        only = sparse.csr_matrix((w[rows], (rows, owner)), shape=(n_dem, len(chosen)))
        loss_out = np.bincount(owner, weights=w[rows], minlength=len(chosen))
        delta = (at @ only).toarray()
        delta += gain_in[:, None] - loss_out[None, :]
        delta[chosen, :] = -np.inf
        if allowed is not None:
            delta[~allowed, :] = -np.inf
        k, j = np.unravel_index(int(np.argmax(delta)), delta.shape)
        if not delta[k, j] > 1e-9:
            break
        chosen[j] = k
        steps += 1
    covered = np.asarray(csc[:, chosen].sum(axis=1)).ravel() > 0 if len(chosen) else np.zeros(n_dem, bool)
    return chosen, float(w[covered].sum()), steps


def lagrangian_bound_mclp(
    a: sparse.csr_matrix,
    weights: np.ndarray,
    p: int,
    *,
    lower: float,
    time_limit: float = 10.0,
    target_gap: float = 0.0,
    max_iterations: int = 5000,
    allowed: np.ndarray | None = None,
) -> tuple[float, np.ndarray, float]:
    """Upper bound of the MCLP optimum by Lagrangian relaxation (subgradient method).

    Relaxing ``y_i <= sum_j a_ij x_j`` with multipliers ``0 <= l_i <= w_i`` gives
    ``L(l) = sum_i (w_i - l_i) + (sum of the p largest (A^T l)_j)``, an upper bound for
    every ``l`` (its minimum equals the LP relaxation's value). Polyak steps towards the
    best known solution ``lower``; the step is halved when the bound stalls. Each
    iteration's ``p`` best sites are also a solution: the best one is returned. Only
    ``allowed`` candidates (default: all) are chosen.

    Returns
    -------
    bound : float
        Best (smallest) upper bound found.
    sites : ndarray
        Best Lagrangian solution (``p`` sites).
    value : float
        Weighted demand it covers.
    """
    t_end = time.perf_counter() + time_limit
    w = np.asarray(weights, float)
    a = a.tocsr()
    at = a.T.tocsr()
    n_cand = a.shape[1]
    p = int(min(p, n_cand if allowed is None else int(np.sum(allowed))))
    if p <= 0:
        return lower, np.zeros(0, dtype=np.int64), 0.0
    deg = np.maximum(np.diff(a.indptr), 1)
    lam = w / deg
    best, theta, stall = np.inf, 1.0, 0
    best_sites, best_value = np.zeros(0, dtype=np.int64), 0.0
    x = np.zeros(n_cand)
    for _ in range(max_iterations):
        c = at @ lam
        if allowed is not None:
            c[~allowed] = -np.inf
        top = np.argpartition(-c, p - 1)[:p] if p < n_cand else np.arange(n_cand)
        top = top[np.isfinite(c[top])]
        bound = float((w - lam).sum() + c[top].sum())
        if not np.isfinite(best) or bound < best - 1e-9 * max(abs(best), 1.0):
            best, stall = bound, 0
        else:
            stall += 1
            if stall >= 25:
                theta, stall = theta / 2, 0
        x[:] = 0.0
        x[top] = 1.0
        count = a @ x
        value = float(w[count > 0].sum())
        if value > best_value:
            best_sites, best_value = top.astype(np.int64), value
        lower = max(lower, value)
        if best <= lower * (1 + 1e-12) or (best - lower) <= target_gap * best or theta < 1e-6:
            break
        if time.perf_counter() > t_end:
            break
        g = count - 1.0
        g[(lam <= 0) & (g > 0)] = 0.0
        g[(lam >= w) & (g < 0)] = 0.0
        norm = float(g @ g)
        if norm == 0:
            break
        lam = np.clip(lam - theta * (bound - lower) / norm * g, 0.0, w)
    return max(best, lower), best_sites, best_value


def _ranked_new_sites(
    sub: sparse.csr_matrix, wg: np.ndarray, sites: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """New sites in order of marginal gain (greedy order), sites that add nothing dropped."""
    order = greedy_mclp(sub[:, sites], wg, len(sites), existing=None)
    return np.asarray(sites, dtype=np.int64)[order.chosen], order.gains


#: Reduced models with more non-zeros than this skip the LP-based solvers: interchange
#: heuristic + Lagrangian bound instead. The root LP relaxation (HiGHS interior point) took
#: 0.5 s at 45 k non-zeros, 2.7 s at 150 k, 10 s at 320-475 k and 57 s at 860 k on the
#: benchmark instances (2 cores).
HIGHS_MAX_NNZ = 600_000


def exact_mclp(
    a: sparse.csr_matrix,
    weights: np.ndarray,
    p: int,
    *,
    existing: np.ndarray | None = None,
    time_limit: float = 60.0,
    mip_rel_gap: float = 1e-6,
    solver: Literal["bb", "highs"] = "bb",
) -> SitingResult:
    """Maximal covering with a proven optimality gap.

    Variables: ``x_j`` (binary, new site j) and ``y_i`` in [0, 1] (demand i covered);
    maximise ``sum w_i y_i`` s.t. ``y_i <= sum_{j covers i} x_j`` and ``sum x_j = p``.
    Existing sites are fixed; the demand they cover leaves the model, identical demand
    rows are merged. Steps, all within ``time_limit``: lazy greedy, best-improvement
    interchange (:func:`swap_improvement`), then

    * models up to :data:`HIGHS_MAX_NNZ` non-zeros: the MILP solved exactly from that
      solution, by default (``solver="bb"``) with our LP-based branch and bound
      (:func:`_branch_and_bound_mclp`, HiGHS solving the LPs), with ``solver="highs"`` by
      HiGHS's own MILP solver (if it stops on the time limit, a Lagrangian bound with
      the time left);
    * larger models, or a root LP not solved in time: the Lagrangian bound
      (:func:`lagrangian_bound_mclp`), whose solutions may also improve the incumbent.

    Parameters
    ----------
    a : csr_matrix
        Coverage, demand points x candidate sites (:func:`coverage_from_points`).
    weights : ndarray
        Weight of each demand point.
    p : int
        Number of new sites.
    existing : ndarray of int, optional
        Columns of ``a`` that are cameras already in place (kept, counted first).
    time_limit : float
        Seconds for the whole solve.
    mip_rel_gap : float
        Relative gap at which the search may stop (``1e-6``: optimal).
    solver : {"bb", "highs"}
        Our branch and bound on HiGHS LPs, or HiGHS's MILP solver.

    Returns
    -------
    SitingResult
        New sites ranked by marginal gain (sites that add nothing are dropped), the
        proven ``upper_bound`` and ``gap`` (0 when optimal within ``mip_rel_gap``).
    """
    if solver not in ("bb", "highs"):
        raise ValueError(f"solver must be 'bb' or 'highs', not {solver!r}")
    t0 = time.perf_counter()

    def left() -> float:
        return max(0.0, time_limit - (time.perf_counter() - t0))

    w = np.asarray(weights, float)
    existing = np.asarray(existing if existing is not None else [], dtype=np.int64)
    sub, wg, base = _reduced_model(a, w, existing)
    n_dem, n_cand = sub.shape
    free = np.ones(n_cand, dtype=bool)
    free[existing] = False
    p_new = int(min(p, free.sum()))
    if n_dem == 0 or p_new == 0:
        return SitingResult(
            existing,
            base,
            float(w.sum()),
            "MILP (HiGHS)",
            upper_bound=base,
            gap=0.0,
            seconds=time.perf_counter() - t0,
            status="trivial",
            n_covered=int(_covered_by(a, existing).sum()),
        )
    sub_csc = sub.tocsc()

    def covered_weight(sites: np.ndarray) -> float:
        if len(sites) == 0:
            return 0.0
        return float(wg[np.asarray(sub_csc[:, sites].sum(axis=1)).ravel() > 0].sum())

    start = greedy_mclp(sub, wg, p_new, existing=None)
    sites, value, _ = swap_improvement(sub, wg, start.chosen, time_limit=0.25 * time_limit, allowed=free)
    bound_new, optimal, lp_bounded = float(wg.sum()), False, False
    polish = min(1.0, 0.05 * time_limit)  # seconds kept for a last interchange pass
    method = "glouton + échanges, borne lagrangienne"
    if sub.nnz <= HIGHS_MAX_NNZ and solver == "highs":
        method = "MILP (HiGHS)"
        x, bound_new, optimal = _solve_mclp_highs(sub, wg, free, p_new, sites, 0.8 * left(), mip_rel_gap)
        found = np.flatnonzero(x & free)
        if covered_weight(found) >= value:
            sites, value = found, covered_weight(found)
    elif sub.nnz <= HIGHS_MAX_NNZ:
        cols = np.flatnonzero(free)
        pos = np.full(n_cand, -1, dtype=np.int64)
        pos[cols] = np.arange(len(cols))
        done = _branch_and_bound_mclp(
            sub[:, cols], wg, p_new, pos[sites], value, time_limit=left() - polish, rel_gap=mip_rel_gap
        )
        if done is not None:
            method = "séparation et évaluation (PL HiGHS)"
            found, found_value, bound_new, optimal = done
            lp_bounded = True  # the Lagrangian bound cannot beat the LP relaxation's
            if found_value >= value:
                sites, value = cols[found], found_value
    if not optimal and not lp_bounded and left() > 0.05:
        lag, lag_sites, lag_value = lagrangian_bound_mclp(
            sub, wg, p_new, lower=value, time_limit=left(), target_gap=mip_rel_gap, allowed=free
        )
        bound_new = min(bound_new, lag)
        if lag_value > value:
            sites, value = lag_sites, lag_value
    if not optimal:
        # The search stopped on time: its best solution may still gain by an exchange.
        polished, polished_value, _ = swap_improvement(sub, wg, sites, time_limit=polish, allowed=free)
        if polished_value > value:
            sites, value = polished, polished_value
    bound_new = max(bound_new, value)
    optimal = optimal or (bound_new - value) <= mip_rel_gap * bound_new
    obj = base + value
    bound = base + bound_new
    gap = (bound - obj) / bound if bound > 0 else 0.0
    ranked, gains = _ranked_new_sites(sub, wg, sites)
    chosen = np.concatenate([existing, ranked])
    return SitingResult(
        chosen=chosen,
        objective=obj,
        total=float(w.sum()),
        method=method,
        gains=gains,
        upper_bound=bound,
        gap=gap,
        seconds=time.perf_counter() - t0,
        status=(
            "optimal"
            if optimal and (gap <= 1e-9 or mip_rel_gap <= 1e-4)
            else f"écart cible atteint ({mip_rel_gap:.2%})".replace(".", ",")
            if optimal
            else "limite de temps atteinte"
        ),
        n_covered=int(_covered_by(a, chosen).sum()),
    )


def _mclp_lp(cover: sparse.csr_matrix, weights: np.ndarray, p: int):
    """The LP relaxation of the MCLP, passed to a new ``highspy.Highs`` (not yet solved).

    Columns: ``x_j`` (sites, first) then ``y_i`` (demand), all in [0, 1]; rows:
    ``y_i - sum_j a_ij x_j <= 0`` then ``sum_j x_j = p``; minimises ``-sum w_i y_i``.

    Returns
    -------
    (highs, lp)
        The solver holding the model, and the model itself (to change and pass again).
    """
    import highspy

    n_dem, n_cand = cover.shape
    n = n_cand + n_dem
    a = sparse.vstack(
        [
            sparse.hstack([-cover, sparse.identity(n_dem)]),
            sparse.hstack([sparse.csr_matrix(np.ones((1, n_cand))), sparse.csr_matrix((1, n_dem))]),
        ],
        format="csc",
    )
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, n_dem + 1
    lp.col_cost_ = np.concatenate([np.zeros(n_cand), -np.asarray(weights, float)])
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    lp.row_lower_ = np.concatenate([np.full(n_dem, -highspy.kHighsInf), [p]])
    lp.row_upper_ = np.concatenate([np.zeros(n_dem), [p]])
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    return h, lp


def _solve_lp(h, n_cand: int, time_limit: float, solver: str):
    """Solve (or re-solve) the LP.

    Returns ``(value, x, reduced costs of x)``, ``"infeasible"`` when proven infeasible,
    or None when not solved (time limit, numerical trouble).
    """
    import highspy

    h.setOptionValue("solver", solver)
    # HiGHS compares its time limit with the run time accumulated over every run() of this
    # object (the nodes re-solve the same one), not with this run's.
    h.setOptionValue("time_limit", float(h.getRunTime() + max(time_limit, 0.01)))
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return "infeasible"
    if status != highspy.HighsModelStatus.kOptimal:
        return None
    sol = h.getSolution()
    return (
        -float(h.getInfo().objective_function_value),
        np.asarray(sol.col_value)[:n_cand],
        np.asarray(sol.col_dual)[:n_cand],
    )


def _branch_and_bound_mclp(
    sub: sparse.csr_matrix,
    wg: np.ndarray,
    p: int,
    sites: np.ndarray,
    value: float,
    *,
    time_limit: float,
    rel_gap: float,
    max_nodes: int | None = None,
    target: float | None = None,
) -> tuple[np.ndarray, float, float, bool] | None:
    """LP-based branch and bound for the reduced MCLP (HiGHS solves the LPs).

    1. Root LP relaxation by the interior point method (with crossover): bound and
       reduced costs. Its largest ``x_j`` seed a greedy + interchange solution.
    2. Reduced-cost fixing: a site whose reduced cost exceeds ``LP - (incumbent + step)``
       cannot be in any better solution and leaves the model (the "core" is what is left).
    3. Depth-first search on the core: branching on the most fractional ``x_j`` (the
       ``x_j = 1`` child first), each node's LP re-solved from the parent's basis by the
       dual simplex, reduced-cost fixing at every node, and the node's ``p`` largest
       ``x_j`` tried as a solution.

    ``step`` is the larger of ``rel_gap`` x incumbent and, when every weight is an integer,
    1 (a better solution is then at least one unit better). The search stops at
    ``time_limit`` seconds or ``max_nodes`` node LPs; the bound is then the largest LP bound
    of the open nodes (depth-first: usually the root's). On the 20,000-incident benchmark
    (four seeds) this proves optimality in 1-1.6 s where HiGHS's own MILP solver, whose
    root cut loop is slow on MCLP models, takes 4-8 s. Where the LP relaxation is weak
    (dense demand, many sites: 1.4-3.3 % above the best known solutions), neither closes
    the gap in a minute.

    With ``target``, the decision version: do ``p`` sites cover at least ``target``? The
    search prunes nodes whose bound is below ``target`` and stops at the first solution
    reaching it; ``optimal`` then means "decided" (reached, or proven out of reach).

    Returns
    -------
    (sites, value, bound, optimal) or None
        None when the root LP is not solved within the time limit.
    """
    t_end = time.perf_counter() + time_limit
    integral = bool(np.all(wg == np.round(wg))) and float(wg.sum()) < 2**50

    step = 1.0 - 1e-6 if integral else 1e-9

    def threshold(best: float) -> float:
        # A node whose LP bound is below this cannot hold a solution worth reporting: any
        # better solution is at least one unit better (integral weights) or rel_gap better.
        if target is not None:
            return target - 1e-9 * max(1.0, abs(target))
        return best + max(step, rel_gap * abs(best))

    def reached(best: float) -> bool:
        return target is not None and best >= threshold(best)

    def proven(best: float) -> float:
        # Bound on the optimum once every node is below threshold(best).
        return best if integral and threshold(best) < best + 1 else min(lp_value, threshold(best))

    n_dem, n_cand = sub.shape
    h, _ = _mclp_lp(sub, wg, p)
    # At most 60 % of the time for the root LP: if it does not end, the caller still has time
    # for a Lagrangian bound.
    root = _solve_lp(h, n_cand, 0.6 * (t_end - time.perf_counter()), "ipm")
    if not isinstance(root, tuple):
        return None
    lp_value, xv, xd = root
    sub_csc = sub.tocsc()

    def covered(cols_csc: sparse.csc_matrix, weights: np.ndarray, sel: np.ndarray) -> float:
        return float(weights[np.asarray(cols_csc[:, sel].sum(axis=1)).ravel() > 0].sum())

    # LP-guided start: greedy among the sites the LP likes most, then interchange.
    pool = np.argsort(-xv)[: max(3 * p, int(np.sum(xv > 1e-6)))]
    guided = greedy_mclp(sub[:, pool], wg, p)
    g_sites, g_value, _ = swap_improvement(
        sub, wg, pool[guided.chosen], time_limit=max(0.0, 0.1 * (t_end - time.perf_counter()))
    )
    if g_value > value:
        sites, value = g_sites, g_value
    best, best_sites = value, np.asarray(sites, dtype=np.int64)
    if reached(best):
        return best_sites, best, lp_value, True
    if lp_value < threshold(best):
        return best_sites, best, proven(best), True

    keep = np.flatnonzero(~((xv < 1e-9) & (xd > lp_value - threshold(best) + 1e-7)))
    core = sub_csc[:, keep].tocsr()
    rows = np.flatnonzero(np.diff(core.indptr) > 0)
    core, w_core = core[rows], wg[rows]
    core_csc = core.tocsc()
    nc = len(keep)
    h, _ = _mclp_lp(core, w_core, min(p, nc))
    idx = np.arange(nc, dtype=np.int32)
    stack: list[tuple[np.ndarray, np.ndarray, float]] = [(np.zeros(nc), np.ones(nc), lp_value)]
    solver = "ipm"  # the first core LP from scratch, then dual simplex from the parent's basis
    nodes, unsolved = 0, -np.inf
    while stack:
        if time.perf_counter() > t_end or (max_nodes is not None and nodes >= max_nodes):
            break
        lo, hi, parent = stack.pop()
        if parent < threshold(best):
            continue
        nodes += 1
        h.changeColsBounds(nc, idx, lo, hi)
        node = _solve_lp(h, nc, t_end - time.perf_counter(), solver)
        solver = "simplex"
        if node == "infeasible":
            continue  # fixings exceed p
        if node is None:
            # Not solved (time limit, numerical trouble): the node stays open, its parent's
            # bound counts, and optimality is not claimed.
            unsolved = max(unsolved, parent)
            if time.perf_counter() > t_end:
                break
            continue
        bound, x, d = node
        if bound < threshold(best):
            continue
        top = np.argsort(-(x + 2.0 * lo))[: min(p, nc)]
        v = covered(core_csc, w_core, top)
        if v > best:
            best, best_sites = v, keep[top]
            if reached(best):
                return best_sites, best, lp_value, True
            if bound < threshold(best):
                continue
        frac = np.flatnonzero((x > 1e-6) & (x < 1 - 1e-6))
        if len(frac) == 0:
            continue
        slack = bound - threshold(best)
        lo, hi = lo.copy(), hi.copy()
        hi[(x < 1e-9) & (d > slack + 1e-9) & (lo == 0)] = 0.0
        lo[(x > 1 - 1e-9) & (-d > slack + 1e-9) & (hi == 1)] = 1.0
        j = frac[np.argmin(np.abs(x[frac] - 0.5))]
        lo0, hi0 = lo.copy(), hi.copy()
        hi0[j] = 0.0
        lo1, hi1 = lo, hi
        lo1[j] = 1.0
        stack.append((lo0, hi0, bound))
        stack.append((lo1, hi1, bound))
    if stack or unsolved > -np.inf:
        open_bound = max([b for _, _, b in stack] + [unsolved])
        return best_sites, best, max(best, min(lp_value, open_bound)), False
    return best_sites, best, proven(best), True


def _solve_mclp_highs(sub, wg, free, p_new, start_sites, time_limit, mip_rel_gap):
    """Solve the reduced MCLP with HiGHS, starting from a feasible solution.

    Uses ``highspy`` directly (``scipy.optimize.milp`` takes no starting point).

    Returns
    -------
    x : ndarray of bool
        Chosen candidates.
    bound : float
        Proven upper bound of the covered weight (reduced model).
    optimal : bool
        True when HiGHS proved optimality within ``mip_rel_gap``.
    """
    import highspy

    n_dem, n_cand = sub.shape
    n = n_cand + n_dem
    h, lp = _mclp_lp(sub, wg, p_new)
    lp.col_upper_ = np.concatenate([free.astype(float), np.ones(n_dem)])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_cand + [highspy.HighsVarType.kContinuous] * n_dem
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    # On MCLP models HiGHS's default (dual simplex for the root LP, restart after the root)
    # spends most of its time in the root: the interior point method (IPX) solves that LP 4x
    # faster, and no restart avoids solving it twice. Benchmark instances: 16-18 s by
    # default, 5.5-8.4 s without restart, 3.3-5.8 s with IPX as well.
    h.setOptionValue("mip_allow_restart", False)
    h.setOptionValue("mip_lp_solver", "ipx")
    h.passModel(lp)
    x0 = np.zeros(n)
    x0[np.asarray(start_sites, dtype=np.int64)] = 1.0
    x0[n_cand:] = np.minimum(
        1.0, np.asarray(sub[:, np.asarray(start_sites, dtype=np.int64)].sum(axis=1)).ravel()
    )
    sol = highspy.HighsSolution()
    sol.col_value = list(x0)
    sol.value_valid = True
    h.setSolution(sol)
    h.run()
    values = np.asarray(h.getSolution().col_value)
    if values.size != n:
        raise SitingError(
            "Aucune solution trouvée par HiGHS : réduisez le secteur ou le nombre de candidats."
        )
    info = h.getInfo()
    bound = -float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else float(wg.sum())
    optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return values[:n_cand] > 0.5, bound, optimal


def set_cover_for_target(
    a: sparse.csr_matrix,
    weights: np.ndarray,
    target_share: float,
    *,
    existing: np.ndarray | None = None,
    time_limit: float = 60.0,
) -> SitingResult:
    """Fewest new sites reaching ``target_share`` of the weighted demand.

    The best coverage with ``p`` sites never decreases with ``p``, so the fewest sites is the
    smallest ``p`` whose MCLP optimum reaches the target. The lazy greedy gives a first
    ``p``; then, for ``p - 1``: the interchange heuristic from the ``p - 1`` best of those
    sites, and if it falls short the decision version of :func:`_branch_and_bound_mclp`
    (does any set of ``p - 1`` sites reach the target?). The first ``p - 1`` proven out of
    reach makes ``p`` the proven minimum. Within ``time_limit``; on a time-out (or a model
    over :data:`HIGHS_MAX_NNZ` non-zeros, heuristic only) the status gives what is proven.
    """
    t0 = time.perf_counter()

    def left() -> float:
        return max(0.0, time_limit - (time.perf_counter() - t0))

    w = np.asarray(weights, float)
    existing = np.asarray(existing if existing is not None else [], dtype=np.int64)
    sub, wg, base = _reduced_model(a, w, existing)
    target = target_share * w.sum() - base
    if target <= 0:
        return SitingResult(
            existing,
            base,
            float(w.sum()),
            "couverture minimale",
            status="déjà atteinte",
            seconds=time.perf_counter() - t0,
            n_covered=int(_covered_by(a, existing).sum()),
        )
    if wg.sum() < target - 1e-9:
        raise SitingError(
            f"Objectif de couverture inatteignable : au plus {(base + wg.sum()) / w.sum():.0%} de la demande "
            "est à portée des sites candidats. Baissez l'objectif ou ajoutez des candidats."
        )
    target -= 1e-9 * max(1.0, target)  # float sums: reaching the target up to rounding
    free = np.flatnonzero(np.isin(np.arange(sub.shape[1]), existing, invert=True))
    sub = sub[:, free]
    greedy = greedy_mclp(sub, wg, sub.shape[1])
    p_best = int(np.searchsorted(np.cumsum(greedy.gains), target) + 1)
    best = greedy.chosen[:p_best]
    p_out = 0  # largest number of sites proven not to reach the target
    exact = sub.nnz <= HIGHS_MAX_NNZ
    while p_best - 1 > p_out and left() > 0:
        p = p_best - 1
        ranked, _ = _ranked_new_sites(sub, wg, best)
        sites, value, _ = swap_improvement(sub, wg, ranked[:p], time_limit=0.1 * left())
        if value < target and exact:
            done = _branch_and_bound_mclp(
                sub, wg, p, sites, value, time_limit=left(), rel_gap=0.0, target=target
            )
            if done is None:
                exact = False
            else:
                sites, value, _, decided = done
                if value < target and decided:
                    p_out = p
        if value < target:
            break
        p_best, best = p, np.asarray(sites, dtype=np.int64)
    ranked, gains = _ranked_new_sites(sub, wg, best)
    chosen = np.concatenate([existing, free[ranked]])
    if p_best - 1 == p_out:
        status = "optimal"
    elif not exact:
        status = "heuristique (glouton + échanges)"
    else:
        status = f"limite de temps atteinte (au moins {p_out + 1} site{'s' if p_out else ''})"
    return SitingResult(
        chosen,
        base + float(gains.sum()),
        float(w.sum()),
        "couverture minimale",
        gains=gains,
        seconds=time.perf_counter() - t0,
        status=status,
        n_covered=int(_covered_by(a, chosen).sum()),
    )


def coverage_curve(
    a: sparse.csr_matrix, weights: np.ndarray, p_max: int, *, existing: np.ndarray | None = None
) -> np.ndarray:
    """Share of weighted demand covered with 0..p_max new sites (greedy, nested choices)."""
    res = greedy_mclp(a, weights, p_max, existing=existing)
    base = res.objective - res.gains.sum()
    curve = base + np.concatenate([[0.0], np.cumsum(res.gains)])
    curve = (
        np.concatenate([curve, np.full(p_max + 1 - len(curve), curve[-1])])
        if len(curve) < p_max + 1
        else curve
    )
    return curve / res.total if res.total else curve


def sites_from_geodataframes(
    demand: gpd.GeoDataFrame,
    weights: np.ndarray,
    candidates: gpd.GeoDataFrame,
    *,
    existing: gpd.GeoDataFrame | None = None,
    radius: float,
    p: int | None = None,
    target: float | None = None,
    time_limit: float = 30.0,
    curve_max: int = 50,
) -> tuple[SitingResult, gpd.GeoDataFrame, np.ndarray]:
    """GeoDataFrame adapter: best new sites among ``candidates`` on top of ``existing``.

    Parameters
    ----------
    demand : GeoDataFrame
        Incidents a camera can see (points, metric CRS).
    weights : ndarray
        Weight of each incident (offence weights).
    candidates, existing : GeoDataFrame
        Candidate sites and cameras already in place (same CRS).
    radius : float
        Coverage radius, metres.
    p : int, optional
        Number of new cameras (maximal covering).
    target : float, optional
        Share of weighted demand to reach with the fewest new cameras (set covering).
    time_limit : float
        Seconds given to HiGHS.
    curve_max : int
        Largest number of new cameras on the coverage curve.

    Returns
    -------
    result : SitingResult
    sites : GeoDataFrame
        Existing then new sites: ``rang`` (0 for existing), ``statut``, ``gain`` (marginal
        weighted demand), ``part_cumulee``, geometry.
    curve : ndarray
        Coverage share with 0..curve_max new cameras.
    """
    crs = require_metric(demand, candidates)
    pts = demand[demand.geometry.notna() & ~demand.geometry.is_empty]
    w = np.asarray(weights, float)[(demand.geometry.notna() & ~demand.geometry.is_empty).to_numpy()]
    n_exist = 0 if existing is None else len(existing)
    sites_all = (
        candidates.geometry
        if existing is None
        else gpd.GeoSeries(
            np.concatenate([candidates.geometry.to_numpy(), existing.to_crs(crs).geometry.to_numpy()]),
            crs=crs,
        )
    )
    # Incidents recorded at the same place are one demand point carrying their total weight
    # (exact: they are covered together); counts map the result back to incidents.
    xy_d, inverse, counts = np.unique(
        np.column_stack([pts.geometry.x, pts.geometry.y]), axis=0, return_inverse=True, return_counts=True
    )
    w_d = np.bincount(inverse.ravel(), weights=w, minlength=len(xy_d))
    xy_s = np.column_stack([sites_all.x, sites_all.y])
    a = coverage_from_points(xy_d, xy_s, radius)
    ex = np.arange(len(candidates), len(candidates) + n_exist)
    if target is not None:
        res = set_cover_for_target(a, w_d, target, existing=ex, time_limit=time_limit)
    else:
        res = exact_mclp(a, w_d, int(p or 0), existing=ex, time_limit=time_limit)
    res.n_covered = int(counts[_covered_by(a, res.chosen)].sum())  # incidents, not places
    new, gains = res.chosen[n_exist:], res.gains  # ranked by marginal gain by the solvers
    base = res.objective - float(gains.sum())
    table = gpd.GeoDataFrame(
        {
            "rang": np.concatenate([np.zeros(n_exist, dtype=int), np.arange(1, len(new) + 1)]),
            "statut": ["existante"] * n_exist + ["nouvelle"] * len(new),
            "gain": np.concatenate([np.full(n_exist, np.nan), gains]),
            "part_cumulee": np.concatenate(
                [
                    np.full(n_exist, base / w.sum() if w.sum() else 0.0),
                    (base + np.cumsum(gains)) / max(w.sum(), 1e-12),
                ]
            ),
        },
        geometry=sites_all.to_numpy()[np.concatenate([ex, new]).astype(np.int64)],
        crs=crs,
    )
    curve = coverage_curve(a, w_d, curve_max, existing=ex)
    return res, table, curve
