"""Scores of grid cells from incidents, higher first, and the best ``k`` cells by a score:
what the share-driven zone methods (:mod:`analysis.zone_detectors`) draw and the back-test's
baselines (:mod:`analysis.backtest`) rank.

* :func:`busiest_cells_score`: the training window's counts (« les mailles les plus touchées
  la période précédente »), ties broken by the cell's count over the whole past;
* :func:`kde_score`: a Gaussian kernel density of the training window;
* :func:`prospective_score`: prospective hotspotting (Bowers, Johnson & Pease 2004): each
  training incident within ``radius`` cells and ``weeks`` weeks of the window's end adds
  ``1/(1 + d) · 1/(1 + t)`` to a cell, ``d`` the distance between cell centres in cells,
  ``t`` the whole weeks elapsed;
* :func:`recurrence_score`: every incident of the past (up to ``months`` months before the
  forecast) counts in its own cell, its weight halving every ``half_life`` months: crime
  concentrates in the same few places year after year (Weisburd 2015), and on Toronto's real
  incidents this long memory predicts the next month better than any three-month score
  (``bench/bench_backtest.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.density import default_bandwidth, density_on_grid
from analysis.hotspots import Grid, active_counts, counts_on_grid, neighbourhood_sums


def ranking(
    score: np.ndarray, *, tie_break: np.ndarray | None = None, limit: int | None = None
) -> np.ndarray:
    """The cells from highest ``score`` to lowest, ties by ``tie_break`` then by position (a
    stable, reproducible choice): sort once, take any number of best cells with
    :func:`first_cells`.

    With ``limit``, only the first ``limit`` cells of that order (the same ones): the cells
    above the ``limit``-th score and those equal to it are found in linear time and only
    they are sorted.
    """
    score = np.asarray(score, dtype=float)
    n = len(score)
    cells = np.arange(n)
    if limit is not None and 0 <= limit < n:
        if limit == 0:
            return cells[:0]
        positive = np.flatnonzero(score > 0)
        if len(positive) >= limit:  # (scores are mostly zero: partition the others only)
            kth = np.partition(score[positive], len(positive) - limit)[len(positive) - limit]
            cells = np.flatnonzero(score >= kth)
        else:
            # Every positive cell, then the others: sort only those a tie-break or a negative
            # score moves; the cells of zero score and zero tie-break follow in position order.
            rest = np.flatnonzero(score <= 0)
            tie = None if tie_break is None else np.asarray(tie_break)
            plain = score[rest] == 0
            if tie is not None:
                plain &= tie[rest] == 0
            before = rest[~plain & (score[rest] == 0) & (tie[rest] > 0)] if tie is not None else rest[:0]
            after = rest[~plain & ~np.isin(rest, before)]
            head = np.concatenate([positive, before])
            head = head[np.lexsort(_keys(head, score, tie))]
            tail = after[np.lexsort(_keys(after, score, tie))]
            return np.concatenate([head, rest[plain], tail])[:limit]
    order = cells[np.lexsort(_keys(cells, score, None if tie_break is None else np.asarray(tie_break)))]
    return order if limit is None else order[:limit]


def _keys(cells: np.ndarray, score: np.ndarray, tie: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """:func:`numpy.lexsort` keys of :func:`ranking` (last key first): score, tie-break, position."""
    return (cells, -score[cells]) if tie is None else (cells, -tie[cells], -score[cells])


def first_cells(order: np.ndarray, k: int, n: int | None = None) -> np.ndarray:
    """The first ``k`` cells of a :func:`ranking` as a flat bool mask over ``n`` cells
    (default: a full ranking's length)."""
    if k > len(order):
        raise ValueError(f"The ranking holds {len(order)} cells, {k} asked for")
    mask = np.zeros(len(order) if n is None else n, dtype=bool)
    mask[order[: max(int(k), 0)]] = True
    return mask


def top_cells(score: np.ndarray, k: int, *, tie_break: np.ndarray | None = None) -> np.ndarray:
    """The ``k`` cells of highest ``score`` (flat bool mask), ties as :func:`ranking`."""
    k = int(min(max(k, 0), len(score)))
    return first_cells(ranking(score, tie_break=tie_break, limit=k), k, len(score))


def busiest_cells_score(train: np.ndarray) -> np.ndarray:
    """The training window's incidents per cell (the naive baseline)."""
    return np.asarray(train, dtype=float)


def kde_score(x: np.ndarray, y: np.ndarray, grid: Grid, *, bandwidth: float | None = None) -> np.ndarray:
    """Gaussian kernel density of the training incidents at each active cell (flat).

    ``bandwidth`` in metres, default Silverman's spatial rule (:func:`analysis.density.default_bandwidth`),
    at least one cell.
    """
    if len(x) < 2:
        return np.zeros(int(grid.active.sum()))
    h = bandwidth or max(default_bandwidth(x, y), grid.cell)
    # Binned on the cells themselves (no finer lattice): the bandwidth is at least a cell,
    # and a score only ranks cells.
    return grid.on_active(density_on_grid(x, y, grid, bandwidth=h, oversample=1))


def prospective_kernel(radius_cells: int) -> np.ndarray:
    """The spatial weights ``1 / (1 + d)`` of prospective hotspotting, ``d`` in cells, zero
    beyond ``radius_cells``."""
    r = int(radius_cells)
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    d = np.hypot(dx, dy)
    return np.where(d <= r, 1.0 / (1.0 + d), 0.0)


def prospective_score(
    x: np.ndarray,
    y: np.ndarray,
    dates: pd.Series | np.ndarray,
    grid: Grid,
    *,
    end: pd.Timestamp,
    radius_cells: int = 4,
    weeks: int = 8,
) -> np.ndarray:
    """Prospective hotspotting risk of each active cell at ``end`` (flat).

    Parameters
    ----------
    x, y : ndarray
        Training incidents in metres.
    dates : array of datetime64
        Their dates (incidents after ``end`` are ignored).
    grid : Grid
        The study grid.
    end : Timestamp
        End of the training window (the time of the forecast).
    radius_cells, weeks : int
        Bandwidths: incidents farther than ``radius_cells`` cells or older than ``weeks`` whole
        weeks add nothing (Bowers et al. used about 400 m and two months).

    Returns
    -------
    ndarray
        ``sum 1/(1 + d) · 1/(1 + t)`` over the incidents, per active cell.
    """
    elapsed = (pd.Timestamp(end) - pd.to_datetime(np.asarray(dates))).days.to_numpy() // 7
    recent = (elapsed >= 0) & (elapsed < weeks)
    weight = 1.0 / (1.0 + elapsed[recent])
    raster = counts_on_grid(np.asarray(x)[recent], np.asarray(y)[recent], grid, weights=weight)
    # The weights separate into space x time: the time-weighted counts, spread once by the
    # spatial kernel (symmetric: its correlation is its convolution).
    return grid.on_active(neighbourhood_sums(raster, prospective_kernel(radius_cells)))


#: Average month length in days (the half-life and the history are given in months).
MONTH_DAYS = 365.25 / 12


def recurrence_score(
    x: np.ndarray,
    y: np.ndarray,
    dates: pd.Series | np.ndarray,
    grid: Grid,
    *,
    end: pd.Timestamp,
    half_life: float = 24.0,
    months: int = 36,
) -> np.ndarray:
    """Incidents per active cell before ``end`` (flat), each weighing ``0.5 ** (age / half_life)``.

    Parameters
    ----------
    x, y : ndarray
        Incidents in metres.
    dates : array of datetime64
        Their dates: incidents on or after ``end``, or older than ``months`` months, add nothing.
    grid : Grid
        The study grid.
    end : Timestamp
        Time of the forecast.
    half_life : float, default 24
        Months after which an incident weighs half.
    months : int, default 36
        How far back incidents are read.

    Returns
    -------
    ndarray
        The weighted counts (an incident of the day before ``end`` weighs about 1).
    """
    weight = recurrence_weights(dates, end=end, half_life=half_life, months=months)
    keep = weight > 0
    return active_counts(np.asarray(x)[keep], np.asarray(y)[keep], grid, weights=weight[keep])


def recurrence_weights(
    dates: pd.Series | np.ndarray, *, end: pd.Timestamp, half_life: float = 24.0, months: int = 36
) -> np.ndarray:
    """Each incident's weight in :func:`recurrence_score`: ``0.5 ** (age / half_life)`` (age in
    months before ``end``), zero on or after ``end`` and beyond ``months`` months."""
    age = (pd.Timestamp(end) - pd.to_datetime(np.asarray(dates))).days.to_numpy() / MONTH_DAYS
    keep = (age > 0) & (age <= months)
    return np.where(keep, 0.5 ** (np.where(keep, age, 0.0) / float(half_life)), 0.0)
