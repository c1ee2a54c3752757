"""Near-repeat on the generator's planted pattern, concentration on places, and their published view."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.concentration import (
    cell_count_in_territory,
    concentration_from_xy,
    gini_from_counts,
    lorenz_from_counts,
    place_keys_from_xy,
    repeat_places_from_xy,
    top_shares_from_counts,
)
from analysis.near_repeat import days_from_windows, knox_test, summary_from_knox
from core import model as m
from core.crs import metric_crs_for_departement
from core.model import IncidentFilter
from core.privacy import Audience
from data.synthetic import NEAR_REPEAT_OFFENCE, synthetic_incidents_for_departement
from usecases import repeats as uc

CRS53 = metric_crs_for_departement("53")


def _burglaries(communes53, *, near_repeat: bool, seed: int):
    ds = synthetic_incidents_for_departement(
        communes53,
        years=(2024, 2025),
        seed=seed,
        scale=3.0,
        n_hotspots=0,
        near_repeat=near_repeat,
        today=dt.date(2026, 11, 21),
    )
    b = ds.incidents[ds.incidents[m.OFFENCE] == NEAR_REPEAT_OFFENCE].to_crs(CRS53)
    day = days_from_windows(b[m.START].to_numpy(), b[m.END].to_numpy(), np.datetime64("2000-01-01"))
    return b.geometry.x.to_numpy(), b.geometry.y.to_numpy(), day


@pytest.mark.parametrize("seed", [1, 2])
def test_generator_plants_a_near_repeat_pattern_the_test_finds(communes53, seed):
    x, y, day = _burglaries(communes53, near_repeat=True, seed=seed)
    res = knox_test(x, y, day, permutations=199, seed=seed)
    first = res.ratio.iloc[1:3, :2].to_numpy()  # < 200 m, 0–14 days
    assert (first > 3).all() and (res.p_value.iloc[1:3, :2].to_numpy() < 0.01).all()
    summary = summary_from_knox(res, (100.0, 200.0, 300.0, 400.0, 500.0), (7, 14, 21, 28, 35, 42, 49, 56))
    assert summary is not None and summary.radius_m >= 200 and summary.days >= 14 and summary.factor > 3


@pytest.mark.parametrize("seed", [1, 2])
def test_and_finds_none_without_it(communes53, seed):
    x, y, day = _burglaries(communes53, near_repeat=False, seed=seed)
    res = knox_test(x, y, day, permutations=199, seed=seed)
    assert (res.p_value.to_numpy() < 0.05).mean() <= 0.10
    assert np.nanmax(res.ratio.iloc[1:3, :2].to_numpy()) < 1.5  # the first bands (< 200 m, 0–14 days)


def test_window_midpoint_day():
    start = np.array(["2025-01-01T08:00", "2025-01-01T20:00", "2025-01-05T10:00"], dtype="datetime64[s]")
    end = np.array(
        ["NaT", "2025-01-04T20:00", "2025-01-04T10:00"], dtype="datetime64[s]"
    )  # the last: end < start
    days = days_from_windows(start, end, np.datetime64("2025-01-01"))
    assert days.tolist() == [0, 2, 4]  # midpoint of 1 Jan 20:00 - 4 Jan 20:00 is 3 Jan 08:00 -> day 2


def test_concentration_hand_worked():
    counts = np.array([6, 2, 1, 1])  # four places
    assert top_shares_from_counts(counts, 4, (0.25, 0.5)).tolist() == [0.6, 0.8]
    # Over 10 units (six without incidents): top 10 % = 1 unit = 60 %.
    assert top_shares_from_counts(counts, 10, (0.1,))[0] == pytest.approx(0.6)
    # Gini of (1, 1, 2, 6): sum_i (2i - n - 1) x_i / (n sum x) = (-3 - 1 + 2 + 18) / 40 = 0.4
    assert gini_from_counts(counts, 4) == pytest.approx(0.4)
    assert gini_from_counts(np.array([3, 3, 3]), 3) == pytest.approx(0.0)
    curve = lorenz_from_counts(counts, 4, points=5)
    assert curve["part_faits"].tolist() == [0.0, 0.6, 0.8, 0.9, 1.0]


def test_places_are_rounded_to_ten_metres_and_listed():
    x = np.array([1000.0, 1003.0, 1004.9, 2000.0, 3000.0, 3001.0])
    y = np.array([500.0, 502.0, 498.0, 500.0, 700.0, 701.0])
    keys = place_keys_from_xy(x, y)
    assert keys[0] == keys[1] == keys[2] and keys[3] != keys[0] and keys[4] == keys[5]
    places = repeat_places_from_xy(x, y)
    assert places["faits"].tolist() == [3, 2] and sorted(places["positions"][0]) == [0, 1, 2]
    c = concentration_from_xy(x, y, n_cells=100)
    assert c.n_places == 3 and c.repeat_places == 2 and c.repeat_share == pytest.approx(5 / 6)


def test_cell_count_of_a_square():
    square = shapely.box(0, 0, 1000, 500)
    assert cell_count_in_territory(square) == 10 * 5


def test_generator_plants_repeat_places(communes53):
    ds = synthetic_incidents_for_departement(
        communes53, years=(2025, 2025), seed=5, today=dt.date(2026, 11, 21)
    )
    flat = synthetic_incidents_for_departement(
        communes53, years=(2025, 2025), seed=5, today=dt.date(2026, 11, 21), repeat_places=False
    )
    for data, low, high in ((ds, 0.05, 1.0), (flat, 0.0, 0.02)):
        pts = data.incidents.to_crs(CRS53)
        c = concentration_from_xy(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), n_cells=520_000)
        assert low <= c.repeat_share <= high
    # Counts per offence and year are unchanged by the moves.
    pd.testing.assert_series_equal(
        ds.incidents[m.OFFENCE].value_counts().sort_index(),
        flat.incidents[m.OFFENCE].value_counts().sort_index(),
    )


def small_text(value: str) -> bool:
    digits = value.replace("\u202f", "")
    return digits.isdigit() and 1 <= int(digits) <= 5


YEAR = IncidentFilter(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))


def test_near_repeat_usecase_and_its_published_view(synthetic53):
    internal = uc.near_repeat_for_selection(
        synthetic53.incidents,
        YEAR,
        offence=NEAR_REPEAT_OFFENCE,
        crs=CRS53,
        audience=Audience.internal(),
        permutations=99,
    )
    assert internal.sentence.startswith("Après un cambriolage, le risque d'un autre fait est multiplié par")
    assert len(internal.heat) == 6 * 9
    public = uc.near_repeat_for_selection(
        synthetic53.incidents,
        YEAR,
        offence=NEAR_REPEAT_OFFENCE,
        crs=CRS53,
        audience=Audience.public(),
        permutations=99,
    )
    shown = public.heat["observees"]
    values = pd.to_numeric(shown.str.replace("\u202f", ""), errors="coerce")
    assert not ((values >= 1) & (values <= 5)).any()
    assert not [mm.value for mm in public.metrics if small_text(mm.value)]
    hidden = public.heat[shown == "secret"]
    assert hidden["rapport"].isna().all() and (hidden["texte"] == "secret").all()
    raw = pd.to_numeric(internal.heat["observees"].str.replace("\u202f", ""), errors="coerce")
    assert ((raw >= 1) & (raw <= 5)).sum() == len(hidden)
    with pytest.raises(uc.RepeatsError, match="Trop peu de faits"):
        uc.near_repeat_for_selection(
            synthetic53.incidents,
            IncidentFilter(start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 2)),
            offence=NEAR_REPEAT_OFFENCE,
            crs=CRS53,
            audience=Audience.internal(),
        )


def test_concentration_usecase_published_view_gives_no_place(synthetic53):
    internal = uc.concentration_for_selection(
        synthetic53.incidents, YEAR, crs=CRS53, n_cells=520_000, audience=Audience.internal()
    )
    assert internal.repeat_places is not None and (internal.repeat_places["faits"] >= 2).all()
    assert {"latitude", "longitude"} <= set(internal.repeat_places.columns)
    assert internal.table.iloc[0]["infraction"] == "Ensemble"
    public = uc.concentration_for_selection(
        synthetic53.incidents, YEAR, crs=CRS53, n_cells=520_000, audience=Audience.public()
    )
    assert public.repeat_places is None
    text = public.table.to_csv()
    assert "latitude" not in text
    for _, row in public.table.iterrows():
        n = int(row["faits"].replace("\u202f", ""))
        assert n > 5
        for col in ("lieux_top_1", "lieux_top_5", "part_lieux_repetes"):
            if row[col] != "secret":
                share = float(row[col].replace("\u00a0%", "").replace("%", "").replace(",", ".")) / 100
                assert round(share * n) > 5 or share == 0, (row["infraction"], col, row[col])


def test_cells_holding_half_and_a_quarter_are_counted_over_the_occupied_cells():
    from analysis.concentration import cells_holding_from_counts

    # 10 incidents in 4 cells (6, 2, 1, 1): one cell holds half, one a quarter; 1 cell in 4 = 25 %.
    np.testing.assert_allclose(cells_holding_from_counts(np.array([1, 6, 1, 2])), [0.25, 0.25])
    # Spread evenly over 10 cells: 5 cells for half, 3 for a quarter (2.5 rounded up).
    np.testing.assert_allclose(cells_holding_from_counts(np.ones(10)), [0.5, 0.3])
    # A small selection in a large territory no longer reads 100 % (the old « 1 % of the cells »).
    x = np.array([10.0, 20.0, 30.0, 250.0, 450.0, 650.0])
    c = concentration_from_xy(x, np.zeros(6), n_cells=520_000)
    assert c.n_cells == 4 and c.cells_for[0] == pytest.approx(0.25)  # the first cell holds 3 of 6
