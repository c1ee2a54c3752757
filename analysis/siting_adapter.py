"""GeoDataFrame adapter of the siting core (the spopt ``from_geodataframe`` split): incidents,
candidate sites and existing cameras as GeoDataFrames in, ranked sites, their counts and
the coverage curve out; the solvers themselves are :mod:`analysis.siting`."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from analysis.siting import exact_mclp, set_cover_for_target, shares_from_greedy
from analysis.siting_base import (
    EXISTING_SITE,
    NEW_SITE,
    SitingResult,
    coverage_from_points,
    covered_by,
    greedy_mclp,
)
from core.crs import require_metric
from core.model import has_position


def incident_counts_by_rank(
    a: sparse.csr_matrix, counts: np.ndarray, existing: np.ndarray, ranked: np.ndarray
) -> tuple[int, np.ndarray]:
    """Incidents covered by the existing cameras, and those each ranked new site adds.

    Parameters
    ----------
    a : csr_matrix
        Coverage, demand points x sites.
    counts : ndarray of int
        Incidents at each demand point.
    existing, ranked : ndarray of int
        Columns of the existing cameras, and of the new sites in rank order.

    Returns
    -------
    (int, ndarray)
        Incidents covered by the existing cameras; for each new site, the incidents it is
        the first (in rank order) to cover.
    """
    counts = np.asarray(counts, dtype=np.int64)
    free = ~covered_by(a, np.asarray(existing, dtype=np.int64))
    base = int(counts[~free].sum())
    sub = a[:, np.asarray(ranked, dtype=np.int64)].tocsr()
    sub.sort_indices()
    rows = np.flatnonzero(free & (np.diff(sub.indptr) > 0))
    first = sub.indices[sub.indptr[rows]]  # lowest rank covering each row (indices sorted)
    return base, np.bincount(first, weights=counts[rows], minlength=len(ranked)).astype(np.int64)


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
        ``chosen`` holds positions in ``candidates``, and ``len(candidates) + i`` for
        existing camera ``i``. Candidates that see no incident never reach the solvers.
    sites : GeoDataFrame
        Existing then new sites: ``rang`` (0 for existing), ``statut``, ``faits`` (incidents
        a new site adds to the ones before it; on existing rows, the incidents all existing
        cameras cover), ``gain`` (the same, weighted), ``part_cumulee``, geometry. Counts are
        raw: :func:`analysis.siting_publication.published_sites` applies the secrecy rule.
    curve : DataFrame
        The greedy coverage curve: ``cameras`` (0..curve_max new cameras), ``couverture``
        (weighted share covered) and ``faits`` (incidents the step adds; step 0: those the
        existing cameras cover).
    """
    crs = require_metric(demand, candidates)
    where = has_position(demand.geometry).to_numpy()
    pts = demand[where]
    w = np.asarray(weights, float)[where]
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
    # A candidate that sees no incident can never add coverage: the solvers only get the
    # others (a road network over a whole département has many), existing cameras always.
    sees = np.diff(a.tocsc().indptr)[: len(candidates)] > 0
    kept = np.concatenate([np.flatnonzero(sees), np.arange(len(candidates), len(candidates) + n_exist)])
    a = a[:, kept].tocsr()
    site_geoms = sites_all.to_numpy()[kept]
    ex = np.arange(len(kept) - n_exist, len(kept))
    if target is not None:
        res = set_cover_for_target(a, w_d, target, existing=ex, time_limit=time_limit)
    else:
        res = exact_mclp(a, w_d, int(p or 0), existing=ex, time_limit=time_limit)
    res.n_covered = int(counts[covered_by(a, res.chosen)].sum())  # incidents, not places
    new, gains = res.chosen[n_exist:], res.gains  # ranked by marginal gain by the solvers
    base = res.objective - float(gains.sum())
    base_count, new_counts = incident_counts_by_rank(a, counts, ex, new)
    table = gpd.GeoDataFrame(
        {
            "rang": np.concatenate([np.zeros(n_exist, dtype=int), np.arange(1, len(new) + 1)]),
            "statut": [EXISTING_SITE] * n_exist + [NEW_SITE] * len(new),
            "faits": np.concatenate([np.full(n_exist, base_count), new_counts]).astype(np.int64),
            "gain": np.concatenate([np.full(n_exist, np.nan), gains]),
            "part_cumulee": np.concatenate(
                [
                    np.full(n_exist, base / w.sum() if w.sum() else 0.0),
                    (base + np.cumsum(gains)) / max(w.sum(), 1e-12),
                ]
            ),
        },
        geometry=site_geoms[np.concatenate([ex, new]).astype(np.int64)],
        crs=crs,
    )
    greedy = greedy_mclp(a, w_d, curve_max, existing=ex)
    g_base, g_counts = incident_counts_by_rank(a, counts, ex, greedy.chosen[n_exist:])
    shares = shares_from_greedy(greedy, curve_max)
    added = np.zeros(len(shares), dtype=np.int64)
    added[0] = g_base
    added[1 : 1 + len(g_counts)] = g_counts
    curve = pd.DataFrame({"cameras": np.arange(len(shares)), "couverture": shares, "faits": added})
    res.chosen = kept[res.chosen]  # positions in candidates, then existing (as given)
    return res, table, curve
