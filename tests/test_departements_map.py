"""Outlines of the départements for the France map (geo.communes.departements_from_communes)."""

from __future__ import annotations

import json

import shapely

from geo.communes import all_communes, departements_from_communes, departements_table


def test_every_departement_once_small_and_touching_its_neighbours():
    france = all_communes()
    deps = departements_from_communes(france)
    assert deps["code"].tolist() == departements_table()["code"].tolist()  # 101, INSEE order
    assert deps.geometry.is_valid.all() and not deps.geometry.is_empty.any()
    assert deps["population"].sum() == france["population"].sum()
    payload = json.dumps(deps.__geo_interface__)
    assert len(payload) < 2 * 2**20  # the map of France stays small
    mayenne, sarthe = (deps.set_index("code").geometry[c] for c in ("53", "72"))
    assert shapely.distance(mayenne, sarthe) < 0.02  # neighbours still meet (within the tolerance)
    laval = france.set_index("code").geometry["53130"].representative_point()
    assert mayenne.buffer(0.01).contains(laval)
