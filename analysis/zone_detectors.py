"""The zone detectors: each labels the cells of a grid with a zone number (0: none).

All bounded in memory (they work on grid cells, never on an n x n matrix of incidents):

* ``"local"`` (default): a scan of local excess: the incidents within ``local_inner``
  metres of each cell against those of the surrounding ring out to ``local_outer``
  (scaled by area), Poisson test with FDR, and an effect size of at least ``min_ratio``.
  Broad urban density (a town centre) is its own background and is not flagged; a
  concentrated spot within it is. This is the detector that meets the planted-hotspot
  recall and precision goals on the synthetic data;

* ``"gi"``: Getis-Ord Gi* hot cells at the chosen confidence (FDR-corrected), merged by
  8-connectivity;
* ``"hdbscan"``: scikit-learn's HDBSCAN on the occupied cells of the same fine grid, each
  cell repeated up to ``hdbscan_cap`` times by its incidents (HDBSCAN has no sample
  weights); memory bounded by cells x cap;
* ``"dbscan"``: DBSCAN in metres on the occupied cells of a fine grid (cell = eps / 4),
  each cell weighted by its incidents (``sample_weight``): the same clusters as DBSCAN on
  the points up to the cell resolution, at the cost of the number of occupied cells;
* ``"prospectif"``: the busiest ``area_share`` of the cells by prospective-hotspotting risk
  (:func:`analysis.cell_scores.prospective_score`: recent incidents nearby weigh most), merged
  by 8-connectivity: the zones' area is what the analyst can patrol, not a threshold's outcome;
* ``"densite"``: the same on a Gaussian kernel density of bandwidth ``kde_cells`` cells;
* ``"recurrent"``: the same on the incidents of the last ``history_months`` months, each
  weighing half every ``half_life`` months (:func:`analysis.cell_scores.recurrence_score`):
  the only method that reads the past before the period (``history``), and the one that
  predicts best on real data (``bench/bench_backtest.py``).

The share-driven methods (:data:`SHARE_METHODS`) merge the cells they choose by 8-connectivity:
on real data most are micro-places (a cell of 100 m around a busy intersection). With
``close_gaps`` (the default) they also fill the gaps of one cell between chosen cells, choosing
fewer cells so that the closed zones stay within the share: fewer, larger zones (on the demo's
Mayenne at 0.1 %, 38 zones instead of 130), for a few incidents caught fewer on Toronto
(``bench/bench_backtest.py``). The default share, 0.1 % of the territory, keeps a département's
zones to a few dozen; on Toronto the recurrent method wins at 0.1 %, 0.25 % and 1 % alike.

:data:`DETECTORS` maps a method name to its detector; :func:`labels_from_xy` dispatches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from analysis.cell_scores import kde_score, prospective_score, ranking, recurrence_score
from analysis.fdr import fdr_from_pvalues
from analysis.hotspots import (
    CONFIDENCES,
    Grid,
    band_kernel,
    counts_on_grid,
    fdr_bins,
    gi_star_from_raster,
    grid_for_territory,
    neighbourhood_sums,
)
from core.errors import ParameterError

#: A detector's result: the grid, the zone number of each cell (0: none), the number of zones.
Labels = tuple[Grid, np.ndarray, int]


@dataclass(frozen=True)
class ZoneSettings:
    """Parameters of the zone detection (metres), with their defaults."""

    method: str = "recurrent"  # wins on real data (bench/bench_backtest.py)
    cell: float = 100.0
    band: float = 450.0
    confidence: int = 3  # 1: 90 %, 2: 95 %, 3: 99 %
    eps: float = 200.0
    min_samples: int = 25
    min_incidents: int = 20
    local_inner: float = 250.0
    local_outer: float = 1000.0
    area_share: float = 0.001  # share methods: share of the territory's cells (0.1 %)
    prospective_radius: int = 4  # cells
    prospective_weeks: int = 8
    kde_cells: float = 3.0  # bandwidth of "densite", in cells
    half_life: float = 24.0  # "recurrent": months after which an incident weighs half
    history_months: int = 36  # "recurrent": how far back it reads
    close_gaps: bool = True  # share methods: fill gaps of one cell between chosen cells
    min_ratio: float = 2.0
    min_cluster_size: int = 40
    hdbscan_cap: int = 20
    min_local_count: int = 15


def labels_gi(
    x: np.ndarray, y: np.ndarray, territory: shapely.Geometry, s: ZoneSettings, **_: object
) -> Labels:
    """Getis-Ord Gi* hot cells at ``s.confidence`` (FDR), merged by 8-connectivity."""
    grid = grid_for_territory(territory, s.cell)
    counts = counts_on_grid(x, y, grid)
    z = gi_star_from_raster(counts, grid.active, band_kernel(s.cell, s.band))
    bins = np.zeros(grid.active.shape, dtype=np.int8)
    bins.reshape(-1)[grid.active_index] = fdr_bins(z)
    hot = bins >= s.confidence
    labels, n = ndimage.label(hot, structure=np.ones((3, 3)))
    return grid, labels, n


def labels_local(
    x: np.ndarray, y: np.ndarray, territory: shapely.Geometry, s: ZoneSettings, **_: object
) -> Labels:
    """Cells whose inner disc holds a significant local excess over its surrounding ring."""
    from scipy import stats

    grid = grid_for_territory(territory, s.cell)
    counts = counts_on_grid(x, y, grid)
    inner = band_kernel(s.cell, s.local_inner)
    outer = band_kernel(s.cell, s.local_outer)
    pad = (outer.shape[0] - inner.shape[0]) // 2
    ring = outer - np.pad(inner, pad)
    # Sums over discs of up to a few hundred cells (exact integers).
    observed, around = (neighbourhood_sums(counts, k) for k in (inner, ring))
    n_inner, n_ring = _active_sums(grid, s.cell, s.local_inner, s.local_outer, inner, ring)
    expected = np.maximum(np.where(n_ring > 0, around / np.maximum(n_ring, 1) * n_inner, 0.0), 0.5)
    # One-sided test of excess, Benjamini-Hochberg over every active cell: a cell without an
    # incident nearby has p = 1 exactly (it is no discovery: counted as one, as a two-sided
    # z of -inf once was, it loosened the correction for all the others).
    seen, base = grid.on_active(observed), grid.on_active(expected)
    p = np.ones(len(seen))
    some = seen > 0
    p[some] = stats.poisson.sf(seen[some] - 1, base[some])
    q = fdr_from_pvalues(p, below=1 - CONFIDENCES[0])
    hot_cells = (
        (q <= 1 - CONFIDENCES[s.confidence - 1]) & (seen >= s.min_local_count) & (seen >= s.min_ratio * base)
    )
    hot = np.zeros(grid.active.shape, dtype=bool)
    hot.reshape(-1)[grid.active_index[hot_cells]] = True
    labels, n = ndimage.label(hot, structure=np.ones((3, 3)))
    return grid, labels, n


_ACTIVE_SUMS: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _active_sums(
    grid: Grid, cell: float, inner_m: float, outer_m: float, inner: np.ndarray, ring: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Active cells in each cell's disc and ring: they depend on the territory only, so the
    last few are remembered (a back-test asks for them once per window)."""
    from scipy.signal import fftconvolve

    digest = hashlib.sha1(np.packbits(grid.active).tobytes()).digest()
    key = (digest, grid.x0, grid.y0, grid.nx, grid.ny, cell, inner_m, outer_m)
    sums = _ACTIVE_SUMS.get(key)
    if sums is None:
        active = grid.active.astype(float)
        sums = tuple(np.rint(fftconvolve(active, k, mode="same")) for k in (inner, ring))
        while len(_ACTIVE_SUMS) >= 4:
            _ACTIVE_SUMS.pop(next(iter(_ACTIVE_SUMS)), None)
        _ACTIVE_SUMS[key] = sums
    return sums


def _occupied_cells(
    x: np.ndarray, y: np.ndarray, territory: shapely.Geometry, cell: float
) -> tuple[Grid, np.ndarray, np.ndarray, np.ndarray]:
    """A fine grid over the territory's bounds (no mask: points only), and the row, column and
    incidents of every occupied cell (row-major order; no raster of the whole grid)."""
    minx, miny, maxx, maxy = territory.bounds
    nx, ny = int(np.ceil((maxx - minx) / cell)) or 1, int(np.ceil((maxy - miny) / cell)) or 1
    grid = Grid(minx, miny, cell, nx, ny, np.ones((ny, nx), dtype=bool))
    iy, ix = grid.cell_index(x, y)
    ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    flat, counts = np.unique(iy[ok] * nx + ix[ok], return_counts=True)
    iy, ix = np.divmod(flat, nx)
    return grid, counts.astype(float), iy, ix


def _filled_clusters(grid: Grid, iy: np.ndarray, ix: np.ndarray, cluster: np.ndarray, eps: float) -> Labels:
    """Cluster labels of the occupied cells (-1: noise) drawn as surfaces: each cluster is its
    cells and the cells within ``eps / 2`` of them, so that a zone is not scattered cells."""
    # A grey dilation by the disc, written from the labelled cells only (few, on a fine grid
    # that spans the territory's bounds): each spreads its label to the disc around it, the
    # largest label winning, as ``ndimage.grey_dilation`` with nothing beyond the grid; a
    # labelled cell keeps its own label.
    keep = np.asarray(cluster) >= 0
    ly, lx, own = iy[keep], ix[keep], np.asarray(cluster)[keep] + 1
    disc = band_kernel(grid.cell, eps / 2.0)
    dy, dx = np.nonzero(disc)
    r = (disc.shape[0] - 1) // 2
    ty = (ly[:, None] + (dy - r)[None, :]).ravel()
    tx = (lx[:, None] + (dx - r)[None, :]).ravel()
    value = np.repeat(own, len(dy))
    ok = (ty >= 0) & (ty < grid.ny) & (tx >= 0) & (tx < grid.nx)
    filled = np.zeros((grid.ny, grid.nx), dtype=np.int32 if len(own) < 2**31 - 1 else np.int64)
    np.maximum.at(filled.reshape(-1), ty[ok] * grid.nx + tx[ok], value[ok])
    filled[ly, lx] = own
    return grid, filled, int(own.max()) if len(own) else 0


def dbscan_lattice_labels(
    iy: np.ndarray, ix: np.ndarray, weights: np.ndarray, radius_cells: float, min_samples: float
) -> np.ndarray:
    """DBSCAN of weighted points at the centres of a square lattice's cells, exactly.

    The cells ``(iy, ix)`` (distinct, sorted row-major as :func:`_occupied_cells` gives them)
    hold ``weights``; two cells are neighbours when their centres are at most
    ``radius_cells`` cells apart (ties included). A cell is core when the weights of its
    neighbours, itself included, reach ``min_samples``; clusters are the connected core cells,
    numbered by their first cell; a border cell takes the lowest-numbered cluster among its core
    neighbours; others are noise (-1). These are the labels of scikit-learn's DBSCAN (its
    clusters are expanded one after another in the order of their first core point, so a border
    point goes to the first), from the lattice's offsets instead of a tree: no loop holding the
    GIL, a fifth of the time on a Nord window. scikit-learn compares float distances: on a tie
    (cells exactly ``radius_cells`` apart) it keeps or drops the pair by rounding; here a tie is
    a neighbour.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(iy)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    r = int(np.floor(radius_cells + 1e-9))
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    near = dy**2 + dx**2 <= radius_cells**2 + 1e-9
    dy, dx = dy[near], dx[near]
    width = int(ix.max()) + 2 * r + 1  # a row-major key wide enough for every offset
    key = (iy.astype(np.int64) + r) * width + (ix.astype(np.int64) + r)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    src, dst = [], []
    for oy, ox in zip(dy, dx, strict=True):
        probe = key + oy * width + ox
        pos = np.minimum(np.searchsorted(sorted_key, probe), n - 1)
        hit = sorted_key[pos] == probe
        src.append(np.flatnonzero(hit))
        dst.append(order[pos[hit]])
    src, dst = np.concatenate(src), np.concatenate(dst)
    w = np.asarray(weights, dtype=float)
    core = np.bincount(src, weights=w[dst], minlength=n) >= min_samples
    both = core[src] & core[dst]
    graph = coo_matrix((np.ones(int(both.sum())), (src[both], dst[both])), shape=(n, n)).tocsr()
    _, component = connected_components(graph, directed=False)
    # Clusters numbered in the order of their first core cell (as scikit-learn discovers them).
    first = np.full(component.max() + 1, n)
    np.minimum.at(first, component[core], np.flatnonzero(core))
    rank = np.full(len(first), -1)
    clusters = np.flatnonzero(first < n)
    rank[clusters[np.argsort(first[clusters])]] = np.arange(len(clusters))
    labels = np.where(core, rank[component], -1)
    border = ~core[src] & core[dst]
    best = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(best, src[border], labels[dst[border]])
    reached = ~core & (best < np.iinfo(np.int64).max)
    labels[reached] = best[reached]
    return labels


def _in_pool(executor: Executor | None, fit: Callable[..., np.ndarray], *args: object) -> np.ndarray:
    """``fit(*args)`` in ``executor`` (a process pool: the calling thread waits without the
    GIL), or here without one or when a worker died."""
    if executor is not None:
        try:
            return executor.submit(fit, *args).result()
        except BrokenExecutor:  # a worker died (memory?): computed here instead
            pass
    return fit(*args)


def labels_dbscan(
    x: np.ndarray,
    y: np.ndarray,
    territory: shapely.Geometry,
    s: ZoneSettings,
    **_: object,
) -> Labels:
    """DBSCAN on the occupied cells of an eps / 4 grid, weighted by their incidents
    (:func:`dbscan_lattice_labels`: scikit-learn's labels, computed on the lattice)."""
    grid, counts, iy, ix = _occupied_cells(x, y, territory, s.eps / 4.0)
    labels = dbscan_lattice_labels(iy, ix, counts, 4.0, s.min_samples)
    return _filled_clusters(grid, iy, ix, labels, s.eps)


def hdbscan_fit_labels(points: np.ndarray, min_cluster_size: int) -> np.ndarray:
    """The cluster of each point (-1: noise) by the ``hdbscan`` package's exact Boruvka tree.

    A module-level function of arrays only: it can run in another process
    (:func:`labels_hdbscan`'s ``executor``).
    """
    from hdbscan import HDBSCAN

    return (
        HDBSCAN(
            min_cluster_size=min_cluster_size,
            algorithm="boruvka_kdtree",
            approx_min_span_tree=False,
            core_dist_n_jobs=1,
        )
        .fit(points)
        .labels_
    )


def labels_hdbscan(
    x: np.ndarray,
    y: np.ndarray,
    territory: shapely.Geometry,
    s: ZoneSettings,
    *,
    executor: Executor | None = None,
    **_: object,
) -> Labels:
    """HDBSCAN on the occupied cells, each repeated up to ``s.hdbscan_cap`` times.

    The ``hdbscan`` package (scikit-learn-contrib) with its exact Boruvka kd-tree spanning tree
    (``approx_min_span_tree=False``): O(n log n) where scikit-learn's HDBSCAN builds the tree by
    Prim in O(n²), 4 to 5 times faster on a Nord window of 34,000 points, the same 91 clusters
    (adjusted Rand index 0.97 against scikit-learn's labels: ties broken differently). Its
    Cython holds the GIL: given an ``executor`` (a process pool), the clustering runs there
    and the calling thread waits without holding it.
    """
    grid, counts, iy, ix = _occupied_cells(x, y, territory, s.eps / 4.0)
    cell = grid.cell
    reps = np.minimum(counts, s.hdbscan_cap).astype(np.int64)
    cx = np.repeat(grid.x0 + (ix + 0.5) * cell, reps)
    cy = np.repeat(grid.y0 + (iy + 0.5) * cell, reps)
    jitter = np.random.default_rng(0).uniform(-cell / 2, cell / 2, (len(cx), 2))  # distinct points
    points = np.column_stack([cx, cy]) + jitter
    point_labels = _in_pool(executor, hdbscan_fit_labels, points, s.min_cluster_size)
    owner = np.repeat(np.arange(len(iy)), reps)
    cell_label = np.full(len(iy), -1)
    np.maximum.at(cell_label, owner, point_labels)
    return _filled_clusters(grid, iy, ix, cell_label, s.eps)


_RING = np.array([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])


def _neighbours(iy: np.ndarray, ix: np.ndarray, ny: int, nx: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of the 3 x 3 block around each cell (-1 outside the grid), one row per cell."""
    y = iy[:, None] + _RING[None, :, 0]
    x = ix[:, None] + _RING[None, :, 1]
    inside = (y >= 0) & (y < ny) & (x >= 0) & (x < nx)
    return np.where(inside, y * nx + x, -1), inside


def _closed_cells(chosen: np.ndarray, active: np.ndarray) -> np.ndarray:
    """The flat indices (sorted) of ``chosen`` (flat indices of a raster shaped like
    ``active``) with its gaps of one cell filled: a 3 x 3 closing, nothing beyond the grid, as
    ``ndimage.binary_closing``, within ``active``.

    Computed on the chosen cells and their neighbours only (a share method chooses a few
    hundred cells of a raster of a million): the dilation is the blocks around the chosen
    cells, the erosion keeps the dilated cells whose whole block is dilated.
    """
    ny, nx = active.shape
    chosen = np.unique(np.asarray(chosen, dtype=np.int64))
    if len(chosen) == 0:
        return chosen
    block, _ = _neighbours(*np.divmod(chosen, nx), ny, nx)
    dilated = np.unique(block[block >= 0])
    around, inside = _neighbours(*np.divmod(dilated, nx), ny, nx)
    pos = np.searchsorted(dilated, around)
    found = dilated[np.minimum(pos, len(dilated) - 1)] == around
    whole = inside.all(axis=1) & found.all(axis=1)
    out = np.union1d(chosen, dilated[whole])
    return out[active.reshape(-1)[out]]


def _labels_from_top_cells(grid: Grid, score: np.ndarray, share: float, *, close: bool = False) -> Labels:
    """The best ``share`` of the active cells by ``score`` (none with a zero score), merged by
    8-connectivity; with ``close``, gaps of one cell are filled and as many cells are chosen as
    keep the closed zones within the share (found by bisection: closing only adds cells).
    """
    target = int(round(share * len(grid.active_index)))
    score = np.asarray(score, dtype=float)
    order = ranking(score, limit=min(target, len(score)))
    order = grid.active_index[order[: int(np.count_nonzero(score[order] > 0))]]

    def zones_of(k: int) -> np.ndarray:  # flat indices of the zones' cells
        return _closed_cells(order[:k], grid.active) if close else order[:k]

    best = zones_of(len(order))
    if close and len(best) > target:
        lo, hi = 0, len(order)
        best = zones_of(0)
        while lo < hi:  # the largest k whose closed zones fit
            mid = (lo + hi + 1) // 2
            cells = zones_of(mid)
            if len(cells) <= target:
                lo, best = mid, cells
            else:
                hi = mid - 1
    hot = np.zeros(grid.active.shape, dtype=bool)
    hot.reshape(-1)[best] = True
    labels, n = ndimage.label(hot, structure=np.ones((3, 3)))
    return grid, labels, n


#: Share method -> what it needs the dates for (said when they are missing).
_DATED = {
    "prospectif": "Les points chauds prospectifs demandent la date de chaque fait.",
    "recurrent": "La méthode des mailles récurrentes demande la date de chaque fait.",
}


def share_score(
    method: str,
    x: np.ndarray,
    y: np.ndarray,
    grid: Grid,
    s: ZoneSettings,
    *,
    dates: np.ndarray | None = None,
    as_of: pd.Timestamp | None = None,
) -> np.ndarray:
    """The score per active cell a share method ranks (:data:`SHARE_METHODS`): prospective
    risk, kernel density or recurrence, with the parameters of ``s``, at ``as_of`` (default:
    the day after the last incident).

    Raises
    ------
    ParameterError
        A dated method without dates.
    """
    if method == "densite":
        return kde_score(x, y, grid, bandwidth=s.kde_cells * s.cell)
    if dates is None or len(dates) == 0:
        raise ParameterError(_DATED[method])
    end = as_of if as_of is not None else pd.Timestamp(np.max(dates)).normalize() + pd.Timedelta(days=1)
    if method == "prospectif":
        return prospective_score(
            x, y, dates, grid, end=end, radius_cells=s.prospective_radius, weeks=s.prospective_weeks
        )
    return recurrence_score(x, y, dates, grid, end=end, half_life=s.half_life, months=s.history_months)


def labels_from_score(grid: Grid, score: np.ndarray, s: ZoneSettings) -> Labels:
    """A share method's zones from its :func:`share_score`: the best ``s.area_share`` of the
    cells, gaps closed with ``s.close_gaps``."""
    return _labels_from_top_cells(grid, score, s.area_share, close=s.close_gaps)


def _share_detector(method: str) -> Callable[..., Labels]:
    """The detector of a share method: the best ``s.area_share`` of the cells by its score."""

    def detect(
        x: np.ndarray,
        y: np.ndarray,
        territory: shapely.Geometry,
        s: ZoneSettings,
        *,
        dates: np.ndarray | None = None,
        as_of: pd.Timestamp | None = None,
        **_: object,
    ) -> Labels:
        grid = grid_for_territory(territory, s.cell)
        return labels_from_score(grid, share_score(method, x, y, grid, s, dates=dates, as_of=as_of), s)

    detect.__doc__ = (
        f"The best ``s.area_share`` of the cells by the score of « {method} » (:func:`share_score`)."
    )
    return detect


labels_prospective = _share_detector("prospectif")
labels_density = _share_detector("densite")
labels_recurrent = _share_detector("recurrent")


#: Method name -> detector (the Zones page lists them in this order).
DETECTORS: dict[str, Callable[..., Labels]] = {
    "local": labels_local,
    "gi": labels_gi,
    "dbscan": labels_dbscan,
    "hdbscan": labels_hdbscan,
    "prospectif": labels_prospective,
    "densite": labels_density,
    "recurrent": labels_recurrent,
}
#: Methods whose clustering holds the GIL (compiled loops): given a process pool, they run there.
POOLED_METHODS = frozenset({"hdbscan"})
#: Methods whose zones cover a set share of the territory (``area_share``): every zone they
#: draw is kept, whatever its count (the share, not a threshold, sets the area).
SHARE_METHODS = frozenset({"prospectif", "densite", "recurrent"})
#: Not a detector: the share method that predicted best lately (:func:`analysis.backtest.best_share_method`).
AUTOMATIC = "automatique"
#: Methods that read the incidents before the period (``history`` of :func:`analysis.zones.zones_from_incidents`).
HISTORY_METHODS = frozenset({"recurrent"})


def labels_from_xy(
    x: np.ndarray,
    y: np.ndarray,
    territory: shapely.Geometry,
    settings: ZoneSettings,
    *,
    dates: np.ndarray | None = None,
    as_of: pd.Timestamp | None = None,
    executor: Executor | None = None,
) -> Labels:
    """Zone labels of the cells of a territory, by the detector of ``settings.method``.

    Parameters
    ----------
    x, y : ndarray
        Incident coordinates in metres.
    territory : shapely.Geometry
        The study area (same CRS).
    settings : ZoneSettings
        Method and parameters.
    dates : array of datetime64, optional
        The incidents' dates (``"prospectif"`` needs them; the others ignore them).
    as_of : Timestamp, optional
        Time of the forecast for ``"prospectif"`` (default: the day after the last incident).
    executor : Executor, optional
        A process pool for the detectors whose compiled code holds the GIL
        (:data:`POOLED_METHODS`).

    Returns
    -------
    grid, labels, n
        The detector's grid, the zone number of each cell (0: none) and the number of zones.

    Raises
    ------
    ParameterError
        An unknown method.
    """
    detector = DETECTORS.get(settings.method)
    if detector is None:
        *others, last = DETECTORS
        raise ParameterError(f"Méthode inconnue : {settings.method!r} ({', '.join(others)} ou {last}).")
    if executor is not None and settings.method in POOLED_METHODS:
        return detector(x, y, territory, settings, executor=executor)
    return detector(x, y, territory, settings, dates=dates, as_of=as_of)
