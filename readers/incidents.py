"""Import of users' incident files: CSV, GeoJSON, GeoPackage, (Geo)Parquet.

Two calls, so that the page can show a column mapping with a preview in between:

1. :func:`read_incident_file` (*decode*, :mod:`readers.incident_files`) reads the bytes
   into a :class:`RawTable` of text columns;
2. :func:`incidents_from_table` validates every row against the incident model
   (:mod:`core.model`) through the named steps of :mod:`readers.incident_steps`
   (columns → dates → coordinates → commune → categories → report) and returns the
   accepted incidents plus a rejection report (row number, field, reason in French).
   Every input row is either accepted or rejected with at least one reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from core import model as m
from core.crs import WGS84
from core.errors import ParameterError
from core.escape import csv_safe_frame
from geo.organisation import indicative_competence
from readers.incident_files import REJECTION_COLUMNS, RawTable, read_incident_file
from readers.incident_steps import (
    COORDINATE_MODES,
    FIELD_LABELS,
    FIELD_SYNONYMS,
    ImportLog,
    categories_from_table,
    communes_from_points,
    coordinates_from_table,
    dates_from_table,
    identifiers_from_table,
    incidents_from_steps,
    mapping_for_table,
    mapping_from_columns,
    notes_from_steps,
    now_or_current,
    profiles_from_table,
    warnings_from_steps,
)

__all__ = [
    "COORDINATE_MODES",
    "FIELD_LABELS",
    "FIELD_SYNONYMS",
    "REJECTION_COLUMNS",
    "ImportResult",
    "RawTable",
    "import_incident_file",
    "incidents_from_table",
    "mapping_from_columns",
    "read_incident_file",
    "template_csv_from_communes",
]


@dataclass
class ImportResult:
    """Outcome of :func:`incidents_from_table`."""

    incidents: gpd.GeoDataFrame
    rejections: pd.DataFrame
    corrections: pd.DataFrame
    warnings: list[str]
    notes: list[str]
    n_input: int
    mapping: dict[str, str | None]

    @property
    def n_accepted(self) -> int:
        """Number of accepted rows."""
        return len(self.incidents)

    @property
    def n_rejected(self) -> int:
        """Number of rejected rows (a row may have several reasons)."""
        return int(self.rejections["ligne"].nunique())


def incidents_from_table(
    raw: RawTable,
    *,
    communes: gpd.GeoDataFrame,
    mapping: dict[str, str | None] | None = None,
    coordinates: str = "auto",
    now: dt.datetime | None = None,
    forces: pd.Series | None = None,
) -> ImportResult:
    """Validate a read file against the incident model.

    Parameters
    ----------
    raw : RawTable
        From :func:`read_incident_file`.
    communes : GeoDataFrame
        Communes of the département being analysed (EPSG:4326): used for the spatial
        join, the "outside the département" flag and the plausibility of coordinates.
    mapping : dict, optional
        Field to column (see :func:`mapping_from_columns`, the default guess).
    coordinates : {"auto", "wgs84", "lambert93"}
        How to read x/y columns: auto-detected from their magnitude by default.
        Latitude/longitude columns are always WGS84.
    now : datetime, optional
        Dates after it are rejected (default: the current time).
    forces : Series, optional
        Force per commune code, for rows without a recognised force (default: the
        indicative organisation of :mod:`geo.organisation`).

    Returns
    -------
    ImportResult
        Accepted incidents (model of :mod:`core.model`), rejections (``ligne``, ``champ``,
        ``motif``, ``valeur``), corrections made (swapped coordinates…), warnings.

    Raises
    ------
    IncidentFileError
        No date column, or neither coordinates nor commune codes: the message lists the
        columns expected and the columns found.
    """
    mapping = mapping_for_table(raw, mapping, coordinates)
    frame = raw.frame.reset_index(drop=True)
    log = ImportLog(raw.row_numbers)
    ids = identifiers_from_table(frame, mapping, log)
    dates = dates_from_table(frame, mapping, now_or_current(now), log)
    found = coordinates_from_table(raw, frame, mapping, coordinates, communes, log)
    placement = communes_from_points(frame, mapping, found, communes, log)
    forces = indicative_competence(communes) if forces is None else forces
    categories = categories_from_table(frame, mapping, placement.commune, forces)
    profiles = profiles_from_table(frame, mapping)
    keep = ~log.bad
    departement = str(communes["departement"].iloc[0])
    return ImportResult(
        incidents=incidents_from_steps(ids, dates, placement, categories, profiles, keep),
        rejections=log.rejections(raw.rejected),
        corrections=log.corrections(),
        warnings=log.warnings
        + warnings_from_steps(keep, mapping, placement, categories, profiles, departement),
        notes=notes_from_steps(raw, mapping),
        n_input=raw.n_rows,
        mapping=mapping,
    )


def import_incident_file(
    data: bytes,
    filename: str,
    *,
    communes: gpd.GeoDataFrame,
    mapping: dict[str, str | None] | None = None,
    coordinates: str = "auto",
    now: dt.datetime | None = None,
) -> ImportResult:
    """Read and validate an incident file in one call (see :func:`read_incident_file`
    and :func:`incidents_from_table`)."""
    raw = read_incident_file(data, filename)
    return incidents_from_table(raw, communes=communes, mapping=mapping, coordinates=coordinates, now=now)


def template_csv_from_communes(communes: gpd.GeoDataFrame) -> bytes:
    """A model incident file (CSV) that imports as is, to show users the expected format.

    Both an offence label column and an *état 4001* index column are shown (either is
    enough). Three incidents in the most populous commune of ``communes``: one with its exact time
    and an offender profile, one burglary known only "between ... and ..." (``date_fin``)
    located by its commune code alone, and one with a point but no profile.

    Parameters
    ----------
    communes : GeoDataFrame
        Communes of the département (``code``, ``population``, geometry in any CRS).

    Returns
    -------
    bytes
        CSV, ``;`` separator, UTF-8 with BOM (opens in French spreadsheets).
    """
    if communes.empty:
        raise ParameterError("Aucune commune : impossible de construire le modèle de fichier.")
    town = communes.sort_values("population", ascending=False).iloc[[0]].to_crs(WGS84)
    point = town.geometry.iloc[0].representative_point()
    code = str(town["code"].iloc[0])
    lat, lon = round(point.y, 6), round(point.x, 6)
    rows = [
        {
            m.ID: "EX-0001",
            m.START: "2025-03-14 22:40",
            m.END: "",
            m.OFFENCE: "Vols violents sans arme",
            m.INDEX_4001: "26",
            m.PLACE: "voie publique",
            m.FORCE: "PN",
            m.COMMUNE: code,
            "latitude": lat,
            "longitude": lon,
            m.AGE: "18-24 ans",
            m.SEX: "homme",
            m.MINOR: "non",
        },
        {
            m.ID: "EX-0002",
            m.START: "2025-03-15 08:00",
            m.END: "2025-03-15 18:30",
            m.OFFENCE: "Cambriolages de logement",
            m.INDEX_4001: "27",
            m.PLACE: "domicile",
            m.FORCE: "PN",
            m.COMMUNE: code,
            "latitude": "",
            "longitude": "",
            m.AGE: "",
            m.SEX: "",
            m.MINOR: "",
        },
        {
            m.ID: "EX-0003",
            m.START: "2025-03-16 03:15",
            m.END: "",
            m.OFFENCE: "Destructions et dégradations volontaires",
            m.INDEX_4001: "67",
            m.PLACE: "commerce",
            m.FORCE: "PM",
            m.COMMUNE: code,
            "latitude": round(lat + 0.001, 6),
            "longitude": round(lon - 0.001, 6),
            m.AGE: "",
            m.SEX: "",
            m.MINOR: "",
        },
    ]
    return csv_safe_frame(pd.DataFrame(rows)).to_csv(index=False, sep=";").encode("utf-8-sig")
