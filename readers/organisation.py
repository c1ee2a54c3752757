"""The three data.gouv.fr files of the territorial organisation of the forces.

Gendarmerie units open to the public, police services open to the public, PN/GN competence
per commune. The readers report every quirk (BOM, swapped latitude/longitude, empty or zero
ids, a header that differs from the documented one). Unit tables have the columns of
:data:`geo.organisation.UNIT_COLUMNS` (EPSG:4326 points).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from core.crs import WGS84
from core.errors import DelinquanceError
from readers.limits import refuse_containers

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


def _read_table(data: bytes, filename: str, expected: tuple[str, ...], what: str) -> pd.DataFrame:
    refuse_containers(data, filename, OrganisationFileError)  # a CSV, never an archive
    if b"\x00" in data[:4096]:
        raise OrganisationFileError(
            f"« {filename} » n'est pas un fichier texte (contenu binaire) : importez le CSV de data.gouv.fr."
        )
    text = data.decode("utf-8-sig", errors="replace") if data[:3] == b"\xef\xbb\xbf" else None
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    if not text.strip():
        raise OrganisationFileError(f"Le fichier « {filename} » est vide.")
    df = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
    df.columns = [c.strip().lstrip("\ufeff") for c in df.columns]
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise OrganisationFileError(
            f"« {filename} » n'a pas l'en-tête attendu pour {what}. Colonnes manquantes : "
            f"{', '.join(missing)}. Colonnes attendues : {', '.join(expected)}. Colonnes trouvées : "
            f"{', '.join(df.columns)}. Téléchargez le fichier d'origine sur data.gouv.fr ou renommez les colonnes."
        )
    return df


def _department_boxes(communes: gpd.GeoDataFrame) -> pd.DataFrame:
    b = communes.geometry.bounds
    return b.groupby(communes["departement"].to_numpy()).agg(
        {"minx": "min", "miny": "min", "maxx": "max", "maxy": "max"}
    )


def _units_from_table(
    df: pd.DataFrame, force: str, communes_fr: gpd.GeoDataFrame, source: str
) -> ImportedUnits:
    report: list[tuple[int, str, str]] = []
    rows = np.arange(2, len(df) + 2)
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
    df = _read_table(data, filename, GN_HEADER, "la liste des unités de gendarmerie")
    return _units_from_table(df, "GN", communes_fr, f"fichier {filename}")


def police_units_from_bytes(data: bytes, filename: str, *, communes_fr: gpd.GeoDataFrame) -> ImportedUnits:
    """Read the data.gouv.fr list of police services open to the public (no id, hours, url)."""
    df = _read_table(data, filename, PN_HEADER, "la liste des services de police")
    return _units_from_table(df, "PN", communes_fr, f"fichier {filename}")


def competence_from_bytes(data: bytes, filename: str) -> pd.DataFrame:
    """Read the PN/GN competence file (one row per commune).

    Returns
    -------
    DataFrame
        ``code`` (INSEE), ``force`` (PN/GN), ``id_service``, ``service``.

    Raises
    ------
    OrganisationFileError
        Header different from the documented one, or an ``institution`` other than PN/GN.
    """
    df = _read_table(data, filename, COMPETENCE_HEADER, "la compétence territoriale PN/GN")
    inst = df["institution"].str.strip().str.upper()
    bad = ~inst.isin(["PN", "GN"])
    if bad.any():
        raise OrganisationFileError(
            f"« {filename} » : institution inconnue ({', '.join(sorted(set(inst[bad]))[:5])}) en ligne(s) "
            f"{', '.join(map(str, (np.flatnonzero(bad.to_numpy()) + 2)[:10]))} ; valeurs attendues : PN ou GN."
        )
    return pd.DataFrame(
        {
            "code": df["code_commune"].str.strip().str.zfill(5),
            "force": inst,
            "id_service": df["id_service"].str.strip(),
            "service": df["service"],
        }
    )
