"""Coordinate reference systems: the metric CRS of each territory and CRS guards.

Data are stored and displayed in EPSG:4326; every distance, area, buffer or grid is
computed in the metric CRS of the territory.
"""

from __future__ import annotations

import geopandas as gpd
import pyproj

from core.errors import CRSError

WGS84 = "EPSG:4326"
LAMBERT93 = "EPSG:2154"

_OVERSEAS_METRIC_CRS = {
    "971": "EPSG:5490",  # Guadeloupe, RGAF09 / UTM 20N
    "972": "EPSG:5490",  # Martinique, RGAF09 / UTM 20N
    "973": "EPSG:2972",  # Guyane, RGFG95 / UTM 22N
    "974": "EPSG:2975",  # La Réunion, RGR92 / UTM 40S
    "976": "EPSG:10674",  # Mayotte, RGM23 / UTM 38S
}


def metric_crs_for_departement(code: str) -> str:
    """Return the metric CRS used for computations in a département.

    Parameters
    ----------
    code : str
        INSEE code of the département ("53", "2A", "974"...).

    Returns
    -------
    str
        "EPSG:2154" (Lambert-93) for metropolitan France and Corsica, the local UTM
        projection for the overseas départements.
    """
    return _OVERSEAS_METRIC_CRS.get(str(code), LAMBERT93)


def require_metric(*frames: gpd.GeoDataFrame | gpd.GeoSeries) -> pyproj.CRS:
    """Check that every input is in one and the same projected (metric) CRS.

    Parameters
    ----------
    *frames : GeoDataFrame or GeoSeries
        Inputs of a distance or area computation.

    Returns
    -------
    pyproj.CRS
        Their common CRS.

    Raises
    ------
    CRSError
        If a CRS is missing, geographic (degrees), or differs between inputs.
    """
    crs: pyproj.CRS | None = None
    for frame in frames:
        if frame.crs is None:
            raise CRSError(
                "Données sans système de coordonnées : définissez-le (to_crs / set_crs) "
                "avant tout calcul de distance."
            )
        if frame.crs.is_geographic:
            raise CRSError(
                f"Calcul impossible en degrés ({frame.crs.to_string()}) : projetez d'abord "
                "les données dans le système métrique du territoire (ex. EPSG:2154)."
            )
        if crs is not None and not crs.equals(frame.crs):
            raise CRSError(
                f"Systèmes de coordonnées différents ({crs.to_string()} et "
                f"{frame.crs.to_string()}) : projetez les deux entrées dans le même."
            )
        crs = frame.crs
    if crs is None:
        raise CRSError("Aucune donnée géographique fournie.")
    return crs
