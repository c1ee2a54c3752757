"""Site files from outside: candidate or existing cameras (points), road networks (lines)."""

from __future__ import annotations

import io

import geopandas as gpd
import pandas as pd

from core.errors import IncidentFileError
from readers.incident_files import read_incident_file
from readers.incident_steps import mapping_from_columns, numbers_from_text, text_column
from readers.limits import SQLITE_HEADER, check_geopackage, refuse_containers


def roads_from_bytes(data: bytes, filename: str) -> gpd.GeoDataFrame:
    """Read a road network (GeoJSON or GeoPackage lines; archives refused, never opened)."""
    import pyogrio

    refuse_containers(data, filename, IncidentFileError)
    if data.startswith(SQLITE_HEADER) or filename.lower().endswith(".gpkg"):
        check_geopackage(data, filename, IncidentFileError)
    elif not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        raise IncidentFileError(
            f"« {filename} » n'est ni un GeoJSON ni un GeoPackage : fournissez un réseau de lignes dans l'un de ces formats."
        )
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
                numbers_from_text(text_column(frame, mp["longitude"])),
                numbers_from_text(text_column(frame, mp["latitude"])),
                "EPSG:4326",
            )
        elif mp.get("x") and mp.get("y"):
            x, y = (
                numbers_from_text(text_column(frame, mp["x"])),
                numbers_from_text(text_column(frame, mp["y"])),
            )
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
