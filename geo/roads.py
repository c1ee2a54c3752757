"""Road networks as geography: clipped to a département, measured in metres.

A network is imported once per département (:mod:`usecases.roads`): the segments that reach
the département's outline widened by :data:`ROAD_MARGIN_M` are kept, cut at that widened
outline, so that the roads leaving the département still join its units to the communes of
its border (a brigade's nearest road may run just outside).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from core.crs import WGS84
from core.errors import TerritoryError

#: Roads kept beyond the département's outline (metres).
ROAD_MARGIN_M = 2_000.0


def area_bbox_wgs84(
    area: gpd.GeoSeries | gpd.GeoDataFrame, *, margin_m: float = ROAD_MARGIN_M
) -> tuple[float, ...]:
    """``(lon_min, lat_min, lon_max, lat_max)`` of ``area`` (metric CRS) widened by ``margin_m``."""
    box = shapely.box(*area.total_bounds).buffer(margin_m)
    return tuple(gpd.GeoSeries([box], crs=area.crs).to_crs(WGS84).total_bounds)


def roads_clipped_to_area(
    roads: gpd.GeoDataFrame, area: shapely.Geometry, *, crs: str, margin_m: float = ROAD_MARGIN_M
) -> tuple[gpd.GeoDataFrame, int]:
    """The segments of ``roads`` within ``margin_m`` of ``area``, cut there, in ``crs``.

    Parameters
    ----------
    roads : GeoDataFrame
        Road segments (any CRS).
    area : shapely.Geometry
        The département, in ``crs`` (metric).
    crs : str
        The metric CRS of the result.
    margin_m : float
        Width kept around ``area``.

    Returns
    -------
    roads, outside
        The segments kept (a segment cut in several parts gives one row a part; ``longueur_m``
        added) and the number of segments left out, wholly beyond the margin.

    Raises
    ------
    TerritoryError
        No segment reaches the area: the file does not cover the département.
    """
    metric = roads.to_crs(crs)
    zone = shapely.buffer(area, margin_m)
    shapely.prepare(zone)
    geoms = metric.geometry.to_numpy()
    inside = shapely.contains(zone, geoms)
    touches = ~inside & shapely.intersects(zone, geoms)
    keep = inside | touches
    if not keep.any():
        raise TerritoryError(
            "Aucune route du fichier n'atteint ce département : importez le réseau de la région (OSM) "
            "ou du département (BD TOPO) qui le contient."
        )
    clipped = geoms.copy()
    clipped[touches] = shapely.intersection(geoms[touches], zone)
    out = metric.iloc[np.flatnonzero(keep)].copy()
    out = out.set_geometry(clipped[keep])
    out = out.explode(index_parts=False)
    out = out[out.geom_type == "LineString"]
    out = out[~out.geometry.is_empty].reset_index(drop=True)
    out["longueur_m"] = out.geometry.length.to_numpy()
    out = out[out["longueur_m"] > 0].reset_index(drop=True)
    return out, int((~keep).sum())
