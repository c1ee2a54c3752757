"""Candidate camera sites built from geography: a lattice near the demand (those on a road
network: :func:`analysis.streets.candidates_from_network`)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from core.errors import ParameterError


def candidates_from_lattice(
    territory: gpd.GeoDataFrame,
    spacing: float,
    *,
    demand_xy: np.ndarray | None = None,
    radius: float | None = None,
    max_sites: int | None = None,
) -> gpd.GeoDataFrame:
    """Square lattice of candidate sites (metres) inside the territory.

    Parameters
    ----------
    territory : GeoDataFrame
        Polygons in a metric CRS; the lattice starts at their south-west corner.
    spacing : float
        Distance between neighbouring nodes, metres.
    demand_xy : ndarray, optional
        Demand points (metres, same CRS). With ``radius``, only the nodes within ``radius``
        of a demand point are kept: a camera anywhere else sees nothing. The nodes are
        enumerated around the demand, never over the whole bounding box, so a fine lattice
        over a whole département stays small.
    radius : float, optional
        Coverage radius, metres (with ``demand_xy``).
    max_sites : int, optional
        At most this many nodes: the spacing grows until they fit.

    Returns
    -------
    GeoDataFrame
        One point per node, column ``origine`` = ``"maillage"``; the spacing used is in
        ``attrs["espacement"]``.
    """
    if not spacing > 0:
        raise ParameterError("L'espacement du maillage doit être positif (en mètres).")
    if (demand_xy is None) != (radius is None) or (radius is not None and not radius > 0):
        raise ParameterError("Le maillage près de la demande demande les points et un rayon positif.")
    area = shapely.union_all(territory.geometry.to_numpy())
    shapely.prepare(area)
    origin = np.asarray(area.bounds[:2]) + spacing / 2
    if demand_xy is not None and max_sites is not None and len(demand_xy):
        # A fine lattice and a large radius could mean millions of nodes to enumerate before
        # finding that they are too many: estimate the count from a coarse lattice (nodes
        # scale as 1 / spacing²) and start from a spacing that fits.
        coarse = max(float(spacing), float(radius) / 3.0)
        n = len(_nodes_near_points(np.asarray(demand_xy, float), origin, coarse, float(radius)))
        estimate = n * (coarse / spacing) ** 2
        if estimate > max_sites:
            spacing *= float(np.sqrt(estimate / max_sites))
            origin = np.asarray(area.bounds[:2]) + spacing / 2
    while True:
        if demand_xy is None:
            xy = _nodes_in_bounds(area.bounds, origin, spacing)
        else:
            xy = _nodes_near_points(np.asarray(demand_xy, float), origin, spacing, float(radius))
        xy = xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]
        if max_sites is None or len(xy) <= max_sites:
            break
        spacing *= 1.02 * float(np.sqrt(len(xy) / max_sites))
        origin = np.asarray(area.bounds[:2]) + spacing / 2
    sites = gpd.GeoDataFrame(
        {"origine": np.full(len(xy), "maillage")},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=territory.crs,
    )
    sites.attrs["espacement"] = float(spacing)
    return sites


#: Default largest candidate lattice (nodes) on the Vidéoprotection page and in its notes.
MAX_LATTICE_SITES = 25_000

#: Largest boolean raster (cells) marked at once when enumerating lattice nodes near points.
RASTER_CELLS = 20_000_000


def _nodes_in_bounds(bounds: tuple[float, ...], origin: np.ndarray, spacing: float) -> np.ndarray:
    xs = np.arange(origin[0], bounds[2], spacing)
    ys = np.arange(origin[1], bounds[3], spacing)
    xx, yy = np.meshgrid(xs, ys)
    return np.column_stack([xx.ravel(), yy.ravel()])


def _nodes_near_points(xy: np.ndarray, origin: np.ndarray, spacing: float, radius: float) -> np.ndarray:
    """Lattice nodes within ``radius`` of at least one point (exact)."""
    from scipy.spatial import cKDTree

    if len(xy) == 0:
        return np.zeros((0, 2))
    cells = np.unique(np.floor((xy - origin) / spacing).astype(np.int64), axis=0)
    # Offsets (in nodes) from a point's cell that may hold a node within the radius.
    k = int(np.ceil(radius / spacing)) + 1
    di, dj = np.meshgrid(np.arange(-k, k + 2), np.arange(-k, k + 2))
    keep = np.hypot(np.maximum(np.abs(di - 0.5) - 0.5, 0), np.maximum(np.abs(dj - 0.5) - 0.5, 0)) <= (
        radius / spacing + 1e-9
    )
    offsets = np.column_stack([di[keep], dj[keep]])
    # Mark the candidate nodes on a boolean raster (one write per cell and offset, no sort),
    # band by band so that the raster stays under ~20 million cells, then keep the nodes
    # really within the radius of a point.
    low = cells.min(axis=0) + offsets.min(axis=0)
    high = cells.max(axis=0) + offsets.max(axis=0)
    width = int(high[1] - low[1] + 1)
    band = max(1, RASTER_CELLS // width)
    tree = cKDTree(xy)
    found = []
    for b0 in range(int(low[0]), int(high[0]) + 1, band):
        b1 = min(b0 + band, int(high[0]) + 1)  # rows [b0, b1) of the lattice
        near = cells[(cells[:, 0] >= b0 - offsets[:, 0].max()) & (cells[:, 0] < b1 - offsets[:, 0].min())]
        marked = np.zeros((b1 - b0, width), dtype=bool)
        for di_, dj_ in offsets:
            i = near[:, 0] + di_ - b0
            ok = (i >= 0) & (i < b1 - b0)
            marked[i[ok], near[ok, 1] + dj_ - low[1]] = True
        nodes = np.argwhere(marked) + [b0, low[1]]
        dist, _ = tree.query(origin + nodes * spacing, distance_upper_bound=radius * (1 + 1e-12))
        found.append(nodes[np.isfinite(dist)])
    return origin + np.vstack(found) * spacing
