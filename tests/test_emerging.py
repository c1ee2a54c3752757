import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from analysis.emerging import categories_from_bins, emerging_hotspots_from_points, mann_kendall
from analysis.hotspots import grid_for_territory


def _mk_reference(x):
    """Textbook Mann-Kendall (loops), with the ties correction."""
    n = len(x)
    s = sum(np.sign(x[j] - x[i]) for i in range(n - 1) for j in range(i + 1, n))
    _, counts = np.unique(x, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in counts)) / 18
    z = (s - np.sign(s)) / np.sqrt(var) if s != 0 else 0.0
    return z, 2 * stats.norm.sf(abs(z))


def test_mann_kendall_matches_textbook():
    rng = np.random.default_rng(0)
    rows = np.vstack([rng.integers(0, 4, 12), np.arange(12), np.arange(12)[::-1], rng.normal(size=12)])
    z, p = mann_kendall(rows)
    for i, r in enumerate(rows):
        zr, pr = _mk_reference(r)
        assert z[i] == pytest.approx(zr) and p[i] == pytest.approx(pr)
    assert z[1] > 3 and z[2] < -3


def test_categories_follow_arcgis_definitions():
    H, C, N = 2, -2, 0
    bins = np.array(
        [
            [N, N, N, N, N, N, N, N, N, H],  # new
            [N, N, N, N, N, N, N, H, H, H],  # consecutive
            [H, H, H, H, H, H, H, H, H, H],  # persistent (no trend)
            [N, H, N, H, N, N, H, N, N, H],  # sporadic
            [C, N, N, H, N, C, N, N, N, H],  # oscillating
            [H, H, H, H, H, H, H, H, H, N],  # historical (90 % hot, not the last)
            [N] * 10,  # none
            [H] * 10,  # intensifying (given a positive trend)
            [H] * 10,  # diminishing
        ]
    )
    trend = np.array([0, 0, 0, 0, 0, 0, 0, 3.0, -3.0])
    assert categories_from_bins(bins, trend).tolist() == [
        "nouveau",
        "consécutif",
        "persistant",
        "sporadique",
        "oscillant",
        "historique",
        "aucun",
        "en intensification",
        "en diminution",
    ]


def test_a_new_cluster_is_new():
    rng = np.random.default_rng(1)
    months = pd.date_range("2023-01-01", periods=24, freq="MS")
    xs, ys, ts = [], [], []
    for mth in months:
        n = 60
        xs.append(rng.uniform(0, 5000, n))
        ys.append(rng.uniform(0, 5000, n))
        ts.append(np.full(n, mth))
    # A cluster appears in the last quarter only.
    k = 80
    xs.append(rng.normal(2500, 80, k))
    ys.append(rng.normal(2500, 80, k))
    ts.append(np.full(k, np.datetime64("2024-11-15")))
    grid = grid_for_territory(shapely.box(0, 0, 5000, 5000), 250.0)
    res = emerging_hotspots_from_points(
        np.concatenate(xs), np.concatenate(ys), pd.Series(np.concatenate(ts)), grid, band=500.0
    )
    cx, cy = grid.centres()
    near = np.hypot(cx - 2500, cy - 2500) < 300
    assert (res.loc[near, "categorie"] == "nouveau").mean() > 0.5
    assert (res.loc[~near, "categorie"] == "aucun").mean() > 0.9
    assert res["pas"].iloc[0] == 8
