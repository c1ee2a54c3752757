"""A road network as a graph: travel times from units, points snapped to streets, crossings,
isochrones.

NumPy core (coordinates in metres, a sparse matrix of travel times) and thin GeoDataFrame
adapters (:func:`network_from_roads`, :func:`snapped_from_points`), as :mod:`analysis.siting`.

* **Graph**: one node per distinct segment end (to the centimetre), one directed arc per
  direction a segment may be driven (``sens``), weighted by its travel time
  (``length / speed``); parallel arcs keep the fastest. Segments meet only at their ends: a
  bridge over a road is no crossing (OSM ways are cut at their shared nodes by
  :mod:`readers.roads`, BD TOPO tronçons end at crossings).
* **Times**: Dijkstra (``scipy.sparse.csgraph``) from the sources, each source placed on its
  nearest segment at its own position along it (a virtual node joined to both ends by the
  part of the segment's time it still has to drive), so that a unit midway along a long
  rural road is not moved to a crossing. The time of a point on a segment is that of the
  faster of its two ends plus the part of the segment between (in an allowed direction).
* **Isochrones**: each cell of a lattice takes the time of the network point nearest to its
  centre (within ``reach`` metres: the road a patrol stops on; the walk beyond is not
  counted), the points being every segment's vertices and points every ``step`` metres
  along it; the bands are the filled contours of that lattice (``contourpy``).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from core.crs import require_metric
from core.errors import ParameterError

#: Node ends closer than this are one node (metres).
NODE_TOLERANCE = 0.01
#: Shortest travel time of an arc (seconds): csgraph reads a zero as no arc.
MIN_SECONDS = 1e-3
#: Points snapped at a time (bounds the candidate pairs held in memory).
SNAP_CHUNK = 200_000


@dataclass(frozen=True)
class Network:
    """Nodes, segments (one per road segment, its two ends) and the directed graph."""

    x: np.ndarray  # nodes (metres)
    y: np.ndarray
    u: np.ndarray  # each segment's first and last node
    v: np.ndarray
    length: np.ndarray  # metres
    seconds: np.ndarray  # travel time along the whole segment
    forward: np.ndarray  # may be driven u -> v
    backward: np.ndarray  # may be driven v -> u
    lines: np.ndarray  # the segments' geometries (shapely, metres)
    graph: sparse.csr_matrix  # node x node, seconds

    @property
    def n_nodes(self) -> int:
        return len(self.x)

    def components(self) -> tuple[np.ndarray, int]:
        """The weakly connected component of each node, and the largest one's label."""
        n_comp, component = csgraph.connected_components(self.graph, directed=True, connection="weak")
        return component, int(np.argmax(np.bincount(component))) if n_comp else 0

    def degree(self) -> np.ndarray:
        """Distinct neighbours of each node, whatever the direction (a crossing has 3 or more)."""
        a = np.concatenate([self.u, self.v])
        b = np.concatenate([self.v, self.u])
        loop = a == b
        pairs = np.unique(a[~loop].astype(np.int64) * self.n_nodes + b[~loop])
        return np.bincount(pairs // self.n_nodes, minlength=self.n_nodes)


def network_from_lines(
    lines: np.ndarray, speed_kmh: np.ndarray, direction: np.ndarray | None = None
) -> Network:
    """The graph of road segments (NumPy core).

    Parameters
    ----------
    lines : ndarray of shapely LineString
        The segments, in metres.
    speed_kmh : ndarray
        Speed along each segment.
    direction : ndarray of str, optional
        ``"double"``, ``"direct"`` (drawing order) or ``"inverse"`` per segment (default: both ways).

    Returns
    -------
    Network
    """
    lines = np.asarray(lines, dtype=object)
    if len(lines) == 0:
        raise ParameterError("Le réseau routier est vide : importez un réseau qui couvre le département.")
    speed = np.asarray(speed_kmh, dtype=float)
    if np.any(~np.isfinite(speed) | (speed <= 0)):
        raise ParameterError("Chaque tronçon doit avoir une vitesse positive (km/h).")
    direction = np.full(len(lines), "double", dtype=object) if direction is None else np.asarray(direction)
    ends = np.concatenate(
        [
            shapely.get_coordinates(shapely.get_point(lines, 0)),
            shapely.get_coordinates(shapely.get_point(lines, -1)),
        ]
    )
    key = np.round(ends / NODE_TOLERANCE).astype(np.int64)
    key -= key.min(axis=0)
    flat = key[:, 0] * (int(key[:, 1].max()) + 1) + key[:, 1]
    uniq, first, node = np.unique(flat, return_index=True, return_inverse=True)
    n_seg = len(lines)
    u, v = node[:n_seg], node[n_seg:]
    x, y = ends[first, 0], ends[first, 1]
    length = shapely.length(lines)
    seconds = np.maximum(length / (speed / 3.6), MIN_SECONDS)
    forward = direction != "inverse"
    backward = direction != "direct"
    graph = _graph(len(uniq), u, v, seconds, forward, backward)
    return Network(x, y, u, v, length, seconds, forward, backward, lines, graph)


def _graph(
    n: int, u: np.ndarray, v: np.ndarray, seconds: np.ndarray, forward: np.ndarray, backward: np.ndarray
) -> sparse.csr_matrix:
    """The directed arcs, the fastest of parallel ones, loops left out."""
    rows = np.concatenate([u[forward], v[backward]])
    cols = np.concatenate([v[forward], u[backward]])
    data = np.concatenate([seconds[forward], seconds[backward]])
    keep = rows != cols
    rows, cols, data = rows[keep], cols[keep], data[keep]
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return sparse.csr_matrix((data[first], (rows[first], cols[first])), shape=(n, n))


def network_from_roads(roads: gpd.GeoDataFrame) -> Network:
    """:func:`network_from_lines` on a road table (:data:`readers.roads.ROAD_COLUMNS`, metric CRS)."""
    require_metric(roads)
    return network_from_lines(
        roads.geometry.to_numpy(), roads["vitesse_kmh"].to_numpy(), roads["sens"].to_numpy(dtype=object)
    )


# ---------------------------------------------------------------------------------------
# Points on segments
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapped:
    """Each point's nearest segment within the distance asked for (-1: none)."""

    segment: np.ndarray  # index of the segment, -1 when none is within reach
    fraction: np.ndarray  # position along it, 0 at its first node, 1 at its last
    distance: np.ndarray  # metres from the point to the segment (nan when none)

    @property
    def found(self) -> np.ndarray:
        return self.segment >= 0


def snap_points(
    x: np.ndarray,
    y: np.ndarray,
    lines: np.ndarray,
    *,
    max_distance: float,
    tree: shapely.STRtree | None = None,
    allowed: np.ndarray | None = None,
) -> Snapped:
    """The nearest segment of each point within ``max_distance`` metres and its position on it.

    Ties (a point at a crossing, as near to several segments) go to the segment of lowest
    index. ``allowed`` restricts the segments a point may snap to (bool per segment).
    """
    if max_distance <= 0:
        raise ParameterError("La distance d'accrochage au réseau doit être positive (en mètres).")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    segment = np.full(n, -1, dtype=np.int64)
    fraction = np.full(n, np.nan)
    distance = np.full(n, np.nan)
    if n == 0 or len(lines) == 0:
        return Snapped(segment, fraction, distance)
    pool = np.arange(len(lines)) if allowed is None else np.flatnonzero(allowed)
    lines = np.asarray(lines, dtype=object)
    if tree is None or allowed is not None:
        tree = shapely.STRtree(lines[pool])
    points = shapely.points(x, y)
    # Candidates: the segments whose envelope meets the point's square of side 2 x max_distance
    # (an index query, no distance), then the exact distance to each; by chunks of points.
    for lo in range(0, n, SNAP_CHUNK):
        hi = min(lo + SNAP_CHUNK, n)
        boxes = shapely.box(
            x[lo:hi] - max_distance, y[lo:hi] - max_distance, x[lo:hi] + max_distance, y[lo:hi] + max_distance
        )
        p, cand = tree.query(boxes)
        if len(p) == 0:
            continue
        seg = pool[cand]
        p = p + lo
        dist = shapely.distance(points[p], lines[seg])
        near = dist <= max_distance
        p, seg, dist = p[near], seg[near], dist[near]
        # One segment per point: the nearest, ties to the lowest segment index.
        order = np.lexsort((seg, dist, p))
        p, seg, dist = p[order], seg[order], dist[order]
        first = np.ones(len(p), dtype=bool)
        first[1:] = p[1:] != p[:-1]
        p, seg, dist = p[first], seg[first], dist[first]
        along = shapely.line_locate_point(lines[seg], points[p])
        total = shapely.length(lines[seg])
        segment[p] = seg
        fraction[p] = np.where(total > 0, along / np.where(total > 0, total, 1.0), 0.0)
        distance[p] = dist
    return Snapped(segment, fraction, distance)


def snapped_from_points(
    points: gpd.GeoSeries | gpd.GeoDataFrame, net: Network, *, max_distance: float
) -> Snapped:
    """:func:`snap_points` for point geometries in the network's metric CRS."""
    require_metric(points)
    geom = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    return snap_points(geom.x.to_numpy(), geom.y.to_numpy(), net.lines, max_distance=max_distance)


# ---------------------------------------------------------------------------------------
# Travel times
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Times:
    """Travel time to every node from the nearest source, and which source it is (-1: none)."""

    seconds: np.ndarray  # per node, inf when not reached (within the limit)
    source: np.ndarray  # per node, index of the source that reaches it first


def times_from_sources(
    net: Network, snapped: Snapped, *, limit: float = np.inf, each: bool = False
) -> Times | list[Times]:
    """Dijkstra from sources placed on their segments (see the module docstring).

    Parameters
    ----------
    net : Network
    snapped : Snapped
        The sources on the network (:func:`snap_points`); a source not snapped reaches nothing.
    limit : float
        Seconds beyond which nodes are not explored (inf: all).
    each : bool
        One :class:`Times` per source (its own isochrones) instead of the nearest source's.

    Returns
    -------
    Times or list of Times
    """
    k = len(snapped.segment)
    n = net.n_nodes
    ok = np.flatnonzero(snapped.found)
    seg = snapped.segment[ok]
    f = snapped.fraction[ok]
    t = net.seconds[seg]
    # Virtual node n + i for source ok[i]: to the segment's last node along the drawing order
    # (forward), to its first against it (backward); a source at one end is at that node.
    to_v = net.forward[seg] | (f >= 1.0)
    to_u = net.backward[seg] | (f <= 0.0)
    rows = np.concatenate([n + np.arange(len(ok))[to_v], n + np.arange(len(ok))[to_u]])
    cols = np.concatenate([net.v[seg][to_v], net.u[seg][to_u]])
    data = np.concatenate([((1 - f) * t)[to_v], (f * t)[to_u]])
    g = net.graph.tocoo()
    big = sparse.csr_matrix(
        (
            np.concatenate([g.data, np.maximum(data, MIN_SECONDS)]),
            (np.concatenate([g.row, rows]), np.concatenate([g.col, cols])),
        ),
        shape=(n + len(ok), n + len(ok)),
    )
    virtual = n + np.arange(len(ok))
    if each:
        out: list[Times] = []
        seconds_all = (
            csgraph.dijkstra(big, directed=True, indices=virtual, limit=limit)
            if len(ok)
            else np.empty((0, n))
        )
        pos = {int(s): i for i, s in enumerate(ok)}
        for s in range(k):
            if s in pos:
                secs = seconds_all[pos[s], :n]
                out.append(Times(secs, np.where(np.isfinite(secs), s, -1)))
            else:
                out.append(Times(np.full(n, np.inf), np.full(n, -1)))
        return out
    if len(ok) == 0:
        return Times(np.full(n, np.inf), np.full(n, -1))
    dist, _, sources = csgraph.dijkstra(
        big, directed=True, indices=virtual, limit=limit, min_only=True, return_predecessors=True
    )
    src = np.where(sources[:n] >= n, ok[np.maximum(sources[:n] - n, 0)], -1)
    return Times(dist[:n], np.where(np.isfinite(dist[:n]), src, -1))


def times_at_points(net: Network, times: Times, snapped: Snapped) -> tuple[np.ndarray, np.ndarray]:
    """Time of arrival at points on their segments (inf when not snapped or not reached) and
    the source that arrives first."""
    n = len(snapped.segment)
    out = np.full(n, np.inf)
    who = np.full(n, -1, dtype=np.int64)
    ok = np.flatnonzero(snapped.found)
    seg = snapped.segment[ok]
    via_u, via_v = _arrivals(net, times, seg, snapped.fraction[ok])
    out[ok] = np.minimum(via_u, via_v)
    who[ok] = np.where(via_u <= via_v, times.source[net.u[seg]], times.source[net.v[seg]])
    who[~np.isfinite(out)] = -1
    return out, who


def _arrivals(net: Network, times: Times, seg: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Time of arrival at fraction ``f`` of segments ``seg``: from their first node (driving
    forward) and from their last one (driving backward); inf where that way is not allowed (a
    point at an end is at that node, whatever the direction)."""
    t = net.seconds[seg]
    via_u = np.where(net.forward[seg] | (f <= 0.0), times.seconds[net.u[seg]] + f * t, np.inf)
    via_v = np.where(net.backward[seg] | (f >= 1.0), times.seconds[net.v[seg]] + (1 - f) * t, np.inf)
    return via_u, via_v


# ---------------------------------------------------------------------------------------
# Isochrones
# ---------------------------------------------------------------------------------------
def _network_samples(net: Network, times: Times, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step`` metres along every segment (and its vertices) with their times."""
    coords, index = shapely.get_coordinates(net.lines, return_index=True)
    seg_len = net.length
    along = shapely.line_locate_point(net.lines[index], shapely.points(coords))
    frac_v = np.where(seg_len[index] > 0, along / np.where(seg_len[index] > 0, seg_len[index], 1.0), 0.0)
    # Points every ``step`` metres.
    count = np.floor(seg_len / step).astype(np.int64)
    seg = np.repeat(np.arange(len(seg_len)), count)
    k = np.arange(len(seg)) - np.repeat(np.cumsum(count) - count, count) + 1
    dist_along = k * step
    pts = shapely.line_interpolate_point(net.lines[seg], dist_along)
    extra = shapely.get_coordinates(pts)
    frac_e = np.where(seg_len[seg] > 0, dist_along / np.where(seg_len[seg] > 0, seg_len[seg], 1.0), 0.0)
    all_seg = np.concatenate([index, seg])
    all_f = np.clip(np.concatenate([frac_v, frac_e]), 0.0, 1.0)
    xy = np.concatenate([coords, extra])
    via_u, via_v = _arrivals(net, times, all_seg, all_f)
    return xy, np.minimum(via_u, via_v)


def isochrone_lattice(
    net: Network,
    times: Times,
    bounds: tuple[float, float, float, float],
    *,
    cell: float = 250.0,
    reach: float = 500.0,
    step: float = 100.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time of each lattice cell (seconds; inf beyond ``reach`` of a reached road).

    Returns
    -------
    xs, ys, seconds
        Cell centres (1-D) and the (ny, nx) times.
    """
    xy, secs = _network_samples(net, times, step)
    reached = np.isfinite(secs)
    xs = np.arange(bounds[0] + cell / 2, bounds[2], cell)
    ys = np.arange(bounds[1] + cell / 2, bounds[3], cell)
    grid = np.full((len(ys), len(xs)), np.inf)
    if not reached.any() or len(xs) == 0 or len(ys) == 0:
        return xs, ys, grid
    tree = cKDTree(xy[reached])
    gx, gy = np.meshgrid(xs, ys)
    dist, idx = tree.query(np.column_stack([gx.ravel(), gy.ravel()]), distance_upper_bound=reach, workers=-1)
    ok = np.isfinite(dist)
    flat = grid.reshape(-1)
    flat[ok] = secs[reached][idx[ok]]
    return xs, ys, grid


def isochrone_polygons(
    xs: np.ndarray, ys: np.ndarray, seconds: np.ndarray, minutes: tuple[int, ...]
) -> list[shapely.Geometry]:
    """The area within each number of ``minutes`` (nested: the 20-minute area holds the
    10-minute one), as the filled contour of the lattice (``contourpy``)."""
    import contourpy

    z = np.where(np.isfinite(seconds), seconds / 60.0, np.nan)
    if len(xs) < 2 or len(ys) < 2 or not np.isfinite(z).any():
        return [shapely.Polygon() for _ in minutes]
    # Cells beyond reach: above every band (a NaN would cut holes along the lattice's mask).
    top = float(max(minutes)) * 10.0 + 1.0
    z = np.where(np.isnan(z), top, z)
    pad = np.full((z.shape[0] + 2, z.shape[1] + 2), top)
    pad[1:-1, 1:-1] = z
    dx = xs[1] - xs[0]
    dy = ys[1] - ys[0]
    px = np.concatenate([[xs[0] - dx], xs, [xs[-1] + dx]])
    py = np.concatenate([[ys[0] - dy], ys, [ys[-1] + dy]])
    gen = contourpy.contour_generator(px, py, pad, fill_type=contourpy.FillType.OuterOffset)
    out = []
    for m in minutes:
        points, offsets = gen.filled(-1.0, float(m))
        polys = []
        for pts, offs in zip(points, offsets, strict=True):
            rings = [pts[offs[i] : offs[i + 1]] for i in range(len(offs) - 1)]
            rings = [r for r in rings if len(r) >= 4]
            if rings:
                polys.append(shapely.Polygon(rings[0], rings[1:]))
        out.append(shapely.make_valid(shapely.MultiPolygon(polys)) if polys else shapely.Polygon())
    return out


def isochrones_from_sources(
    net: Network,
    snapped: Snapped,
    bounds: tuple[float, float, float, float],
    *,
    minutes: tuple[int, ...] = (10, 20, 30),
    cell: float = 250.0,
    reach: float = 500.0,
) -> pd.DataFrame:
    """The areas within ``minutes`` of the nearest source: one row a band (``minutes``,
    ``geometry``), nested."""
    times = times_from_sources(net, snapped, limit=max(minutes) * 60.0 * 1.01)
    xs, ys, grid = isochrone_lattice(net, times, bounds, cell=cell, reach=reach)
    polys = isochrone_polygons(xs, ys, grid, minutes)
    # A contour of a lattice is exact to a cell at best: its vertices within a fifth of a cell of
    # a straight line say nothing more (the Mayenne's three bands: 25,000 vertices, 1 MB sent).
    polys = [shapely.simplify(p, cell / 5.0, preserve_topology=True) for p in polys]
    return pd.DataFrame({"minutes": list(minutes), "geometry": polys})
