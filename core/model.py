"""The incident data model: column names and dtypes shared by the generator, the
importer, the store and the analyses.

One row is one recorded offence. Column names are French because they reach users
(tables, exports).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.crs import WGS84

ID = "identifiant"
START = "date_debut"
END = "date_fin"  # optional end of the time window (NaT when the time is known)
OFFENCE = "infraction"
PLACE = "type_lieu"
FORCE = "force"
COMMUNE = "code_commune"
AGE = "classe_age"
SEX = "sexe"
MINOR = "mineur"
OUTSIDE = "hors_departement"
# What the file said, kept beside the classes so that a corrected mapping re-classifies
# the data set without the file (empty for synthetic data).
RAW_OFFENCE = "libelle_infraction"
INDEX_4001 = "index_4001"
NATINF = "natinf"
RAW_PLACE = "libelle_lieu"
UNIT = "unite"
SOURCE_COLUMNS: tuple[str, ...] = (RAW_OFFENCE, INDEX_4001, NATINF, RAW_PLACE, UNIT)

INCIDENT_COLUMNS: tuple[str, ...] = (
    ID,
    START,
    END,
    OFFENCE,
    PLACE,
    FORCE,
    COMMUNE,
    AGE,
    SEX,
    MINOR,
    OUTSIDE,
    *SOURCE_COLUMNS,
)
PROFILE_COLUMNS: tuple[str, ...] = (AGE, SEX, MINOR)


def empty_incidents() -> gpd.GeoDataFrame:
    """Return an empty incident table with the right columns and dtypes."""
    return conform_incidents(
        gpd.GeoDataFrame({c: [] for c in INCIDENT_COLUMNS}, geometry=gpd.GeoSeries([], crs=WGS84))
    )


def conform_incidents(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give an incident table the canonical column order and dtypes.

    Parameters
    ----------
    gdf : GeoDataFrame
        Incidents with at least the columns of :data:`INCIDENT_COLUMNS` (missing optional
        ones are added empty) and point geometries in EPSG:4326.

    Returns
    -------
    GeoDataFrame
        A copy with ``identifiant``/labels as strings, dates as ``datetime64[ns]``,
        ``mineur`` as nullable boolean, ``hors_departement`` as bool.
    """
    out = gdf.copy()
    for col in INCIDENT_COLUMNS:
        if col not in out.columns:
            out[col] = pd.NA
    out[START] = pd.to_datetime(out[START]).astype("datetime64[ns]")
    out[END] = pd.to_datetime(out[END]).astype("datetime64[ns]")
    for col in (ID, OFFENCE, PLACE, FORCE, COMMUNE, AGE, SEX, *SOURCE_COLUMNS):
        out[col] = out[col].astype("string")
    out[MINOR] = out[MINOR].astype("boolean")
    out[OUTSIDE] = out[OUTSIDE].fillna(False).astype(bool)
    out = gpd.GeoDataFrame(out[[*INCIDENT_COLUMNS, out.geometry.name]], geometry=out.geometry.name)
    if out.geometry.name != "geometry":
        out = out.rename_geometry("geometry")
    return out.set_crs(WGS84, allow_override=True) if out.crs is None else out.to_crs(WGS84)


@dataclass(frozen=True)
class IncidentFilter:
    """Current filters of the shared sidebar (``None``: no filter on that field)."""

    start: dt.date | None = None
    end: dt.date | None = None
    offences: tuple[str, ...] | None = None
    places: tuple[str, ...] | None = None
    forces: tuple[str, ...] | None = None
    natinf: tuple[str, ...] | None = None

    def undated(self) -> IncidentFilter:
        """The same offences, places, forces and NATINF codes over the whole period."""
        return dataclasses.replace(self, start=None, end=None)

    def with_period(self, start: dt.date | None, end: dt.date | None) -> IncidentFilter:
        """The same filter over another period."""
        return dataclasses.replace(self, start=start, end=end)


def filter_incidents(incidents: pd.DataFrame, flt: IncidentFilter) -> pd.DataFrame:
    """Return the incidents matching a filter (dates inclusive, by start date).

    Parameters
    ----------
    incidents : DataFrame
        Incident table.
    flt : IncidentFilter
        Filters; empty selections (``()``) select nothing.

    Returns
    -------
    DataFrame
        A view of the matching rows, same columns and index.
    """
    return incidents[mask_from_filter(incidents, flt)]


def mask_from_filter(incidents: pd.DataFrame, flt: IncidentFilter) -> np.ndarray:
    """The rows of ``incidents`` that :func:`filter_incidents` keeps, as a boolean array
    (to combine with other conditions and take the rows, or only some columns, once)."""
    keep = np.ones(len(incidents), dtype=bool)
    start = incidents[START]
    if flt.start is not None:
        keep &= (start >= pd.Timestamp(flt.start)).to_numpy()
    if flt.end is not None:
        keep &= (start < pd.Timestamp(flt.end) + pd.Timedelta(days=1)).to_numpy()
    for col, values in (
        (OFFENCE, flt.offences),
        (PLACE, flt.places),
        (FORCE, flt.forces),
        (NATINF, flt.natinf),
    ):
        if values is not None and col in incidents:
            keep &= incidents[col].isin(list(values)).fillna(False).to_numpy(dtype=bool)
    return keep


def has_position(geometry: gpd.GeoSeries) -> pd.Series:
    """True where a geometry is present and not empty (an incident known by its commune only
    has none), indexed like ``geometry``."""
    return geometry.notna() & ~geometry.is_empty


def located(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The rows of ``frame`` that have a position (:func:`has_position`): ``frame`` itself when
    every row has one (no copy of a large table: do not modify the result)."""
    keep = located_mask(frame)
    return frame if keep.all() else frame[keep]


def located_mask(frame: gpd.GeoDataFrame) -> np.ndarray:
    """:func:`has_position` of ``frame``'s geometry as a boolean array (shapely's predicates on
    the geometries themselves: a third of the time of GeoSeries' own)."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))


def xy_of_located(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The coordinates (x, y) of the rows of ``frame`` that have a position, in their order:
    ``located(frame).geometry.x`` and ``.y`` in one pass over the points (twice as fast),
    without taking the table. The geometries are points (:func:`conform_incidents`).
    """
    geoms = np.asarray(frame.geometry.array, dtype=object)
    keep = located_mask(frame)
    if not keep.all():
        geoms = geoms[keep]
    return shapely.get_x(geoms), shapely.get_y(geoms)
