"""Step 1, columns: which column of the file holds which field (headers recognised, checked)."""

from __future__ import annotations

from core.errors import IncidentFileError
from core.formatting import fmt_count
from core.settings import SETTINGS
from core.vocabulary import (
    normalize_label,
)
from readers.incident_files import RawTable

#: Fields a file column can be mapped to, with the usual column names (normalised).
FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "identifiant": (
        "identifiant",
        "id",
        "id fait",
        "numero",
        "num",
        "numero procedure",
        "numero de procedure",
        "n procedure",
        "n de procedure",
        "no procedure",
        "no de procedure",
        "num procedure",
        "ref",
        "reference",
    ),
    "date_debut": (
        "date debut",
        "date",
        "date faits",
        "date des faits",
        "debut",
        "date commission",
        "date de commission",
        "date de debut des faits",
        "date debut des faits",
        "date debut faits",
        "date heure",
        "datetime",
        "date heure debut",
        "date de debut",
        "date_debut",
    ),
    "heure_debut": (
        "heure debut",
        "heure",
        "heure faits",
        "heure des faits",
        "heure de commission",
        "heure de debut",
    ),
    "date_fin": (
        "date fin",
        "fin",
        "date de fin",
        "date heure fin",
        "date de fin des faits",
        "date fin des faits",
    ),
    "heure_fin": ("heure fin", "heure de fin"),
    "infraction": (
        "infraction",
        "nature",
        "nature infraction",
        "nature de l infraction",
        "nature des faits",
        "libelle",
        "libelle infraction",
        "libelle de l infraction",
        "libelle index",
        "libelle de l index",
        "type infraction",
        "qualification",
        "qualification des faits",
        "indicateur",
        "categorie",
        "natinf libelle",
        "libelle natinf",
        "classe",
    ),
    "index_4001": ("index", "index 4001", "n index", "numero index", "no index", "code index", "etat 4001"),
    "natinf": ("natinf", "code natinf", "n natinf", "numero natinf"),
    "type_lieu": (
        "type lieu",
        "lieu",
        "lieu commission",
        "lieu de commission",
        "type de lieu",
        "lieu des faits",
    ),
    "force": ("force", "institution", "force de securite"),
    "unite": ("unite", "service", "unite saisie", "service saisi", "unite enqueteur", "service enqueteur"),
    "code_commune": (
        "code commune",
        "insee",
        "code insee",
        "codgeo",
        "commune insee",
        "depcom",
        "com",
        "code insee commune",
        "code commune des faits",
        "insee commune",
    ),
    "commune_nom": (
        "commune",
        "commune des faits",
        "nom commune",
        "nom de la commune",
        "libelle commune",
        "ville",
    ),
    "latitude": ("latitude", "lat", "y wgs84", "lat wgs84", "geocodage y gps", "y gps"),
    "longitude": ("longitude", "lon", "lng", "long", "x wgs84", "lon wgs84", "geocodage x gps", "x gps"),
    "x": ("x", "x l93", "xl93", "coord x", "x lambert93", "x lambert 93", "x lambert", "geocodage x"),
    "y": ("y", "y l93", "yl93", "coord y", "y lambert93", "y lambert 93", "y lambert", "geocodage y"),
    "classe_age": ("classe age", "tranche age", "classe d age", "tranche d age"),
    "age": ("age", "age auteur", "age du mis en cause"),
    "sexe": ("sexe", "sexe auteur", "genre", "sexe du mis en cause"),
    "mineur": ("mineur", "auteur mineur"),
}


FIELD_LABELS = {
    "identifiant": "Identifiant",
    "date_debut": "Date (et heure) de début",
    "heure_debut": "Heure de début (colonne séparée)",
    "date_fin": "Date (et heure) de fin",
    "heure_fin": "Heure de fin (colonne séparée)",
    "infraction": "Infraction (libellé)",
    "index_4001": "Index de l'état 4001 (numéro)",
    "natinf": "Code NATINF",
    "type_lieu": "Type de lieu",
    "force": "Force (PN/GN/PM)",
    "unite": "Unité ou service",
    "code_commune": "Code INSEE de la commune",
    "commune_nom": "Nom de la commune",
    "latitude": "Latitude (WGS84)",
    "longitude": "Longitude (WGS84)",
    "x": "X (Lambert-93 ou longitude)",
    "y": "Y (Lambert-93 ou latitude)",
    "classe_age": "Classe d'âge de l'auteur",
    "age": "Âge de l'auteur",
    "sexe": "Sexe de l'auteur",
    "mineur": "Auteur mineur",
}


#: How x/y columns are read (``auto``: from their magnitude).
COORDINATE_MODES = ("auto", "wgs84", "lambert93")


# ---------------------------------------------------------------------------------------
# 1. Columns
# ---------------------------------------------------------------------------------------
def mapping_from_columns(columns: list[str]) -> dict[str, str | None]:
    """Guess which file column holds each field, from usual column names.

    Parameters
    ----------
    columns : list of str
        Column names of the file.

    Returns
    -------
    dict
        Field name (keys of :data:`FIELD_SYNONYMS`) to column name, or ``None``.
    """
    norm = {c: normalize_label(c) for c in columns}
    used: set[str] = set()
    mapping: dict[str, str | None] = {}
    for fld, synonyms in FIELD_SYNONYMS.items():
        found = next(
            (col for syn in synonyms for col, n in norm.items() if col not in used and n == syn), None
        )
        mapping[fld] = found
        if found:
            used.add(found)
    # A header over two rows gives « Lieu Code INSEE »: a field still unmapped takes a column
    # whose name ends with one of its names (the lower row's label).
    for fld, synonyms in FIELD_SYNONYMS.items():
        if mapping[fld] is None:
            found = next(
                (
                    col
                    for syn in synonyms
                    for col, n in norm.items()
                    if col not in used and n.endswith(" " + syn)
                ),
                None,
            )
            mapping[fld] = found
            if found:
                used.add(found)
    return mapping


def _has_xy_columns(mapping: dict[str, str | None]) -> bool:
    """Whether latitude/longitude or x/y columns are mapped."""
    return bool(
        (mapping.get("latitude") and mapping.get("longitude")) or (mapping.get("x") and mapping.get("y"))
    )


def _has_points(raw: RawTable, mapping: dict[str, str | None]) -> bool:
    """Whether rows can be located by a geometry or coordinate columns."""
    return raw.geometry is not None or _has_xy_columns(mapping)


def mapping_for_table(
    raw: RawTable, mapping: dict[str, str | None] | None, coordinates: str
) -> dict[str, str | None]:
    """The *columns* step: the field-to-column mapping, checked against the file.

    Raises
    ------
    IncidentFileError
        Unknown coordinate mode, a chosen column missing from the file, no date or no
        way to locate rows, or more rows than allowed: the message says what to do.
    """
    if coordinates not in COORDINATE_MODES:
        raise IncidentFileError(f"Mode de coordonnées inconnu : {coordinates!r} (auto, wgs84 ou lambert93).")
    columns = list(raw.frame.columns)
    found = ", ".join(map(str, columns))
    mapping = dict(mapping_from_columns(columns) if mapping is None else mapping)
    for fld, col in mapping.items():
        if col is not None and col not in columns:
            raise IncidentFileError(
                f"La colonne « {col} » choisie pour « {FIELD_LABELS.get(fld, fld)} » n'existe pas "
                f"dans le fichier. Colonnes trouvées : {found}."
            )
    missing = []
    if not mapping.get("date_debut"):
        missing.append("une date (« date », « date_debut », « date_faits »…)")
    if not (_has_points(raw, mapping) or mapping.get("code_commune") or mapping.get("commune_nom")):
        missing.append(
            "une localisation (« latitude »/« longitude », « x »/« y » en Lambert-93, ou « code_commune »)"
        )
    if missing:
        raise IncidentFileError(
            f"Colonnes obligatoires introuvables dans « {raw.filename} » : il manque "
            f"{' et '.join(missing)}. Colonnes trouvées : {found or 'aucune'}. "
            "Renommez les colonnes ou choisissez-les dans la correspondance des colonnes."
        )
    if len(raw.frame) > SETTINGS.max_upload_rows:
        raise IncidentFileError(
            f"Fichier trop volumineux : {fmt_count(len(raw.frame))} lignes "
            f"(maximum {fmt_count(SETTINGS.max_upload_rows)}). Découpez-le par période."
        )
    return mapping
