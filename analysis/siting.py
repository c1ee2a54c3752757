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

The GeoDataFrame adapter is :mod:`analysis.siting_adapter`; what may be published of a
result, :mod:`analysis.siting_publication`.
"""

from __future__ import annotations

import time
from typing import Literal

import numpy as np
from scipy import sparse

from analysis.siting_base import (
    COVER,
    EXISTING_SITE,
    NEW_SITE,
    ONE_MINUS_INV_E,
    SitingError,
    SitingResult,
    coverage_from_points,
    coverage_upper_bounds,
    covered_by,
    greedy_mclp,
    lagrangian_bound_mclp,
    ranked_new_sites,
    reduced_model,
    swap_improvement,
)
from analysis.siting_exact import branch_and_bound_mclp, mclp_lp, solve_lp, solve_mclp_highs
from core.errors import ParameterError
from core.formatting import fmt_percent

__all__ = [
    "EXISTING_SITE",
    "NEW_SITE",
    "HIGHS_MAX_NNZ",
    "ONE_MINUS_INV_E",
    "SitingError",
    "SitingResult",
    "coverage_curve",
    "coverage_from_points",
    "coverage_upper_bounds",
    "exact_mclp",
    "greedy_mclp",
    "lagrangian_bound_mclp",
    "set_cover_for_target",
    "shares_from_greedy",
    "swap_improvement",
]

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
    interchange (:func:`~analysis.siting_base.swap_improvement`), then

    * models up to :data:`HIGHS_MAX_NNZ` non-zeros: the MILP solved exactly from that
      solution, by default (``solver="bb"``) with our LP-based branch and bound
      (:func:`~analysis.siting_exact.branch_and_bound_mclp`, HiGHS solving the LPs), with ``solver="highs"`` by
      HiGHS's own MILP solver (if it stops on the time limit, a Lagrangian bound with
      the time left);
    * larger models, or a root LP not solved in time: the Lagrangian bound
      (:func:`~analysis.siting_base.lagrangian_bound_mclp`), whose solutions may also improve the incumbent.

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
        raise ParameterError(f"Solveur inconnu : {solver!r} (bb ou highs).")
    t0 = time.perf_counter()

    def left() -> float:
        return max(0.0, time_limit - (time.perf_counter() - t0))

    w = np.asarray(weights, float)
    existing = np.asarray(existing if existing is not None else [], dtype=np.int64)
    sub, wg, base = reduced_model(a, w, existing)
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
            n_covered=int(covered_by(a, existing).sum()),
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
        x, bound_new, optimal = solve_mclp_highs(sub, wg, free, p_new, sites, 0.8 * left(), mip_rel_gap)
        found = np.flatnonzero(x & free)
        if covered_weight(found) >= value:
            sites, value = found, covered_weight(found)
    elif sub.nnz <= HIGHS_MAX_NNZ:
        cols = np.flatnonzero(free)
        pos = np.full(n_cand, -1, dtype=np.int64)
        pos[cols] = np.arange(len(cols))
        done = branch_and_bound_mclp(
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
    ranked, gains = ranked_new_sites(sub, wg, sites)
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
            else f"écart cible atteint ({fmt_percent(mip_rel_gap, 2)})"
            if optimal
            else "limite de temps atteinte"
        ),
        n_covered=int(covered_by(a, chosen).sum()),
    )


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
    smallest ``p`` whose MCLP optimum reaches the target. Steps, within ``time_limit``:

    1. the lazy greedy gives a first ``p``; submodularity bounds
       (:func:`~analysis.siting_base.coverage_upper_bounds`) rule out the smallest ``p``;
    2. interchange from the ``p - 1`` best sites, while it still reaches the target;
    3. bisection on ``p`` with the LP relaxation: below the target, ``p`` is out of reach;
    4. the decision version of :func:`~analysis.siting_exact.branch_and_bound_mclp` (does
       any set of ``p - 1`` sites reach the target?), one site fewer at a time.

    ``p`` is the proven minimum once ``p - 1`` is proven out of reach; otherwise the status
    gives the proven lower bound. Models over :data:`HIGHS_MAX_NNZ` non-zeros: steps 1-2 only.
    """
    t0 = time.perf_counter()

    def left() -> float:
        return max(0.0, time_limit - (time.perf_counter() - t0))

    w = np.asarray(weights, float)
    existing = np.asarray(existing if existing is not None else [], dtype=np.int64)
    sub, wg, base = reduced_model(a, w, existing)
    target = target_share * w.sum() - base
    if target <= 0:
        return SitingResult(
            existing,
            base,
            float(w.sum()),
            "couverture minimale",
            status="déjà atteinte",
            kind=COVER,
            proven=True,
            seconds=time.perf_counter() - t0,
            n_covered=int(covered_by(a, existing).sum()),
        )
    if wg.sum() < target - 1e-9:
        raise SitingError(
            f"Objectif de couverture inatteignable : au plus {fmt_percent((base + wg.sum()) / w.sum())} de la demande "
            "est à portée des sites candidats. Baissez l'objectif ou ajoutez des candidats."
        )
    target -= 1e-9 * max(1.0, target)  # float sums: reaching the target up to rounding
    free = np.flatnonzero(np.isin(np.arange(sub.shape[1]), existing, invert=True))
    sub = sub[:, free]
    greedy = greedy_mclp(sub, wg, sub.shape[1])
    p_best = int(np.searchsorted(np.cumsum(greedy.gains), target) + 1)
    best = greedy.chosen[:p_best]
    # Largest number of sites proven not to reach the target: first by submodularity (cheap),
    # then by the branch and bound.
    p_out = int(np.sum(coverage_upper_bounds(sub, wg, best, p_best - 1) < target)) - 1
    exact = sub.nnz <= HIGHS_MAX_NNZ

    def fewer(p: int, sites: np.ndarray) -> tuple[np.ndarray, float]:
        # Interchange from the p best of ``sites`` (in greedy order).
        ranked, _ = ranked_new_sites(sub, wg, sites)
        found, value, _ = swap_improvement(sub, wg, ranked[:p], time_limit=0.05 * left())
        return found, value

    # 1. Heuristic descent: one site fewer while the interchange still reaches the target.
    while p_best - 1 > p_out and left() > 0:
        sites, value = fewer(p_best - 1, best)
        if value < target:
            break
        p_best, best = p_best - 1, np.asarray(sites, dtype=np.int64)
    # 2. LP bounds, by bisection: p sites whose LP relaxation stays below the target cannot
    #    reach it.
    lp_ok = p_best
    while exact and lp_ok - p_out > 1 and left() > 0:
        mid = (p_out + lp_ok) // 2
        h, _ = mclp_lp(sub, wg, mid)
        lp = solve_lp(h, sub.shape[1], 0.3 * left(), "ipm")
        if not isinstance(lp, tuple):
            break
        if lp[0] < target:
            p_out = mid
        else:
            lp_ok = mid
    # 3. Branch and bound, decision version, one site fewer at a time.
    while exact and p_best - 1 > p_out and left() > 0:
        p = p_best - 1
        sites, value = fewer(p, best)
        if value < target:
            done = branch_and_bound_mclp(
                sub, wg, p, sites, value, time_limit=left(), rel_gap=0.0, target=target
            )
            if done is None:
                break
            sites, value, _, decided = done
            if value < target and decided:
                p_out = p
        if value < target:
            break
        p_best, best = p, np.asarray(sites, dtype=np.int64)
    ranked, gains = ranked_new_sites(sub, wg, best)
    chosen = np.concatenate([existing, free[ranked]])
    if p_best - 1 == p_out:
        status = "optimal"
    else:
        at_least = f"au moins {p_out + 1} site{'s' if p_out else ''}"
        status = f"heuristique, {at_least}" if not exact else f"limite de temps atteinte ({at_least})"
    return SitingResult(
        chosen,
        base + float(gains.sum()),
        float(w.sum()),
        "couverture minimale",
        gains=gains,
        seconds=time.perf_counter() - t0,
        status=status,
        kind=COVER,
        proven=p_best - 1 == p_out,
        n_covered=int(covered_by(a, chosen).sum()),
    )


def coverage_curve(
    a: sparse.csr_matrix, weights: np.ndarray, p_max: int, *, existing: np.ndarray | None = None
) -> np.ndarray:
    """Share of weighted demand covered with 0..p_max new sites (greedy, nested choices)."""
    return shares_from_greedy(greedy_mclp(a, weights, p_max, existing=existing), p_max)


def shares_from_greedy(res: SitingResult, p_max: int) -> np.ndarray:
    """Covered share with 0..p_max new sites from a greedy result (padded with its last value)."""
    base = res.objective - res.gains.sum()
    curve = base + np.concatenate([[0.0], np.cumsum(res.gains)])
    curve = (
        np.concatenate([curve, np.full(p_max + 1 - len(curve), curve[-1])])
        if len(curve) < p_max + 1
        else curve
    )
    return curve / res.total if res.total else curve
