"""Step 3, coordinates: geometry, latitude/longitude or x/y, swapped columns, points far away."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from core.crs import WGS84, metric_crs_for_departement
from readers.incident_files import RawTable
from readers.incident_steps.columns import _has_xy_columns
from readers.incident_steps.log import ImportLog
from readers.incident_steps.text import numbers_from_text, text_column

#: Degrees around the département beyond which a point cannot belong to its data.
_MARGIN_DEGREES = 2.0


# ---------------------------------------------------------------------------------------
# 3. Coordinates
# ---------------------------------------------------------------------------------------
@dataclass
class Located:
    """WGS84 coordinates per row and whether the row has a usable point."""

    lon: pd.Series
    lat: pd.Series
    located: pd.Series


def _near_departement(communes: gpd.GeoDataFrame) -> Callable[[pd.Series, pd.Series], pd.Series]:
    """Test of (lon, lat) within a few degrees of the département's communes."""
    x0, y0, x1, y1 = communes.total_bounds

    def near(x: pd.Series, y: pd.Series) -> pd.Series:
        return x.between(x0 - _MARGIN_DEGREES, x1 + _MARGIN_DEGREES) & y.between(
            y0 - _MARGIN_DEGREES, y1 + _MARGIN_DEGREES
        )

    return near


def _points_from_geometry(geometry: gpd.GeoSeries, index: pd.Index, log: ImportLog) -> Located:
    """Points of a geographic file (one-point MultiPoints accepted, other shapes rejected)."""
    geom = geometry.reset_index(drop=True)
    if geom.crs is not None and not geom.crs.equals(WGS84):
        geom = geom.to_crs(WGS84)
    arr = geom.to_numpy()
    single = shapely.get_type_id(arr) == 4  # MultiPoint of one point
    arr = np.where(single & (shapely.get_num_geometries(arr) == 1), shapely.get_geometry(arr, 0), arr)
    kind = shapely.get_type_id(arr)
    is_point = (kind == 0) & ~shapely.is_empty(arr)
    non_point = ~pd.isna(arr) & ~is_point & ~shapely.is_empty(arr)
    names = pd.Series(kind).map({1: "LineString", 3: "Polygon", 4: "MultiPoint", 6: "MultiPolygon"})
    log.reject(non_point, "geometrie", "géométrie non ponctuelle (un point par fait attendu)", names)
    points = np.where(is_point, arr, None)
    lon = pd.Series(np.where(is_point, shapely.get_x(points), np.nan), index=index)
    lat = pd.Series(np.where(is_point, shapely.get_y(points), np.nan), index=index)
    return Located(lon, lat, pd.Series(is_point, index=index))


def _projected_points(cx: pd.Series, cy: pd.Series, use: pd.Series, metric: str, log: ImportLog) -> Located:
    """Metric x/y (Lambert-93 or the territory's projection) to WGS84; x/y swaps corrected."""
    # x and y swapped in Lambert-93: the northing (millions) in the x column.
    swap = use & (cx > cy) & (cx > 1e6) if metric == "EPSG:2154" else use & False
    cx, cy = cx.where(~swap, cy), cy.where(~swap, cx)
    log.correct(swap, "coordonnees", "x et y inversés : permutés")
    lon = pd.Series(np.nan, index=cx.index)
    lat = pd.Series(np.nan, index=cx.index)
    tr = Transformer.from_crs(metric, WGS84, always_xy=True)
    lon[use], lat[use] = tr.transform(cx[use].to_numpy(), cy[use].to_numpy())
    return Located(lon, lat, use)


def _degree_points(cx: pd.Series, cy: pd.Series, use: pd.Series, near: Callable, log: ImportLog) -> Located:
    """Longitude/latitude in degrees; swapped pairs (only plausible swapped) corrected."""
    swapped = use & ~near(cx, cy) & near(cy, cx)
    if swapped.any():
        log.correct(swapped, "coordonnees", "latitude et longitude inversées : permutées")
        log.warnings.append(
            f"{int(swapped.sum())} ligne(s) avec latitude et longitude inversées : corrigées "
            "(voir la liste des corrections)."
        )
    lon = pd.Series(np.nan, index=cx.index)
    lat = pd.Series(np.nan, index=cx.index)
    lon[use] = cx.where(~swapped, cy)[use]
    lat[use] = cy.where(~swapped, cx)[use]
    return Located(lon, lat, use)


def _auto_mode(cx: pd.Series, cy: pd.Series, use: pd.Series, log: ImportLog) -> str:
    """Lambert-93 when most x/y values are large, else degrees; the choice is reported."""
    big = (cx[use].abs() > 1000) | (cy[use].abs() > 1000)
    mode = "lambert93" if len(big) and big.mean() > 0.5 else "wgs84"
    if use.any():
        system = "Lambert-93 / projection métrique du territoire" if mode == "lambert93" else "WGS84 (degrés)"
        log.warnings.append(
            f"Coordonnées x/y lues en {system} (détection automatique ; modifiable dans les options d'import)."
        )
    return mode


def _points_from_columns(
    frame: pd.DataFrame,
    mapping: dict[str, str | None],
    coordinates: str,
    todo: pd.Series,
    context: tuple[Callable, str],
    log: ImportLog,
) -> Located:
    """Points of the rows of ``todo`` from latitude/longitude or x/y columns."""
    near, metric = context
    if mapping.get("latitude") and mapping.get("longitude"):
        cx_raw, cy_raw = text_column(frame, mapping["longitude"]), text_column(frame, mapping["latitude"])
        mode = "wgs84"
    else:
        cx_raw, cy_raw = text_column(frame, mapping["x"]), text_column(frame, mapping["y"])
        mode = coordinates
    cx, cy = numbers_from_text(cx_raw), numbers_from_text(cy_raw)
    present = (cx_raw.notna() | cy_raw.notna()) & todo
    unreadable = present & (cx.isna() | cy.isna())
    log.reject(
        unreadable.to_numpy(),
        "coordonnees",
        "coordonnées illisibles (nombres attendus)",
        cx_raw.fillna("") + " ; " + cy_raw.fillna(""),
    )
    use = present & ~unreadable
    if mode == "auto":
        mode = _auto_mode(cx, cy, use, log)
    if mode == "lambert93":
        return _projected_points(cx, cy, use, metric, log)
    return _degree_points(cx, cy, use, near, log)


def coordinates_from_table(
    raw: RawTable,
    frame: pd.DataFrame,
    mapping: dict[str, str | None],
    coordinates: str,
    communes: gpd.GeoDataFrame,
    log: ImportLog,
) -> Located:
    """The *coordinates* step: a WGS84 point per row, from the geometry or the columns.

    Rows without a geometry fall back to latitude/longitude or x/y columns (degrees or
    the territory's metric projection, detected unless ``coordinates`` says). Swapped
    pairs are corrected and listed; points more than ~200 km away are rejected.
    """
    index = frame.index
    empty = pd.Series(np.nan, index=index)
    found = Located(empty, empty.copy(), pd.Series(False, index=index))
    if raw.geometry is not None:
        found = _points_from_geometry(raw.geometry, index, log)
    near = _near_departement(communes)
    if not found.located.all() and _has_xy_columns(mapping):
        metric = metric_crs_for_departement(str(communes["departement"].iloc[0]))
        more = _points_from_columns(frame, mapping, coordinates, ~found.located, (near, metric), log)
        found = Located(
            found.lon.where(~more.located, more.lon),
            found.lat.where(~more.located, more.lat),
            found.located | more.located,
        )
    lon, lat = found.lon, found.lat
    far = found.located & ~near(lon, lat) & lon.notna()
    log.reject(
        far.to_numpy(),
        "coordonnees",
        "coordonnées à plus de 200 km du département : vérifiez le système (WGS84 ou Lambert-93)",
        lambda rows: lon[rows].round(6).astype(str) + " ; " + lat[rows].round(6).astype(str),
    )
    return Located(lon, lat, found.located & lon.notna() & ~far)
