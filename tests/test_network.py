"""The road graph on a real network (Helsinki's OSM extract, in ETRS-TM35FIN) against networkx
and brute force, and on hand-built networks where every time is known."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose

from analysis.network import (
    isochrone_lattice,
    isochrone_polygons,
    isochrones_from_sources,
    network_from_lines,
    network_from_roads,
    snap_points,
    times_at_points,
    times_from_sources,
)
from readers.roads import roads_from_pbf
from scripts.osm_sample import CRS, SAMPLE


@pytest.fixture(scope="module")
def helsinki_roads() -> gpd.GeoDataFrame:
    if not SAMPLE.exists():
        pytest.fail(f"{SAMPLE} absent : lancez « make test » (ou python -m scripts.osm_sample).")
    return roads_from_pbf(SAMPLE).roads.to_crs(CRS)


def _nx_graph(roads: gpd.GeoDataFrame) -> nx.DiGraph:
    """The same graph built independently: nodes are the rounded end coordinates."""
    g = nx.DiGraph()
    for line, speed, sens in zip(roads.geometry, roads["vitesse_kmh"], roads["sens"], strict=True):
        a = tuple(np.round(line.coords[0], 2))
        b = tuple(np.round(line.coords[-1], 2))
        if a == b:
            continue
        t = max(line.length / (speed / 3.6), 1e-3)
        for p, q, ok in ((a, b, sens != "inverse"), (b, a, sens != "direct")):
            if ok and (not g.has_edge(p, q) or g[p][q]["weight"] > t):
                g.add_edge(p, q, weight=t)
    return g


def test_times_from_crossings_equal_networkx_on_a_real_network(helsinki_roads):
    net = network_from_roads(helsinki_roads)
    g = _nx_graph(helsinki_roads)
    rng = np.random.default_rng(1)
    starts = rng.choice(net.n_nodes, 4, replace=False)
    # A source exactly at a node: fraction 0 of a segment leaving it.
    seg = np.array(
        [
            int(np.flatnonzero((net.u == s) & net.forward)[0])
            if ((net.u == s) & net.forward).any()
            else int(np.flatnonzero((net.v == s) & net.backward)[0])
            for s in starts
        ]
    )
    frac = np.where(net.u[seg] == starts, 0.0, 1.0)
    from analysis.network import Snapped

    snapped = Snapped(seg, frac, np.zeros(len(seg)))
    ours = times_from_sources(net, snapped)
    theirs = nx.multi_source_dijkstra_path_length(g, [(net.x[s].round(2), net.y[s].round(2)) for s in starts])
    for i in range(net.n_nodes):
        key = (net.x[i].round(2), net.y[i].round(2))
        if key in theirs:
            assert_allclose(ours.seconds[i], theirs[key], rtol=1e-9, atol=2e-3)
        else:
            assert not np.isfinite(ours.seconds[i])
    assert np.isfinite(ours.seconds).sum() == len(theirs)


def test_a_source_midway_along_a_segment_starts_from_its_own_position(helsinki_roads):
    net = network_from_roads(helsinki_roads)
    g = _nx_graph(helsinki_roads)
    both = np.flatnonzero(net.forward & net.backward & (net.length > 50))
    s = int(both[0])
    snapped = snap_points(
        *shapely.get_coordinates(shapely.line_interpolate_point(net.lines[s], 0.3, normalized=True)).T,
        net.lines,
        max_distance=1.0,
    )
    assert snapped.segment[0] == s or np.isclose(snapped.distance[0], 0.0)
    f = snapped.fraction[0]
    s = snapped.segment[0]
    ours = times_from_sources(net, snapped)
    # networkx: a virtual node joined to both ends by the part of the segment left to drive.
    g = g.copy()
    a = (net.x[net.u[s]].round(2), net.y[net.u[s]].round(2))
    b = (net.x[net.v[s]].round(2), net.y[net.v[s]].round(2))
    g.add_edge("unite", b, weight=(1 - f) * net.seconds[s])
    g.add_edge("unite", a, weight=f * net.seconds[s])
    theirs = nx.single_source_dijkstra_path_length(g, "unite")
    got = {(net.x[i].round(2), net.y[i].round(2)): ours.seconds[i] for i in range(net.n_nodes)}
    for key, t in theirs.items():
        if key != "unite":
            assert_allclose(got[key], t, rtol=1e-9, atol=2e-3)


def test_snapping_finds_the_nearest_segment_as_brute_force(helsinki_roads):
    lines = helsinki_roads.geometry.to_numpy()
    b = helsinki_roads.total_bounds
    rng = np.random.default_rng(3)
    x, y = rng.uniform(b[0], b[2], 400), rng.uniform(b[1], b[3], 400)
    got = snap_points(x, y, lines, max_distance=40.0)
    pts = shapely.points(x, y)
    d = shapely.distance(pts[:, None], lines[None, :])
    nearest = np.argmin(d, axis=1)
    dmin = d[np.arange(len(x)), nearest]
    within = dmin <= 40.0
    assert (got.found == within).all()
    assert_allclose(got.distance[within], dmin[within], atol=1e-9)
    assert (got.segment[within] == nearest[within]).all()  # ties: lowest index, as argmin
    along = shapely.line_locate_point(lines[nearest[within]], pts[within], normalized=True)
    assert_allclose(got.fraction[within], along, atol=1e-9)
    assert 0.2 < within.mean() < 1.0


def _square() -> np.ndarray:
    """A 1 km square, a diagonal street one-way from (0, 0), and an island far off."""
    return np.array(
        [
            shapely.LineString([(0, 0), (1000, 0)]),
            shapely.LineString([(1000, 0), (1000, 1000)]),
            shapely.LineString([(1000, 1000), (0, 1000)]),
            shapely.LineString([(0, 1000), (0, 0)]),
            shapely.LineString([(0, 0), (1000, 1000)]),
            shapely.LineString([(0, 0), (1000, 0)]),  # a slower parallel road
            shapely.LineString([(5000, 0), (5500, 0)]),
        ]
    )


def test_times_on_a_hand_built_network():
    lines = _square()
    speed = np.array([36.0, 36.0, 36.0, 36.0, 72.0, 18.0, 36.0])  # 10 m/s, 20 m/s, 5 m/s
    sens = np.array(["double", "double", "double", "double", "direct", "double", "double"])
    net = network_from_lines(lines, speed, sens)
    assert net.n_nodes == 6
    component, main = net.components()
    assert component.max() == 1 and (component == main).sum() == 4
    deg = net.degree()
    corner = np.flatnonzero((net.x == 0) & (net.y == 0))[0]
    assert deg[corner] == 3
    # A unit at (500, 0), on the first side (the faster of the two parallel roads).
    snapped = snap_points(np.array([500.0]), np.array([0.0]), lines, max_distance=10)
    assert snapped.segment[0] == 0 and snapped.fraction[0] == pytest.approx(0.5)
    times = times_from_sources(net, snapped)
    at = {(round(x), round(y)): t for x, y, t in zip(net.x, net.y, times.seconds, strict=True)}
    assert at[(0, 0)] == pytest.approx(50.0)
    assert at[(1000, 0)] == pytest.approx(50.0)
    assert at[(1000, 1000)] == pytest.approx(50.0 + 1000 * np.sqrt(2) / 20)  # the one-way diagonal
    assert at[(0, 1000)] == pytest.approx(150.0)
    assert not np.isfinite(at[(5000, 0)])  # the island
    # Back from (1000, 1000) to (0, 0): not by the diagonal (one-way), 200 s around the square.
    back = times_from_sources(net, snap_points(np.array([1000.0]), np.array([1000.0]), lines, max_distance=1))
    assert back.seconds[corner] == pytest.approx(200.0)
    # A point on the far side, 300 m from (0, 1000) along the top street.
    t, who = times_at_points(
        net, times, snap_points(np.array([300.0]), np.array([1000.0]), lines, max_distance=1)
    )
    assert t[0] == pytest.approx(min(150 + 30, at[(1000, 1000)] + 70))
    assert who[0] == 0


def test_each_source_has_its_own_times_and_the_nearest_one_wins():
    lines = _square()
    net = network_from_lines(lines, np.full(len(lines), 36.0))
    xs, ys = np.array([0.0, 1000.0]), np.array([0.0, 1000.0])
    snapped = snap_points(xs, ys, lines, max_distance=1)
    each = times_from_sources(net, snapped, each=True)
    nearest = times_from_sources(net, snapped)
    assert_allclose(nearest.seconds, np.minimum(each[0].seconds, each[1].seconds))
    distinct = np.isfinite(nearest.seconds) & (each[0].seconds != each[1].seconds)
    assert distinct.sum() >= 2  # the two corners (the other two are as far from both)
    assert ((nearest.source == 0) == (each[0].seconds < each[1].seconds))[distinct].all()


def test_isochrones_are_nested_and_hold_every_cell_reached_in_time():
    lines = _square()
    net = network_from_lines(lines, np.full(len(lines), 36.0))  # 10 m/s
    snapped = snap_points(np.array([0.0]), np.array([0.0]), lines, max_distance=1)
    times = times_from_sources(net, snapped)
    bounds = (-500.0, -500.0, 1500.0, 1500.0)
    xs, ys, secs = isochrone_lattice(net, times, bounds, cell=50.0, reach=100.0, step=25.0)
    polys = isochrone_polygons(xs, ys, secs, (1, 2, 3))
    assert polys[0].area < polys[1].area < polys[2].area
    assert polys[1].buffer(1e-6).contains(polys[0])
    gx, gy = np.meshgrid(xs, ys)
    for m, poly in zip((1, 2, 3), polys, strict=True):
        inside = secs <= m * 60 - 1e-6
        pts = shapely.points(gx[inside], gy[inside])
        assert shapely.contains(poly.buffer(1.0), pts).all()
        outside = np.isinf(secs)
        assert not shapely.contains(poly.buffer(-1.0), shapely.points(gx[outside], gy[outside])).any()
    # Cells near the far corner (1000, 1000): 141 s by the diagonal, outside the 2-minute band.
    assert not polys[1].contains(shapely.Point(1000, 1000))
    assert polys[2].contains(shapely.Point(1000, 990))
    table = isochrones_from_sources(net, snapped, bounds, minutes=(1, 2), cell=50.0, reach=100.0)
    assert list(table["minutes"]) == [1, 2]
