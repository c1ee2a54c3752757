"""Candidate and existing camera sites: lattice, road network, uploaded point files."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from errors import IncidentFileError
from geo.incident_io import _numbers, _text, mapping_from_columns, read_incident_file


def candidates_from_lattice(territory: gpd.GeoDataFrame, spacing: float) -> gpd.GeoDataFrame:
    """Square lattice of candidate sites (metres) inside the territory."""
    if spacing <= 0:
        raise ValueError("L'espacement du maillage doit être positif (en mètres).")
    area = shapely.union_all(territory.geometry.to_numpy())
    minx, miny, maxx, maxy = area.bounds
    xs = np.arange(minx + spacing / 2, maxx, spacing)
    ys = np.arange(miny + spacing / 2, maxy, spacing)
    xx, yy = np.meshgrid(xs, ys)
    shapely.prepare(area)
    keep = shapely.contains_xy(area, xx.ravel(), yy.ravel())
    pts = gpd.points_from_xy(xx.ravel()[keep], yy.ravel()[keep], crs=territory.crs)
    return gpd.GeoDataFrame({"origine": np.full(len(pts), "maillage")}, geometry=pts, crs=territory.crs)


def candidates_from_roads(
    roads: gpd.GeoDataFrame, *, along: float = 100.0, top_share: float = 0.2
) -> gpd.GeoDataFrame:
    """Intersections of a road network, and points along its busiest axes.

    Parameters
    ----------
    roads : GeoDataFrame
        Lines in a metric CRS (OSM extract, IGN BD TOPO...). The "busiest" axes are the
        ones of the most important classes when a ``highway`` (OSM) or ``importance``
        (BD TOPO) column exists, else the longest lines.
    along : float
        Spacing of the points along the busiest axes, metres.
    top_share : float
        Share of the network (by length) treated as busiest axes.
    """
    lines = roads[roads.geometry.notna()].explode(index_parts=False)
    lines = lines[lines.geom_type.isin(["LineString"])]
    if lines.empty:
        raise IncidentFileError(
            "Aucune ligne dans le réseau routier : fournissez un fichier de tronçons (lignes)."
        )
    coords = shapely.get_coordinates(shapely.boundary(lines.geometry.to_numpy()))
    ends, counts = np.unique(np.round(coords, 1), axis=0, return_counts=True)
    nodes = ends[counts >= 3]
    rank = None
    if "highway" in lines.columns:
        order = ["motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential"]
        rank = lines["highway"].astype(str).map({k: i for i, k in enumerate(order)}).fillna(len(order))
    elif "importance" in lines.columns:
        rank = pd.to_numeric(lines["importance"], errors="coerce").fillna(9)
    length = lines.length
    key = rank if rank is not None else -length
    ordered = lines.assign(_k=key.to_numpy(), _l=length.to_numpy()).sort_values("_k")
    busiest = ordered[ordered["_l"].cumsum() <= top_share * length.sum() + ordered["_l"].iloc[0]]
    along_pts = []
    for geom in busiest.geometry:
        d = np.arange(along / 2, geom.length, along)
        along_pts.append(shapely.get_coordinates(shapely.line_interpolate_point(geom, d)))
    along_xy = np.vstack(along_pts) if along_pts else np.zeros((0, 2))
    xy = np.vstack([nodes, along_xy])
    origin = ["carrefour"] * len(nodes) + ["axe principal"] * len(along_xy)
    return gpd.GeoDataFrame(
        {"origine": origin}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=roads.crs
    )


def roads_from_bytes(data: bytes, filename: str) -> gpd.GeoDataFrame:
    """Read a road network (GeoJSON or GeoPackage lines)."""
    import pyogrio

    try:
        gdf = pyogrio.read_dataframe(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - GDAL raises many types
        raise IncidentFileError(
            f"Lecture impossible du réseau routier « {filename} » ({exc}) : fournissez un GeoJSON ou un GeoPackage de lignes."
        ) from exc
    if gdf.crs is None:
        raise IncidentFileError(
            f"« {filename} » n'a pas de système de coordonnées : enregistrez-le avec son CRS."
        )
    return gdf


def sites_from_bytes(data: bytes, filename: str, *, crs: str) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read a list of points (candidate or existing cameras): geometry, lat/lon or x/y.

    Returns
    -------
    sites : GeoDataFrame
        Points in ``crs`` with the file's other columns.
    rejected : DataFrame
        ``ligne``, ``motif`` for every row without readable coordinates.
    """
    raw = read_incident_file(data, filename)
    frame = raw.frame.reset_index(drop=True)
    if raw.geometry is not None:
        geom = raw.geometry.reset_index(drop=True)
        if geom.crs is None:
            raise IncidentFileError(f"« {filename} » n'a pas de système de coordonnées.")
        geom = geom.to_crs(crs)
        ok = (geom.geom_type == "Point").to_numpy() & ~geom.is_empty.to_numpy()
        pts = geom
    else:
        mp = mapping_from_columns(list(frame.columns))
        if mp.get("latitude") and mp.get("longitude"):
            x, y, src = (
                _numbers(_text(frame, mp["longitude"])),
                _numbers(_text(frame, mp["latitude"])),
                "EPSG:4326",
            )
        elif mp.get("x") and mp.get("y"):
            x, y = _numbers(_text(frame, mp["x"])), _numbers(_text(frame, mp["y"]))
            src = crs if (x.abs().median() > 1000) else "EPSG:4326"
        else:
            raise IncidentFileError(
                f"« {filename} » : colonnes de coordonnées introuvables (latitude/longitude ou x/y). "
                f"Colonnes trouvées : {', '.join(map(str, frame.columns))}."
            )
        ok = (x.notna() & y.notna()).to_numpy()
        pts = gpd.GeoSeries(gpd.points_from_xy(x.fillna(0), y.fillna(0)), crs=src).to_crs(crs)
    rejected = pd.DataFrame({"ligne": raw.row_numbers[~ok], "motif": "coordonnées absentes ou illisibles"})
    sites = gpd.GeoDataFrame(frame[ok].reset_index(drop=True), geometry=pts[ok].to_numpy(), crs=crs)
    if len(raw.rejected):
        rejected = pd.concat([rejected, raw.rejected[["ligne", "motif"]]], ignore_index=True)
    return sites, rejected
