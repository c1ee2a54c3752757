"""The back-test by street segment on hand-built counts: hit rate, PAI by length share, the
fractional PEI bound, and that the scored month never enters the choice of segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.backtest import Window
from analysis.street_backtest import best_by_length, first_by_length, street_backtest

W = Window(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-01"))
LENGTHS = np.array([100.0, 100.0, 200.0, 600.0])  # 1 km of network


def _incidents():
    """Training (Jan-Mar): segment 0 x4, segment 2 x2, segment 3 x1. Horizon (April): segment 0
    x1, segment 1 x3, segment 2 x2; one incident on no segment."""
    seg = [0, 0, 0, 0, 2, 2, 3, 0, 1, 1, 1, 2, 2, -1]
    days = ["2025-01-10"] * 4 + ["2025-02-10"] * 2 + ["2025-03-10"] + ["2025-04-05"] * 6 + ["2025-04-06"]
    return np.array(seg), pd.to_datetime(days).to_numpy()


def test_scores_by_length_share_computed_by_hand():
    seg, dates = _incidents()
    table = street_backtest(seg, dates, LENGTHS, [W], (0.1, 0.3))
    rows = table.set_index(["part_visee", "candidat"])
    # 10 % of 1 km = 100 m: the busiest segment (0) alone. The horizon holds 6 on the network.
    r = rows.loc[(0.1, "troncons_precedents")]
    assert (r.faits, r.faits_captes) == (6, 1)
    assert r.taux_de_reussite == pytest.approx(1 / 6) and r.part_longueur == pytest.approx(0.1)
    assert r.pai == pytest.approx((1 / 6) / 0.1)
    # The best 100 m would have caught 3 (segment 1): PEI = 1/3.
    assert r.pei == pytest.approx(1 / 3)
    # 30 % = 300 m: segments 0 then 2 (score 2): 100 + 200 m, 1 + 2 caught.
    r = rows.loc[(0.3, "troncons_precedents")]
    assert r.faits_captes == 3 and r.part_longueur == pytest.approx(0.3)
    # Best 300 m: segment 1 (3 in 100 m) and segment 0 (1 in 100 m) and half of segment 2 (1 in 100 m): 5.
    assert r.pei == pytest.approx(3 / 5)


def test_the_fractional_bound_and_the_length_budget():
    assert best_by_length(np.array([3.0, 1.0, 2.0]), np.array([100.0, 100.0, 200.0]), 150.0) == pytest.approx(
        3.5
    )
    order = np.array([2, 0, 1])
    assert list(first_by_length(order, np.array([100.0, 100.0, 200.0]), 250.0)) == [2]
    assert list(first_by_length(order, np.array([100.0, 100.0, 200.0]), 300.0)) == [2, 0]


def test_the_scored_month_never_enters_the_choice():
    seg, dates = _incidents()
    before = street_backtest(seg, dates, LENGTHS, [W], (0.1, 0.3))
    # Move every horizon incident to another segment: the segments chosen cannot change, only
    # what they catch (a back-test that peeked at April would choose otherwise).
    moved = seg.copy()
    horizon = pd.to_datetime(dates) >= W.train_end
    moved[np.asarray(horizon) & (seg >= 0)] = 3
    after = street_backtest(moved, dates, LENGTHS, [W], (0.1, 0.3))
    assert (before["part_longueur"].to_numpy() == after["part_longueur"].to_numpy()).all()
    assert (after["faits_captes"] == 0).all()  # segment 3 is never among the chosen (score 1, 600 m)


def test_the_baseline_takes_the_methods_length():
    seg, dates = _incidents()
    table = street_backtest(seg, dates, LENGTHS, [W], (0.25,))
    rows = table.set_index("candidat")
    assert (
        rows.loc["troncons_precedents", "part_longueur"]
        <= rows.loc["troncons_recurrents", "part_longueur"] + 1e-12
    )


def test_the_published_view_leaves_out_the_windows_resting_on_one_to_five():
    from core.privacy import Audience
    from usecases.street_backtest import street_backtest_view

    seg, dates = _incidents()  # six incidents in the horizon, 1 to 3 caught: secret counts
    table = street_backtest(seg, dates, LENGTHS, [W], (0.1, 0.3))
    internal = street_backtest_view(table, audience=Audience.internal(), horizon_months=1)
    published = street_backtest_view(table, audience=Audience.public(), horizon_months=1)
    assert internal.sentence.startswith("Par tronçon de rue : sur ")
    assert "non publiable" in published.sentence
    assert set(published.table["Fenêtres"]) == {"0"}
    assert any("non publié" in c for c in published.captions)
