"""Streets as places: the name of a place a mayor can find, candidate camera sites on the
network, incidents per street segment and their concentration.

* :func:`descriptions_of_points`: « angle Rue X / Rue Y » when a point is at a crossing of two
  named streets, « Rue X, à 40 m de l'angle avec Rue Y » along a street, « à 30 m de Rue X »
  off it, nothing beyond ``reach``;
* :func:`candidates_from_network`: the crossings (three streets or more) and points every
  ``along`` metres along the main roads (importance 1 to 3), as the référents sûreté are asked
  to target « les voies et points de passage stratégiques »;
* :func:`counts_by_segment`: incidents snapped to their nearest segment within ``max_distance``
  metres, counted per segment and per km; :func:`concentration_of_counts`: the share of
  segments that hold half and a quarter of the incidents (Weisburd's « law of crime
  concentration »: 2-6 % and 0.4-1.6 % in the cities studied).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from analysis.network import Network, network_from_roads, snap_points
from core.crs import require_metric

#: Importance of the main roads (points along them are camera candidates).
MAIN_ROADS = 3
#: A point this close to a crossing is « at » it (metres).
CORNER_M = 30.0
#: Farthest a named street is looked for (metres).
REACH_M = 150.0
#: Farthest a crossing is named along the street (« à 40 m de l'angle avec … », metres).
ALONG_M = 200.0
#: Farthest an incident is snapped to a street (metres): a geocoded address lies on the
#: building, 10 to 30 m from the street's centre line.
SNAP_M = 50.0


@dataclass(frozen=True)
class StreetIndex:
    """A département's streets ready to be queried: the segments, their graph and their names."""

    roads: gpd.GeoDataFrame  # metric CRS, as imported (``nom``, ``importance``…)
    net: Network
    tree: shapely.STRtree
    names: np.ndarray  # per segment: its name, or None
    crossing: np.ndarray  # per node: three streets or more meet there
    node_names: dict[int, tuple[str, ...]]  # named nodes -> their streets' names, main first
    corners: np.ndarray  # the crossings of two named streets or more (node indices)
    corner_tree: cKDTree | None  # their positions, for « angle Rue X / Rue Y » (None: none)


def street_index_from_roads(roads: gpd.GeoDataFrame) -> StreetIndex:
    """The :class:`StreetIndex` of a road table (:data:`readers.road_model.ROAD_COLUMNS`, metric CRS)."""
    require_metric(roads)
    roads = roads.reset_index(drop=True)
    net = network_from_roads(roads)
    names = np.array(
        [
            n.strip() if isinstance(n, str) and n.strip() else None
            for n in roads["nom"].to_numpy(dtype=object)
        ],
        dtype=object,
    )
    crossing = net.degree() >= 3
    named = names != None  # noqa: E711 - elementwise
    table = pd.DataFrame(
        {
            "node": np.concatenate([net.u[named], net.v[named]]),
            "nom": np.concatenate([names[named], names[named]]),
            "importance": np.concatenate([roads["importance"].to_numpy()[named]] * 2),
        }
    )
    table = table.sort_values(["node", "importance", "nom"], kind="stable").drop_duplicates(["node", "nom"])
    node_names = {int(k): tuple(v) for k, v in table.groupby("node", sort=False)["nom"]}
    two_names = np.zeros(net.n_nodes, dtype=bool)
    two_names[[k for k, v in node_names.items() if len(v) >= 2]] = True
    corners = np.flatnonzero(crossing & two_names)
    corner_tree = cKDTree(np.column_stack([net.x[corners], net.y[corners]])) if len(corners) else None
    return StreetIndex(
        roads, net, shapely.STRtree(net.lines), names, crossing, node_names, corners, corner_tree
    )


def _metres(d: float) -> str:
    return f"{int(round(d / 10.0) * 10)} m" if d >= 15 else f"{int(round(d))} m"


def descriptions_of_points(
    index: StreetIndex, x: np.ndarray, y: np.ndarray, *, corner: float = CORNER_M, reach: float = REACH_M
) -> list[str | None]:
    """Where each point is, by its streets (see the module docstring); None beyond ``reach``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    out: list[str | None] = [None] * len(x)
    if len(x) == 0:
        return out
    net = index.net
    if index.corner_tree is not None:
        d, k = index.corner_tree.query(np.column_stack([x, y]), distance_upper_bound=corner)
        for i in np.flatnonzero(np.isfinite(d)):
            a, b = index.node_names[int(index.corners[k[i]])][:2]
            out[i] = f"angle {a} / {b}"
    named = index.names != None  # noqa: E711 - elementwise
    rest = np.array([o is None for o in out])
    if not rest.any() or not named.any():
        return out
    snapped = snap_points(x[rest], y[rest], net.lines, max_distance=reach, allowed=named)
    for j, i in enumerate(np.flatnonzero(rest)):
        s = snapped.segment[j]
        if s < 0:
            continue
        name = index.names[s]
        f, length = snapped.fraction[j], net.length[s]
        # The nearer end of the segment where another named street meets this one.
        ends = []
        for node, along in ((net.u[s], f * length), (net.v[s], (1 - f) * length)):
            others = [n for n in index.node_names.get(int(node), ()) if n != name]
            if others and index.crossing[node] and along <= ALONG_M:
                ends.append((along, others[0]))
        text = name
        if ends:
            along, other = min(ends)
            text = f"{name}, à {_metres(along)} de l'angle avec {other}"
        off = snapped.distance[j]
        out[i] = text if off <= 20.0 else f"à {_metres(off)} de {text}"
    return out


def candidates_from_network(
    index: StreetIndex, *, along: float = 100.0, main: int = MAIN_ROADS
) -> gpd.GeoDataFrame:
    """Crossings and points every ``along`` metres along the main roads (``origine``: « carrefour »
    or « axe principal »), in the network's CRS."""
    net = index.net
    nodes = np.flatnonzero(index.crossing)
    major = np.flatnonzero(index.roads["importance"].to_numpy() <= main)
    counts = np.floor(net.length[major] / along).astype(np.int64)
    seg = np.repeat(major, counts)
    k = np.arange(len(seg)) - np.repeat(np.cumsum(counts) - counts, counts)
    pts = shapely.get_coordinates(shapely.line_interpolate_point(net.lines[seg], along / 2 + k * along))
    xy = np.vstack([np.column_stack([net.x[nodes], net.y[nodes]]), pts.reshape(-1, 2)])
    xy, first = np.unique(np.round(xy, 1), axis=0, return_index=True)
    origin = np.array(["carrefour"] * len(nodes) + ["axe principal"] * len(pts), dtype=object)[first]
    return gpd.GeoDataFrame(
        {"origine": origin}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=index.roads.crs
    )


def counts_by_segment(
    index: StreetIndex, x: np.ndarray, y: np.ndarray, *, max_distance: float = SNAP_M
) -> tuple[pd.DataFrame, int]:
    """Incidents per street segment (indexed like ``index.roads``) and the incidents farther
    than ``max_distance`` from any segment (not counted on a street).

    Returns
    -------
    table, off_street
        ``faits``, ``longueur_m``, ``faits_par_km`` per segment; the incidents not snapped.
    """
    snapped = snap_points(x, y, index.net.lines, max_distance=max_distance, tree=index.tree)
    counts = np.bincount(snapped.segment[snapped.found], minlength=len(index.net.lines))
    length = index.net.length
    table = pd.DataFrame(
        {
            "faits": counts,
            "longueur_m": length,
            "faits_par_km": np.where(length > 0, counts / np.maximum(length, 1e-9) * 1000.0, 0.0),
        },
        index=index.roads.index,
    )
    return table, int((~snapped.found).sum())


@dataclass(frozen=True)
class Concentration:
    """How concentrated the incidents are on the street segments."""

    segments: int  # segments of the network
    with_incidents: int
    share_for_half: float  # share of all segments that hold 50 % of the incidents
    share_for_quarter: float
    share_of_length_for_half: float  # the same by length


def concentration_of_counts(counts: np.ndarray, lengths: np.ndarray) -> Concentration:
    """The smallest share of segments (busiest first) that holds half and a quarter of the
    incidents, over every segment of the network (as Weisburd 2015 counts them)."""
    counts = np.asarray(counts, dtype=float)
    lengths = np.asarray(lengths, dtype=float)
    n = len(counts)
    total = counts.sum()
    if n == 0 or total == 0:
        return Concentration(n, 0, float("nan"), float("nan"), float("nan"))
    order = np.argsort(-counts, kind="stable")
    cum = np.cumsum(counts[order])

    def needed(part: float) -> int:
        return int(np.searchsorted(cum, part * total - 1e-9)) + 1

    half = needed(0.5)
    return Concentration(
        segments=n,
        with_incidents=int((counts > 0).sum()),
        share_for_half=half / n,
        share_for_quarter=needed(0.25) / n,
        share_of_length_for_half=float(lengths[order[:half]].sum() / lengths.sum()),
    )
