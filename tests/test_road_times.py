"""Intervention times by road: a unit and town halls on a hand-built network, against times
computed by hand, and the fall-back to the straight-line estimate off the network."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.network import network_from_lines
from analysis.road_times import (
    ROAD,
    STRAIGHT,
    isochrones_from_units,
    road_times_for_assignment,
    unit_times_to_points,
)


def _line_network():
    """A 10 km road at 60 km/h (1 km a minute) with a 2 km branch at 30 km/h from its middle."""
    lines = np.array(
        [
            shapely.LineString([(0, 0), (5000, 0)]),
            shapely.LineString([(5000, 0), (10_000, 0)]),
            shapely.LineString([(5000, 0), (5000, 2000)]),
        ]
    )
    return network_from_lines(lines, np.array([60.0, 60.0, 30.0]))


def test_times_from_units_to_town_halls_by_road():
    net = _line_network()
    units = np.array([[0.0, 0.0], [10_000.0, 50.0]])
    halls = np.array([[5000.0, 2000.0], [2500.0, 30.0], [50_000.0, 0.0]])
    secs = unit_times_to_points(net, units, halls)
    assert secs[0, 0] == pytest.approx(5 * 60 + 4 * 60, abs=0.01)  # 5 km at 60, then 2 km at 30
    assert secs[0, 1] == pytest.approx(2.5 * 60, abs=0.01)
    assert secs[1, 1] == pytest.approx(7.5 * 60, abs=0.01)
    assert np.isinf(secs[:, 2]).all()  # 40 km from any road


def test_a_commune_off_the_network_keeps_its_straight_line_estimate():
    net = _line_network()
    assignment = pd.DataFrame(
        {"code": ["A", "B", "C"], "unite_id": ["u1", "u1", "inconnue"], "temps_min": [99.0, 98.0, 97.0]}
    )
    table = road_times_for_assignment(
        assignment,
        np.array(["u1"]),
        np.array([[0.0, 0.0]]),
        np.array([[5000.0, 2000.0], [60_000.0, 0.0], [1000.0, 0.0]]),
        net,
    )
    assert table["temps_min"].tolist() == pytest.approx([9.0, 98.0, 97.0], abs=1e-4)  # a 1 ms start arc
    assert table["estimation"].tolist() == [ROAD, STRAIGHT, STRAIGHT]


def test_isochrones_from_units_follow_the_roads():
    net = _line_network()
    bands = isochrones_from_units(net, np.array([[0.0, 0.0]]), (-2000, -3000, 12_000, 4000), minutes=(3, 6))
    three, six = bands["geometry"]
    assert three.contains(shapely.Point(2500, 0)) and not three.contains(shapely.Point(4000, 0))
    assert six.contains(shapely.Point(5500, 0)) and not six.contains(shapely.Point(5000, 1500))
    assert not six.contains(shapely.Point(2500, 2500))  # 2.5 km from any road
