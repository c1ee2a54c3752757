"""Emerging hot spots: space-time bins, Gi* per time step, Mann-Kendall trends, categories.

Follows the definitions of ArcGIS "Emerging Hot Spot Analysis" (hot-spot side; the cold
side is symmetric and not reported here): each grid cell gets a Gi* z-score per time step
(spatial distance band within the step), the Mann-Kendall test gives the trend of its
z-scores, and the pattern of significant steps gives the category.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.hotspots import Grid, band_kernel, counts_on_grid, fdr_bins, gi_star_from_raster

CATEGORIES = (
    "nouveau",
    "consécutif",
    "en intensification",
    "persistant",
    "en diminution",
    "sporadique",
    "oscillant",
    "historique",
    "aucun",
)


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mann-Kendall trend test on each row (time along axis 1), with the ties correction.

    Returns
    -------
    z, p : ndarray
        Normal approximation of S (continuity-corrected) and its two-sided p-value.
    """
    x = np.asarray(series, dtype=float)
    n = x.shape[1]
    s = np.zeros(x.shape[0])
    for i in range(n - 1):
        s += np.sign(x[:, i + 1 :] - x[:, i : i + 1]).sum(axis=1)
    # Ties: sum over groups of equal values of t (t - 1) (2t + 5).
    srt = np.sort(x, axis=1)
    ties = np.zeros(x.shape[0])
    run = np.ones(x.shape[0])
    for j in range(1, n + 1):
        same = (srt[:, j] == srt[:, j - 1]) if j < n else np.zeros(x.shape[0], dtype=bool)
        ended = ~same
        ties += np.where(ended, run * (run - 1) * (2 * run + 5), 0.0)
        run = np.where(same, run + 1, 1.0)
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    z = np.where(var > 0, z, 0.0)
    return z, 2 * stats.norm.sf(np.abs(z))


def categories_from_bins(bins: np.ndarray, trend_z: np.ndarray, *, alpha: float = 0.05) -> np.ndarray:
    """Emerging hot-spot category of each cell from its per-step bins (-3..3) and trend.

    Parameters
    ----------
    bins : ndarray (cells, steps)
        Gi* confidence bins per time step; hot when > 0 (90 % or more).
    trend_z : ndarray (cells,)
        Mann-Kendall z of each cell's Gi* z-scores.
    alpha : float
        Significance of the trend.
    """
    hot = bins > 0
    cold = bins < 0
    n = bins.shape[1]
    share = hot.mean(axis=1)
    last = hot[:, -1]
    ever_before = hot[:, :-1].any(axis=1)
    ever_cold = cold.any(axis=1)
    # Length of the final run of hot steps.
    run = np.zeros(len(bins), dtype=int)
    alive = np.ones(len(bins), dtype=bool)
    for j in range(n - 1, -1, -1):
        alive &= hot[:, j]
        run += alive
    before_run = (
        np.array([hot[i, : n - run[i]].any() for i in range(len(bins))]) if len(bins) else np.zeros(0, bool)
    )
    zc = stats.norm.isf(alpha / 2)
    out = np.full(len(bins), "aucun", dtype=object)
    ninety = share >= 0.9
    out[~last & ninety] = "historique"
    out[last & ~ninety & ever_cold] = "oscillant"
    out[last & ~ninety & ~ever_cold & ever_before] = "sporadique"
    out[last & ~ninety & (run >= 2) & ~before_run] = "consécutif"
    out[last & ~ever_before] = "nouveau"
    out[last & ninety] = "persistant"
    out[last & ninety & (trend_z >= zc)] = "en intensification"
    out[last & ninety & (trend_z <= -zc)] = "en diminution"
    return out


def emerging_hotspots_from_points(
    x: np.ndarray,
    y: np.ndarray,
    times: pd.Series,
    grid: Grid,
    *,
    band: float,
    freq: str = "QS",
    fdr: bool = True,
) -> pd.DataFrame:
    """Emerging hot-spot categories of the active cells of a grid.

    Parameters
    ----------
    x, y : ndarray
        Incident coordinates in metres.
    times : Series of datetime64
        Incident dates (same order).
    grid : Grid
        Grid of the territory.
    band : float
        Distance band in metres.
    freq : str, default "QS"
        Time step: "MS" (months) or "QS" (quarters).
    fdr : bool, default True
        FDR correction of each step's bins.

    Returns
    -------
    DataFrame
        One row per active cell (order of :meth:`Grid.centres`): ``categorie``,
        ``tendance_z``, ``pas_chauds`` (number of hot steps), ``pas`` (number of steps).
    """
    t = pd.to_datetime(pd.Series(times)).dt.to_period(freq[0]).to_numpy()
    steps = pd.period_range(t.min(), t.max(), freq=freq[0])
    kernel = band_kernel(grid.cell, band)
    z_all = np.zeros((int(grid.active.sum()), len(steps)))
    bins = np.zeros_like(z_all, dtype=np.int8)
    for k, step in enumerate(steps):
        sel = t == step
        counts = counts_on_grid(np.asarray(x)[sel], np.asarray(y)[sel], grid)
        if counts.sum() == 0:
            continue
        z = np.nan_to_num(gi_star_from_raster(counts, grid.active, kernel))
        z_all[:, k] = z
        bins[:, k] = fdr_bins(z, fdr=fdr)
    trend, _ = mann_kendall(z_all)
    return pd.DataFrame(
        {
            "categorie": categories_from_bins(bins, trend),
            "tendance_z": trend,
            "pas_chauds": (bins > 0).sum(axis=1),
            "pas": len(steps),
        }
    )
