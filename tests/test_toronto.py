"""Real point data: the Toronto sample read into the incident model, and a back-test on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.backtest import baselines_at_shares, rolling_windows
from analysis.hotspots import grid_for_territory
from core import model as m
from scripts.toronto import CRS, incidents_from_mci, territory_from_points

SAMPLE = Path(__file__).parent / "data" / "toronto_mci_sample.csv"


@pytest.fixture(scope="module")
def sample():
    return incidents_from_mci(pd.read_csv(SAMPLE))


def test_the_sample_reads_into_the_incident_model(sample):
    raw = pd.read_csv(SAMPLE)
    late = raw["occurrencedate"].str[:4].astype(int) < 2014
    assert late.sum() == 12 and len(sample) == len(raw) - 12  # late reports dropped, nothing else
    assert sample.crs == CRS
    # Local midnight written as UTC (04:00 or 05:00 +00): the local date, plus the hour column.
    kept = raw[~late]
    expected = pd.to_datetime(kept["occurrencedate"].str[:10], format="%Y/%m/%d") + pd.to_timedelta(
        kept["occurrencehour"], unit="h"
    )
    assert sample[m.START].tolist() == sorted(expected)
    assert sample[m.START].dt.year.between(2019, 2020).all()
    residential = sample["residential"]
    assert set(sample.loc[residential, m.PLACE]) == {"domicile"}
    assert set(sample.loc[residential, m.OFFENCE]) == {"Cambriolages de logement"}
    assert (sample.loc[sample["mci"] == "Robbery", m.OFFENCE] == "Vols violents sans arme").all()
    # UTM 17N metres: downtown Toronto is about 630 km east, 4,835 km north.
    x, y = sample.geometry.x, sample.geometry.y
    assert x.between(620_000, 640_000).all() and y.between(4_830_000, 4_842_000).all()
    # The TPS moves locations to intersections: far fewer positions than incidents.
    assert len(np.unique(np.column_stack([x, y]).round(1), axis=0)) < 0.5 * len(sample)


def test_real_incidents_concentrate_where_the_baselines_look(sample):
    burglaries = sample[sample["residential"]].reset_index(drop=True)
    territory = territory_from_points(sample)
    grid = grid_for_territory(territory.geometry.iloc[0], 100.0)
    x, y = burglaries.geometry.x.to_numpy(), burglaries.geometry.y.to_numpy()
    windows = rolling_windows(burglaries[m.START].min(), burglaries[m.START].max(), count=12)
    assert len(windows) == 12
    table = baselines_at_shares(x, y, burglaries[m.START].to_numpy(), grid, windows, (0.01, 0.05))
    mean = table.groupby(["part_visee", "candidat"])[["part_superficie", "taux_de_reussite", "pai"]].mean()
    # Real burglaries concentrate: every baseline catches several times its area share, and
    # more area catches more.
    assert (mean["pai"] > 2).all(), mean
    for base in ("precedente", "kde", "prospectif_ref"):
        assert mean.loc[(0.05, base), "taux_de_reussite"] > mean.loc[(0.01, base), "taux_de_reussite"]
    assert mean["part_superficie"].round(3).tolist() == [0.01] * 3 + [0.05] * 3
