"""The back-test of zones: its measures on hand-computed cases, prospective hotspotting against
a brute-force loop, windows in whole months, and zones drawn on the training window only."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.backtest import Window, backtest, cells_in_zones, rolling_windows, scores_from_mask, zone_cells
from analysis.cell_scores import prospective_kernel, prospective_score, recurrence_score, top_cells
from analysis.hotspots import grid_for_territory
from analysis.zone_detectors import ZoneSettings
from analysis.zones import zones_from_incidents
from core import model as m


def test_measures_on_a_hand_computed_case():
    # Ten cells; the zones are cells 0 and 1 (an area share of 20 %).
    train = np.array([6, 2, 0, 0, 1, 1, 0, 0, 0, 0], dtype=float)  # 8 of 10 in the zones
    horizon = np.array([3, 1, 5, 0, 0, 1, 0, 0, 0, 0], dtype=float)  # 4 of 10 in the zones
    s = scores_from_mask(np.arange(10) < 2, train, horizon)
    assert (s.cells, s.hits, s.incidents) == (2, 4, 10)
    assert s.area_share == pytest.approx(0.2) and s.hit_rate == pytest.approx(0.4)
    assert s.pai == pytest.approx(0.4 / 0.2)
    # The best two cells of the horizon held 5 + 3 = 8: PEI = 4 / 8.
    assert s.pei == pytest.approx(0.5)
    # RRI: hit rate 0.4 on the horizon against 0.8 on the training window.
    assert s.rri == pytest.approx(0.5)
    none = scores_from_mask(np.zeros(10, dtype=bool), train, horizon)
    assert none.hits == 0 and np.isnan(none.pai) and np.isnan(none.pei)


def test_top_cells_take_exactly_k_and_break_ties_reproducibly():
    score = np.array([1.0, 3.0, 3.0, 0.0, 2.0])
    assert top_cells(score, 2).tolist() == [False, True, True, False, False]
    # A tie at the cut: the tie-break decides, then the position.
    assert top_cells(score, 1, tie_break=np.array([0, 1, 5, 0, 0])).tolist() == [
        False,
        False,
        True,
        False,
        False,
    ]
    assert top_cells(score, 1).tolist() == [False, True, False, False, False]
    assert top_cells(score, 0).sum() == 0 and top_cells(score, 99).sum() == 5


def test_prospective_score_equals_the_brute_force_sum():
    rng = np.random.default_rng(3)
    grid = grid_for_territory(shapely.box(0, 0, 2000, 1500), 100.0)
    x, y = rng.uniform(0, 2000, 80), rng.uniform(0, 1500, 80)
    end = pd.Timestamp("2024-03-01")
    dates = end - pd.to_timedelta(rng.integers(0, 90, 80), unit="D")
    got = prospective_score(x, y, dates, grid, end=end, radius_cells=4, weeks=8)
    cx, cy = grid.centres()
    expected = np.zeros(len(cx))
    for xi, yi, di in zip(x, y, dates, strict=True):
        weeks = (end - di).days // 7
        if weeks >= 8:
            continue
        ex = grid.x0 + (np.floor((xi - grid.x0) / 100) + 0.5) * 100
        ey = grid.y0 + (np.floor((yi - grid.y0) / 100) + 0.5) * 100
        d = np.hypot(cx - ex, cy - ey) / 100.0
        expected += np.where(d <= 4 + 1e-9, 1.0 / (1.0 + d), 0.0) / (1.0 + weeks)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert prospective_kernel(1).tolist()[1] == [1 / 2, 1.0, 1 / 2]


def test_windows_are_whole_months_oldest_first():
    w = rolling_windows(pd.Timestamp("2023-01-15"), pd.Timestamp("2023-12-20"), train_months=3, count=12)
    # Data from mid-January to mid-December: training from February, last horizon November.
    assert w[0] == Window(pd.Timestamp("2023-02-01"), pd.Timestamp("2023-05-01"), pd.Timestamp("2023-06-01"))
    assert w[-1].horizon_end == pd.Timestamp("2023-12-01") and w[-1].label == "2023-11"
    assert len(w) == 7
    two = rolling_windows(
        pd.Timestamp("2023-01-01"), pd.Timestamp("2023-12-31"), train_months=2, horizon_months=2, count=3
    )
    assert [x.label for x in two] == ["2023-09", "2023-10", "2023-11"] and two[
        -1
    ].horizon_end == pd.Timestamp("2024-01-01")
    assert rolling_windows(pd.Timestamp("2023-01-01"), pd.Timestamp("2023-02-10")) == []


def test_zones_are_drawn_on_the_training_window_only():
    rng = np.random.default_rng(5)
    n = 3000
    x, y = rng.uniform(0, 3000, n), rng.uniform(0, 3000, n)
    dates = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    grid = grid_for_territory(shapely.box(0, 0, 3000, 3000), 100.0)
    windows = rolling_windows(dates.min(), dates.max(), count=4)
    seen = []

    def draw(in_train: np.ndarray, before: np.ndarray, window: Window):  # (windows run in threads)
        seen.append((pd.Series(dates[in_train]).max(), pd.Series(dates[before]).max(), window))
        return shapely.box(0, 0, 600, 600)

    table = backtest(x, y, dates.to_numpy(), grid, windows, {"carre": draw})
    assert len(seen) == len(windows)
    assert sorted(given.train_end for *_, given in seen) == [w.train_end for w in windows]
    for latest, latest_before, given in seen:
        assert latest < given.train_end and latest_before < given.train_end
    # The same area for every candidate of a window (36 cells), and one row per baseline.
    assert set(table["mailles"]) == {36}
    assert set(table["candidat"]) == {"carre", "precedente", "kde", "prospectif_ref"}
    # Uniform incidents: the square's hit rate is about its area share.
    square = table[table["candidat"] == "carre"]
    assert square["taux_de_reussite"].mean() == pytest.approx(0.04, abs=0.02)


def test_recurrence_score_against_a_loop():
    rng = np.random.default_rng(4)
    n = 300
    x, y = rng.uniform(0, 1000, n), rng.uniform(0, 1000, n)
    end = pd.Timestamp("2024-01-01")
    dates = end - pd.to_timedelta(rng.integers(-20, 1400, n), unit="D")  # some after the end, some too old
    grid = grid_for_territory(shapely.box(0, 0, 1000, 1000), 100.0)
    got = recurrence_score(x, y, dates.to_numpy(), grid, end=end, half_life=12, months=36)
    cx, cy = grid.centres()
    expected = np.zeros(len(cx))
    for xi, yi, di in zip(x, y, dates, strict=True):
        age = (end - di).days / (365.25 / 12)
        if not 0 < age <= 36:
            continue
        cell = np.flatnonzero(
            (np.abs(cx - (np.floor(xi / 100) * 100 + 50)) < 1e-6)
            & (np.abs(cy - (np.floor(yi / 100) * 100 + 50)) < 1e-6)
        )
        expected[cell] += 0.5 ** (age / 12)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("method", ["local", "gi", "hdbscan", "recurrent", "prospectif"])
def test_zone_cells_are_the_cells_of_the_zones_drawn(method):
    """The back-test's fast path gives the cells of the polygons zones_from_incidents draws."""
    rng = np.random.default_rng(6)
    n = 4000
    x = np.concatenate([rng.uniform(0, 5000, n), rng.normal(1500, 120, 600), rng.normal(3800, 150, 400)])
    y = np.concatenate([rng.uniform(0, 5000, n), rng.normal(3500, 120, 600), rng.normal(1200, 150, 400)])
    dates = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, len(x)), unit="D")
    frame = gpd.GeoDataFrame(
        {m.OFFENCE: "Cambriolages de logement", m.FORCE: "GN", m.START: dates},
        geometry=gpd.points_from_xy(x, y),
        crs=2154,
    )
    area = shapely.box(0, 0, 5000, 5000)
    territory = gpd.GeoDataFrame({"code": ["1"], "nom": ["Carré"]}, geometry=[area], crs=2154)
    grid = grid_for_territory(area, 100.0)
    end = pd.Timestamp("2023-10-01")
    t = dates.to_numpy()
    in_train = (t >= np.datetime64("2023-07-01")) & (t < np.datetime64(end))
    before = t < np.datetime64(end)
    settings = ZoneSettings(method=method, area_share=0.02)
    fast = zone_cells(x, y, t, area, grid, settings, in_train=in_train, before=before, as_of=end)
    zones = zones_from_incidents(
        frame[in_train], territory, settings=settings, as_of=end, history=frame[before & ~in_train]
    )
    union = shapely.union_all(zones.geometry.to_numpy()) if len(zones) else None
    slow = cells_in_zones(grid, union)
    assert fast.any()
    if method in ("dbscan", "hdbscan"):
        # Their 50 m cells put some 100 m cell centres on a zone's edge, which the polygon
        # test leaves out: those, and only those, differ.
        assert not (slow & ~fast).any()
        cx, cy = grid.centres()
        extra = fast & ~slow
        assert shapely.intersects(union.boundary, shapely.points(cx[extra], cy[extra])).all()
    else:
        np.testing.assert_array_equal(fast, slow)


def test_a_method_named_like_a_baseline_is_refused():
    grid = grid_for_territory(shapely.box(0, 0, 1000, 1000), 100.0)
    with pytest.raises(ValueError, match="precedente"):
        backtest(
            np.zeros(1),
            np.zeros(1),
            np.array(["2024-01-01"], dtype="datetime64[ns]"),
            grid,
            [],
            {"precedente": None},
        )


def test_a_limited_ranking_is_the_full_one_cut():
    from analysis.cell_scores import ranking

    rng = np.random.default_rng(11)
    score = rng.integers(0, 4, 5000).astype(float)  # many ties
    tie = rng.integers(0, 3, 5000).astype(float)
    full = ranking(score, tie_break=tie)
    for limit in (0, 1, 37, 1250, 4999, 5000):
        np.testing.assert_array_equal(ranking(score, tie_break=tie, limit=limit), full[:limit])


def test_a_ranking_longer_than_the_positive_scores_is_the_sorted_order():
    """A limit beyond the positive cells (a method's zones larger than the cells that had an
    incident): zero, negative scores and tie-breaks of either sign still come in the order of
    a full sort by score, tie-break and position."""
    from analysis.cell_scores import ranking

    rng = np.random.default_rng(5)
    for trial in range(400):
        n = int(rng.integers(1, 60))
        score = rng.choice([0.0, 0.0, 0.0, 1.0, 2.0, 3.0, -1.0, 0.5], n)
        tie = rng.choice([0.0, 0.0, 1.0, 2.0, -1.0], n) if trial % 2 else None
        keys = (np.arange(n), -score) if tie is None else (np.arange(n), -tie, -score)
        expected = np.lexsort(keys)
        for limit in range(n + 1):
            np.testing.assert_array_equal(ranking(score, tie_break=tie, limit=limit), expected[:limit])


def test_the_prospective_baseline_is_the_prospective_method_at_its_defaults():
    """The back-test takes the baseline « prospectif_ref » from the « prospectif » method's
    score when the page keeps its bandwidths: the two computations must be the same."""
    from analysis.backtest import baseline_scores
    from analysis.zone_detectors import share_score

    rng = np.random.default_rng(3)
    grid = grid_for_territory(shapely.box(0, 0, 5000, 4000), 100.0)
    x, y = rng.uniform(0, 5000, 400), rng.uniform(0, 4000, 400)
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, 400), unit="D")
    end = pd.Timestamp("2024-04-01")
    counts = np.zeros(len(grid.active_index))
    base = baseline_scores(x, y, dates.to_numpy(), grid, counts, counts, end)["prospectif_ref"][0]
    method = share_score("prospectif", x, y, grid, ZoneSettings(), dates=dates.to_numpy(), as_of=end)
    assert base.max() > 0
    np.testing.assert_array_equal(base, method)
