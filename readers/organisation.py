"""The three data.gouv.fr files of the territorial organisation of the forces.

Gendarmerie units open to the public, police services open to the public, PN/GN competence
per commune. The readers report every quirk (BOM, swapped latitude/longitude, empty or zero
ids, a header that differs from the documented one). Unit tables have the columns of
:data:`geo.organisation.UNIT_COLUMNS` (EPSG:4326 points).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from core.crs import WGS84
from core.errors import DelinquanceError

GN_HEADER = (
    "identifiant_public_unite",
    "service",
    "adresse_geographique",
    "telephone",
    "departement",
    "code_commune_insee",
    "voie",
    "code_postal",
    "commune",
    "geocodage_epsg",
    "geocodage_x",
    "geocodage_y",
    "geocodage_x_GPS",
    "geocodage_y_GPS",
    "horaires_accueil",
    "url",
)
#: The police list has the gendarmerie's columns without its id, opening hours and URL.
PN_HEADER = GN_HEADER[1:14]
COMPETENCE_HEADER = (
    "code_commune",
    "libelle_commune",
    "institution",
    "id_service",
    "service",
    "code_postal",
    "codes_postaux",
)


class OrganisationFileError(DelinquanceError):
    """A territorial-organisation file with an unexpected header or content."""


@dataclass
class ImportedUnits:
    """Units read from a file, with what was corrected or rejected."""

    units: gpd.GeoDataFrame
    report: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["ligne", "champ", "motif"]))


def _read_table(
    data: bytes, filename: str, expected: tuple[str, ...], what: str
) -> tuple[pd.DataFrame, np.ndarray, list[tuple[int, str, str]]]:
    """The file's rows as text (empty cells as ""), their row numbers in the file, and the
    records that could not be read (row, field, reason).

    Read as every incident file is (:func:`readers.incident_files.read_incident_file`): the
    same limits before parsing (size, rows, columns, archives refused, a workbook's ZIP
    capped), the same encodings and delimiters, malformed records reported, a spreadsheet
    re-saved from data.gouv.fr's CSV read too."""
    from core.errors import IncidentFileError
    from readers.incident_files import read_incident_file

    try:
        raw = read_incident_file(data, filename)
    except IncidentFileError as exc:
        raise OrganisationFileError(f"{exc} Importez le fichier d'origine de data.gouv.fr.") from exc
    df = raw.frame.astype(object).where(raw.frame.notna(), "").astype(str)
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise OrganisationFileError(
            f"« {filename} » n'a pas l'en-tête attendu pour {what}. Colonnes manquantes : "
            f"{', '.join(missing)}. Colonnes attendues : {', '.join(expected)}. Colonnes trouvées : "
            f"{', '.join(df.columns)}. Téléchargez le fichier d'origine sur data.gouv.fr ou renommez les colonnes."
        )
    unread = [(int(r.ligne), str(r.champ), str(r.motif)) for r in raw.rejected.itertuples()]
    return df.reset_index(drop=True), np.asarray(raw.row_numbers), unread


def _department_boxes(communes: gpd.GeoDataFrame) -> pd.DataFrame:
    b = communes.geometry.bounds
    return b.groupby(communes["departement"].to_numpy()).agg(
        {"minx": "min", "miny": "min", "maxx": "max", "maxy": "max"}
    )


def _units_from_table(
    table: tuple[pd.DataFrame, np.ndarray, list[tuple[int, str, str]]],
    force: str,
    communes_fr: gpd.GeoDataFrame,
    source: str,
) -> ImportedUnits:
    df, rows, unread = table
    report: list[tuple[int, str, str]] = list(unread)
    lon = pd.to_numeric(df["geocodage_x_GPS"].str.replace(",", "."), errors="coerce").to_numpy()
    lat = pd.to_numeric(df["geocodage_y_GPS"].str.replace(",", "."), errors="coerce").to_numpy()
    boxes = _department_boxes(communes_fr)
    dep = df["code_commune_insee"].str.strip().str.zfill(5).str[:2]
    dep = dep.where(~dep.isin(["97"]), df["code_commune_insee"].str.strip().str[:3])
    box = boxes.reindex(dep.to_numpy())

    def inside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        m = 0.3
        return (
            (x >= box["minx"].to_numpy() - m)
            & (x <= box["maxx"].to_numpy() + m)
            & (y >= box["miny"].to_numpy() - m)
            & (y <= box["maxy"].to_numpy() + m)
        )

    ok = inside(lon, lat)
    swapped = ~ok & inside(lat, lon)
    for r in rows[swapped]:
        report.append((int(r), "geocodage_GPS", "latitude et longitude inversées : corrigées"))
    lon, lat = np.where(swapped, lat, lon), np.where(swapped, lon, lat)
    bad = ~ok & ~swapped
    for r in rows[bad]:
        report.append(
            (int(r), "geocodage_GPS", "coordonnées absentes ou hors du département : unité non placée")
        )
    ids = (
        df["identifiant_public_unite"].str.strip()
        if "identifiant_public_unite" in df
        else pd.Series("", index=df.index)
    )
    no_id = ids.isin(["", "0"]).to_numpy()
    for r in rows[no_id & ("identifiant_public_unite" in df)]:
        report.append(
            (int(r), "identifiant_public_unite", "identifiant vide ou nul : identifiant de ligne attribué")
        )
    prefix = "GN" if force == "GN" else "PN"
    ids = np.where(no_id, [f"{prefix}-L{r}" for r in rows], ids.to_numpy())
    units = gpd.GeoDataFrame(
        {
            "id": ids,
            "force": force,
            "type": df["service"].str.split().str[0].fillna("").to_numpy(),
            "nom": df["service"].to_numpy(),
            "adresse": df["adresse_geographique"].to_numpy(),
            "commune": df["code_commune_insee"].str.strip().str.zfill(5).to_numpy(),
            "telephone": df["telephone"].to_numpy(),
            "horaires": df["horaires_accueil"].to_numpy() if "horaires_accueil" in df else "",
            "url": df["url"].to_numpy() if "url" in df else "",
            "source": source,
        },
        geometry=gpd.points_from_xy(np.where(bad, np.nan, lon), np.where(bad, np.nan, lat)),
        crs=WGS84,
    )
    units = units[~bad].reset_index(drop=True)
    return ImportedUnits(units, pd.DataFrame(report, columns=["ligne", "champ", "motif"]))


def gendarmerie_units_from_bytes(
    data: bytes, filename: str, *, communes_fr: gpd.GeoDataFrame
) -> ImportedUnits:
    """Read the data.gouv.fr list of gendarmerie units open to the public.

    Parameters
    ----------
    data : bytes
        The CSV (``;``, UTF-8 with BOM).
    filename : str
        Its name, for messages.
    communes_fr : GeoDataFrame
        All communes (for the plausibility of coordinates per département).

    Returns
    -------
    ImportedUnits
        Units (:data:`UNIT_COLUMNS`, points) and the report of corrections and rejections.
    """
    table = _read_table(data, filename, GN_HEADER, "la liste des unités de gendarmerie")
    return _units_from_table(table, "GN", communes_fr, f"fichier {filename}")


def police_units_from_bytes(data: bytes, filename: str, *, communes_fr: gpd.GeoDataFrame) -> ImportedUnits:
    """Read the data.gouv.fr list of police services open to the public (no id, hours, url)."""
    table = _read_table(data, filename, PN_HEADER, "la liste des services de police")
    return _units_from_table(table, "PN", communes_fr, f"fichier {filename}")


@dataclass
class ImportedCompetence:
    """The competence table read from a file, with the rows rejected and why."""

    table: pd.DataFrame
    report: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["ligne", "champ", "motif"]))


def competence_from_bytes(data: bytes, filename: str) -> ImportedCompetence:
    """Read the PN/GN competence file (one row per commune).

    Returns
    -------
    ImportedCompetence
        ``table``: ``code`` (INSEE), ``force`` (PN/GN), ``id_service``, ``service``; ``report``:
        every row left out (unreadable record, institution other than PN/GN) with its reason.

    Raises
    ------
    OrganisationFileError
        Header different from the documented one, or no row with an institution PN or GN.
    """
    df, rows, unread = _read_table(data, filename, COMPETENCE_HEADER, "la compétence territoriale PN/GN")
    inst = df["institution"].str.strip().str.upper()
    bad = ~inst.isin(["PN", "GN"]).to_numpy()
    if bad.all():
        raise OrganisationFileError(
            f"« {filename} » : institution inconnue ({', '.join(sorted(set(inst[bad]))[:5])}) en ligne(s) "
            f"{', '.join(map(str, rows[bad][:10]))} ; valeurs attendues : PN ou GN."
        )
    report = unread + [
        (int(r), "institution", f"institution « {v} » inconnue (PN ou GN attendu) : commune non rattachée")
        for r, v in zip(rows[bad], inst[bad], strict=True)
    ]
    ok = ~bad
    table = pd.DataFrame(
        {
            "code": df["code_commune"].str.strip().str.zfill(5)[ok].to_numpy(),
            "force": inst[ok].to_numpy(),
            "id_service": df["id_service"].str.strip()[ok].to_numpy(),
            "service": df["service"][ok].to_numpy(),
        }
    )
    return ImportedCompetence(table, pd.DataFrame(report, columns=["ligne", "champ", "motif"]))
