"""Intervention times by road: from each unit along the network to each commune's town hall,
and the areas within 10, 20 and 30 minutes of a unit.

A unit and a town hall are placed on their nearest segment (within ``snap`` metres; the short
way from the building to the road is not counted); the time is that of the fastest path along
the network (:func:`analysis.network.times_from_sources`), at each segment's speed. A town hall
farther than ``snap`` from any road, or a unit that reaches nothing, keeps the straight-line
estimate, and the table says which estimate each row shows (``estimation``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.network import (
    Network,
    isochrones_from_sources,
    snap_points,
    times_at_points,
    times_from_sources,
)

#: Farthest a unit or a town hall is placed on the network (metres).
SNAP_M = 2_000.0
#: An isochrone holds the places within this distance of a road reached in time (metres).
REACH_M = 1_000.0
#: The isochrones' bands (minutes).
BANDS = (10, 20, 30)
ROAD, STRAIGHT = "route", "vol d'oiseau"


def unit_times_to_points(
    net: Network,
    unit_xy: np.ndarray,
    point_xy: np.ndarray,
    *,
    snap: float = SNAP_M,
) -> np.ndarray:
    """Seconds from every unit to every point by road (units x points; inf: not reachable or
    not on the network)."""
    units = snap_points(unit_xy[:, 0], unit_xy[:, 1], net.lines, max_distance=snap)
    points = snap_points(point_xy[:, 0], point_xy[:, 1], net.lines, max_distance=snap)
    out = np.full((len(unit_xy), len(point_xy)), np.inf)
    for i, times in enumerate(times_from_sources(net, units, each=True)):
        if units.found[i]:
            out[i], _ = times_at_points(net, times, points)
    return out


def road_times_for_assignment(
    assignment: pd.DataFrame,
    unit_ids: np.ndarray,
    unit_xy: np.ndarray,
    hall_xy: np.ndarray,
    net: Network,
    *,
    snap: float = SNAP_M,
) -> pd.DataFrame:
    """``assignment`` (one row a commune, its ``unite_id`` and straight-line ``temps_min``) with
    ``temps_min`` by road from its unit to its town hall where the network allows it, and an
    ``estimation`` column (« route » or « vol d'oiseau »).

    Parameters
    ----------
    assignment : DataFrame
        From :func:`geo.organisation.assignment_from_units`.
    unit_ids, unit_xy : ndarray
        The units' ids and positions (metres).
    hall_xy : ndarray
        Each commune's town hall (metres), in the order of ``assignment``.
    net : Network
        The département's network, same CRS.
    """
    seconds = unit_times_to_points(net, unit_xy, hall_xy, snap=snap)
    pos = {u: i for i, u in enumerate(unit_ids)}
    row = np.array([pos.get(u, -1) for u in assignment["unite_id"].to_numpy()])
    by_road = np.full(len(assignment), np.inf)
    has = row >= 0
    by_road[has] = seconds[row[has], np.flatnonzero(has)]
    ok = np.isfinite(by_road)
    out = assignment.copy()
    out["temps_min"] = np.where(ok, by_road / 60.0, out["temps_min"].to_numpy(dtype=float))
    out["estimation"] = np.where(ok, ROAD, STRAIGHT)
    return out


def isochrones_from_units(
    net: Network,
    unit_xy: np.ndarray,
    bounds: tuple[float, float, float, float],
    *,
    minutes: tuple[int, ...] = BANDS,
    snap: float = SNAP_M,
    cell: float = 250.0,
    reach: float = REACH_M,
) -> pd.DataFrame:
    """The areas within ``minutes`` of the nearest unit by road (``minutes``, ``geometry``; nested):
    the places within ``reach`` metres of a road reached in time."""
    units = snap_points(unit_xy[:, 0], unit_xy[:, 1], net.lines, max_distance=snap)
    return isochrones_from_sources(net, units, bounds, minutes=minutes, cell=cell, reach=reach)
