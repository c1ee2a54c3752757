"""The validation steps of the incident importer, in the order they run.

A read file (:class:`readers.incident_files.RawTable`) goes through:

1. :func:`mapping_for_table` (*columns*): which column holds which field, checked;
2. :func:`identifiers_from_table` and :func:`dates_from_table` (*dates*);
3. :func:`coordinates_from_table` (*coordinates*: geometry, lat/lon or x/y, swaps);
4. :func:`communes_from_points` (*commune*: spatial join and commune codes);
5. :func:`categories_from_table` and :func:`profiles_from_table` (*categories*);
6. :func:`incidents_from_steps` and :func:`warnings_from_steps` (*report*).

Each step reads the text columns it needs, records every rejected row with its reason
in an :class:`ImportLog`, and returns plain pandas Series aligned on the file's rows.
:func:`readers.incidents.incidents_from_table` chains them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import Transformer

from core import model as m
from core.crs import WGS84, metric_crs_for_departement
from core.errors import IncidentFileError
from core.formatting import fmt_count
from core.offence_labels import (
    INDICATOR,
    OUTSIDE,
    UNKNOWN,
    index_numbers,
    offence_classes_from_index,
    offence_classes_from_labels,
)
from core.plm import PLM, city_of
from core.settings import SETTINGS
from core.vocabulary import (
    AGE_CLASSES,
    OTHER_OFFENCE,
    forces_from_labels,
    forces_from_unit_names,
    normalize_label,
    place_types_from_labels,
)
from readers.incident_files import REJECTION_COLUMNS, RawTable

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
_DATE_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %Hh%M",
    "%d/%m/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d/%m/%y %H:%M",
    "%d/%m/%y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y%m%d",
)
_MIN_DATE = pd.Timestamp("1950-01-01")
#: Degrees around the département beyond which a point cannot belong to its data.
_MARGIN_DEGREES = 2.0
_SEX = {
    "h": "homme",
    "m": "homme",
    "homme": "homme",
    "masculin": "homme",
    "f": "femme",
    "femme": "femme",
    "feminin": "femme",
}
_BOOL = {
    "oui": True,
    "o": True,
    "1": True,
    "true": True,
    "vrai": True,
    "non": False,
    "n": False,
    "0": False,
    "false": False,
    "faux": False,
}


# ---------------------------------------------------------------------------------------
# The log every step writes to
# ---------------------------------------------------------------------------------------
@dataclass
class ImportLog:
    """What the steps found, row by row: rejections, corrections and warnings.

    Attributes
    ----------
    row_numbers : ndarray of int
        Row number in the file of each table row (the reports name rows by it).
    bad : ndarray of bool
        Rows rejected so far (for at least one reason).
    warnings : list of str
        Messages in French about rows kept but changed or incomplete.
    """

    row_numbers: np.ndarray
    bad: np.ndarray = field(init=False)
    warnings: list[str] = field(default_factory=list)
    _rejections: list[pd.DataFrame] = field(default_factory=list)
    _corrections: list[pd.DataFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bad = np.zeros(len(self.row_numbers), dtype=bool)

    def reject(self, mask: object, field_name: str, reason: str, values: pd.Series | None = None) -> None:
        """Reject the rows of ``mask`` for ``reason``, quoting their value of ``values``."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self.bad |= mask
        vals = (
            values[mask].astype(object).fillna("").astype(str).str.slice(0, 200).to_numpy()
            if values is not None
            else ""
        )
        self._rejections.append(
            pd.DataFrame(
                {"ligne": self.row_numbers[mask], "champ": field_name, "motif": reason, "valeur": vals}
            )
        )

    def correct(self, mask: pd.Series, field_name: str, correction: str) -> None:
        """Record that the rows of ``mask`` were corrected (kept, with the correction listed)."""
        if mask.any():
            self._corrections.append(
                pd.DataFrame(
                    {
                        "ligne": self.row_numbers[mask.to_numpy()],
                        "champ": field_name,
                        "correction": correction,
                    }
                )
            )

    def rejections(self, unread: pd.DataFrame) -> pd.DataFrame:
        """All rejections (``unread``: the records the reader could not parse), by row."""
        parts = [p for p in [unread, *self._rejections] if len(p)]
        if not parts:
            return pd.DataFrame(columns=REJECTION_COLUMNS)
        out = pd.concat(parts, ignore_index=True)
        out["ligne"] = out["ligne"].astype("int64")
        return out.sort_values(["ligne", "champ"], kind="stable").reset_index(drop=True)

    def corrections(self) -> pd.DataFrame:
        """The corrections made (``ligne``, ``champ``, ``correction``)."""
        if not self._corrections:
            return pd.DataFrame(columns=["ligne", "champ", "correction"])
        return pd.concat(self._corrections, ignore_index=True)


# ---------------------------------------------------------------------------------------
# Column helpers
# ---------------------------------------------------------------------------------------
def text_column(frame: pd.DataFrame, col: str | None) -> pd.Series:
    """Column ``col`` as stripped text, empty cells missing (all missing when no column)."""
    if col is None or col not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    s = frame[col].astype(pd.StringDtype("pyarrow")).str.strip()
    return s.mask(s == "", pd.NA)


def numbers_from_text(s: pd.Series) -> pd.Series:
    """Numbers written the French or the English way (« 1 234,5 », "1234.5"); NaN when not."""
    cleaned = s.str.replace(r"[\s\u00a0\u202f]", "", regex=True)
    cleaned = cleaned.str.replace(",", ".", regex=False)
    return pd.to_numeric(cleaned, errors="coerce").astype(float)


def _mask(s: pd.Series) -> pd.Series:
    """Plain boolean mask (missing values are False)."""
    return pd.Series(s.fillna(False).to_numpy(dtype=bool), index=s.index)


def _map_labels(s: pd.Series, table: dict[str, object]) -> pd.Series:
    """Map labels through ``table`` after normalisation, computed once per distinct value."""
    uniques = pd.unique(s.dropna().to_numpy())
    lookup = {u: table.get(normalize_label(u)) for u in uniques}
    return s.astype(object).map(lookup).astype(object).where(s.notna(), None)


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


# ---------------------------------------------------------------------------------------
# 2. Identifiers and dates
# ---------------------------------------------------------------------------------------
def identifiers_from_table(frame: pd.DataFrame, mapping: dict[str, str | None], log: ImportLog) -> pd.Series:
    """Identifiers: the file's, or « L<row> » when missing; duplicates rejected."""
    ids = text_column(frame, mapping.get("identifiant"))
    generated = ids.isna()
    if generated.any():
        ids = ids.astype(object)
        ids[generated] = ["L" + str(r) for r in log.row_numbers[generated.to_numpy()]]
        ids = ids.astype(pd.StringDtype("pyarrow"))
        if mapping.get("identifiant"):
            log.warnings.append(
                f"{int(generated.sum())} fait(s) sans identifiant : identifiant « L<ligne> » attribué."
            )
    dup = ids.duplicated(keep="first").to_numpy()
    log.reject(dup, "identifiant", "identifiant en double (seule la première occurrence est gardée)", ids)
    return ids


def parse_time_of_day(s: pd.Series) -> pd.Series:
    """Parse "HH:MM", "HH:MM:SS", "HHhMM", "HH h", "HH" into timedeltas (NaT when not)."""
    four = s.str.fullmatch(r"\s*\d{4}\s*").fillna(False)  # « 2055 »
    s = s.where(~four, s.str.strip().str[:2] + ":" + s.str.strip().str[2:])
    parts = s.str.extract(r"^\s*(\d{1,2})\s*(?:[:hH]\s*(\d{1,2})?)?\s*(?::\s*(\d{1,2}))?\s*$")
    h = pd.to_numeric(parts[0], errors="coerce")
    mnt = pd.to_numeric(parts[1], errors="coerce").fillna(0)
    sec = pd.to_numeric(parts[2], errors="coerce").fillna(0)
    ok = h.between(0, 23) & mnt.between(0, 59) & sec.between(0, 59)
    td = pd.to_timedelta(h * 3600 + mnt * 60 + sec, unit="s")
    return td.where(ok, pd.NaT)


def parse_datetimes(s: pd.Series) -> pd.Series:
    """Parse French and ISO date(-time) strings; NaT where unreadable."""
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    todo = s.notna()
    # Try first the formats that read a sample of the values: a wrong format costs a full pass.
    sample = pd.Series(pd.unique(s.dropna().to_numpy())[:500], dtype=object)
    hits = {f: int(pd.to_datetime(sample, format=f, errors="coerce").notna().sum()) for f in _DATE_FORMATS}
    for fmt in sorted(_DATE_FORMATS, key=lambda f: -hits[f]):
        if not todo.any():
            break
        parsed = pd.to_datetime(s[todo], format=fmt, errors="coerce")
        hit = parsed.notna() & parsed.dt.year.between(1800, 2200)
        out.loc[hit.index[hit]] = parsed[hit].astype("datetime64[ns]")
        todo.loc[hit.index[hit]] = False
    if todo.any():  # ISO 8601 with a time zone or fractions of a second
        parsed = pd.to_datetime(s[todo], format="ISO8601", errors="coerce", utc=True)
        hit = parsed.notna() & parsed.dt.year.between(1800, 2200)
        if hit.any():
            local = parsed[hit].dt.tz_convert("Europe/Paris").dt.tz_localize(None)
            out.loc[hit.index[hit]] = local.astype("datetime64[ns]")
    return out


def _dates_with_times(date: pd.Series, time: pd.Series, log: ImportLog, label: str) -> pd.Series:
    """A date column, completed by a separate time column when there is one."""
    dt_ = parse_datetimes(date)
    unreadable = date.notna() & dt_.isna()
    log.reject(
        unreadable.to_numpy(),
        label,
        "date illisible (formats acceptés : JJ/MM/AAAA HH:MM, AAAA-MM-JJ HH:MM:SS…)",
        date,
    )
    if time.notna().any():
        tod = parse_time_of_day(time)
        bad_time = time.notna() & tod.isna()
        log.reject(
            bad_time.to_numpy(), label.replace("date", "heure"), "heure illisible (HH:MM attendu)", time
        )
        has_time = tod.notna() & dt_.notna()
        dt_ = dt_.where(~has_time, dt_.dt.normalize() + tod)
    return dt_


def _day_only(start_raw: pd.Series, start: pd.Series, start_time: pd.Series, end: pd.Series) -> pd.Series:
    """Rows dated by a day alone: no clock time in the date, no time column, no end."""
    has_clock = pc.match_substring_regex(
        pa.array(start_raw, type=pa.string()), r"[0-9]{1,2} *[:hH] *[0-9]{2}"
    )
    has_clock = pd.Series(
        pc.fill_null(has_clock, False).to_numpy(zero_copy_only=False), index=start_raw.index
    )
    return start.notna() & ~has_clock & start_time.isna() & end.isna()


def dates_from_table(
    frame: pd.DataFrame, mapping: dict[str, str | None], now: pd.Timestamp, log: ImportLog
) -> tuple[pd.Series, pd.Series]:
    """The *dates* step: start and end of each incident (a window when the hour is unknown).

    Rejects missing, unreadable, future or improbable dates and ends before starts. A date
    without a time becomes a window over the whole day (aoristic hour profiles).
    """
    start_raw = text_column(frame, mapping.get("date_debut"))
    start_time = text_column(frame, mapping.get("heure_debut"))
    start = _dates_with_times(start_raw, start_time, log, "date_debut")
    log.reject(start_raw.isna().to_numpy(), "date_debut", "date de début manquante")
    log.reject(
        (start > now).to_numpy(),
        "date_debut",
        "date dans le futur : vérifiez le format (JJ/MM/AAAA) ou l'année",
        start_raw,
    )
    log.reject((start < _MIN_DATE).to_numpy(), "date_debut", "date improbable (avant 1950)", start_raw)
    end_raw = text_column(frame, mapping.get("date_fin"))
    end_time = text_column(frame, mapping.get("heure_fin"))
    end = _dates_with_times(end_raw, end_time, log, "date_fin")
    if not mapping.get("date_fin") and mapping.get("heure_fin"):
        end = start.dt.normalize() + parse_time_of_day(end_time)
        end = end.where(end >= start, end + pd.Timedelta(days=1))  # window across midnight
    day_only = _day_only(start_raw, start, start_time, end)
    if day_only.any():
        end = end.where(~day_only, start + pd.Timedelta(days=1))
        log.warnings.append(
            f"{int(day_only.sum())} fait(s) datés sans heure : répartis sur toute la journée "
            "dans les profils horaires (méthode aoristique)."
        )
    log.reject((end > now).to_numpy(), "date_fin", "date de fin dans le futur", end_raw)
    log.reject((end < start).to_numpy(), "date_fin", "date de fin antérieure au début", end_raw)
    return start, end


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
        lon.round(6).astype(str) + " ; " + lat.round(6).astype(str),
    )
    return Located(lon, lat, found.located & lon.notna() & ~far)


# ---------------------------------------------------------------------------------------
# 4. Communes
# ---------------------------------------------------------------------------------------
@dataclass
class Placement:
    """Where each row is: its point (or None), commune, and two flags."""

    points: gpd.GeoSeries
    commune: pd.Series
    outside: pd.Series
    no_point: pd.Series


def _commune_codes(code_raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Commune codes normalised (« 1053 » → « 01053 », « 53130.0 » → « 53130 ») and validity."""
    code = code_raw.str.upper().str.replace(r"\.0$", "", regex=True)
    code = code.where(~_mask(code.str.fullmatch(r"\d{4}")), "0" + code)
    return code, _mask(code.str.fullmatch(r"(\d{5}|2[AB]\d{3})"))


def _communes_of_points(points: gpd.GeoSeries, located: pd.Series, communes: gpd.GeoDataFrame) -> pd.Series:
    """Code of the commune each located point falls in (missing outside every commune)."""
    joined = pd.Series(pd.NA, index=located.index, dtype="string")
    if located.any():
        tree = shapely.STRtree(communes.geometry.to_numpy())
        pts_idx, poly_idx = tree.query(points[located.to_numpy()].to_numpy(), predicate="within")
        loc_positions = np.flatnonzero(located.to_numpy())
        joined.iloc[loc_positions[pts_idx]] = communes["code"].to_numpy()[poly_idx]
    return joined


def commune_name_key(name: object) -> str:
    """A commune name for matching: no accents or case, « St »/« Ste » as « Saint »/« Sainte »."""
    words = normalize_label(name).split()
    return " ".join({"st": "saint", "ste": "sainte"}.get(w, w) for w in words)


def codes_from_commune_names(
    names: pd.Series, communes: gpd.GeoDataFrame
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """INSEE codes of commune names within the département.

    Returns the code (missing when not found or ambiguous), the homonym codes of an
    ambiguous name (« 53001, 53002 »), and whether a given name matched no commune.
    """
    keys = communes["nom"].map(commune_name_key)
    by_key = communes.groupby(keys.to_numpy())["code"].agg(list)
    looked = names.astype(object).map(lambda n: None if pd.isna(n) else by_key.get(commune_name_key(n)))
    code = looked.map(lambda c: c[0] if isinstance(c, list) and len(c) == 1 else None)
    homonyms = looked.map(lambda c: ", ".join(c) if isinstance(c, list) and len(c) > 1 else None)
    unknown = names.notna() & looked.isna()
    return code.astype(object), homonyms.astype(object), unknown


def _commune_from_names(
    frame: pd.DataFrame,
    mapping: dict[str, str | None],
    commune: pd.Series,
    located: pd.Series,
    communes: gpd.GeoDataFrame,
    log: ImportLog,
) -> tuple[pd.Series, pd.Series]:
    """Rows still without a commune and without a point: the commune named by the file.

    Returns the communes completed and the rows whose name was tried and failed (rejected).
    """
    names = text_column(frame, mapping.get("commune_nom"))
    todo = commune.isna() & ~located & names.notna()
    if not todo.any():
        return commune, todo & False
    code, homonyms, unknown = codes_from_commune_names(names.where(todo), communes)
    found = todo & code.notna()
    log.reject(
        (todo & homonyms.notna()).to_numpy(),
        "commune_nom",
        "nom de commune ambigu (homonymes dans le département) : donnez le code INSEE",
        names + " → " + homonyms.fillna(""),
    )
    log.reject((todo & unknown).to_numpy(), "commune_nom", "commune inconnue dans le département", names)
    if found.any():
        log.warnings.append(f"{int(found.sum())} fait(s) localisé(s) par le seul nom de leur commune.")
    return commune.where(~found, code), todo & ~found


def communes_from_points(
    frame: pd.DataFrame,
    mapping: dict[str, str | None],
    found: Located,
    communes: gpd.GeoDataFrame,
    log: ImportLog,
) -> Placement:
    """The *commune* step: the file's commune code when valid, else the point's commune,
    else the commune named by the file (matched within the département).

    Rows with neither a point nor a valid code are rejected; rows outside the
    département are kept and flagged.
    """
    located = found.located
    points = gpd.GeoSeries(
        np.where(located, gpd.points_from_xy(found.lon.fillna(0), found.lat.fillna(0)), None), crs=WGS84
    )
    code_raw = text_column(frame, mapping.get("code_commune"))
    code, valid_code = _commune_codes(code_raw)
    bad_code = code_raw.notna() & ~valid_code
    log.reject(
        (bad_code & ~located).to_numpy(),
        "code_commune",
        "code commune invalide (5 caractères INSEE attendus) et pas de coordonnées",
        code_raw,
    )
    joined = _communes_of_points(points, located, communes)
    # Paris, Lyon, Marseille: a file giving the city's code is placed in the arrondissement
    # its point falls in (the units); without a point it keeps the city's code (city total).
    city_level = (
        valid_code & _mask(code.isin(list(PLM))) & _mask(joined.map(city_of, na_action="ignore") == code)
    )
    if city_level.any():
        log.warnings.append(
            f"{int(city_level.sum())} fait(s) codé(s) à la ville (Paris, Lyon ou Marseille) : "
            "arrondissement déduit de la localisation."
        )
    commune = code.where(valid_code & ~city_level, joined)
    if mapping.get("code_commune"):
        disagree = valid_code & joined.notna() & _mask(code != joined)
        if disagree.any():
            log.warnings.append(
                f"{int(disagree.sum())} fait(s) dont le code commune ne correspond pas au point : "
                "le code du fichier est gardé."
            )
        derived = ~valid_code & joined.notna()
        if derived.any():
            log.warnings.append(
                f"{int(derived.sum())} fait(s) sans code commune valide : commune déduite de la localisation."
            )
    commune, name_failed = _commune_from_names(frame, mapping, commune, located, communes, log)
    no_place = commune.isna() & ~located
    log.reject(
        (no_place & ~bad_code & ~name_failed).to_numpy(), "localisation", "ni coordonnées ni code commune"
    )
    units = set(communes["code"])
    in_dep = _mask(commune.isin(units | {city_of(c) for c in units}))
    city_only = ~located & _mask(commune.isin(list(PLM))) & in_dep
    if city_only.any():
        log.warnings.append(
            f"{int(city_only.sum())} fait(s) localisé(s) seulement à la ville (Paris, Lyon ou Marseille), "
            "sans coordonnées : comptés dans les totaux de la ville et du département, sur aucun arrondissement."
        )
    outside = (located & joined.isna()) | (~located & commune.notna() & ~in_dep)
    return Placement(points, commune, outside, ~located & commune.notna())


# ---------------------------------------------------------------------------------------
# 5. Categories and offender profiles
# ---------------------------------------------------------------------------------------
@dataclass
class Categories:
    """Offence, place type and force per row, with what could not be recognised.

    ``sources`` holds what the file said (raw offence label, index, NATINF code, raw
    place label, unit name), kept on every incident beside its class.
    """

    offence: pd.Series
    place: pd.Series
    force: pd.Series
    unknown_offence: pd.Series
    unknown_place: pd.Series
    force_deduced: pd.Series
    offence_raw: pd.Series
    outside_indicators: pd.Series
    sources: dict[str, pd.Series]


def offences_from_columns(label: pd.Series, index: pd.Series) -> pd.DataFrame:
    """Class and status of each row from its offence label and its *état 4001* index.

    The label decides when it is recognised (an indicator or outside the 14); otherwise
    the index, read from the index column or from a label that is only a number.
    """
    by_label = offence_classes_from_labels(label)
    by_index = offence_classes_from_index(index.fillna(label))
    use_index = (by_label["statut"] == UNKNOWN) & (by_index["statut"] != UNKNOWN)
    return by_label.where(~use_index, by_index)


def categories_from_table(
    frame: pd.DataFrame, mapping: dict[str, str | None], commune: pd.Series, forces: pd.Series
) -> Categories:
    """The *categories* step: file labels to the vocabulary of :mod:`core.vocabulary`.

    Offences outside the 14 indicators and unrecognised ones become « Autre » (told apart
    in the report); unknown places « autre »; the force comes from the force column, else
    from the unit's name, else from the commune through ``forces`` (force per code).
    """
    offence_raw = text_column(frame, mapping.get("infraction"))
    index_raw = text_column(frame, mapping.get("index_4001"))
    classes = offences_from_columns(offence_raw, index_raw)
    offence = classes["classe"].where(classes["statut"] == INDICATOR, OTHER_OFFENCE).astype(object)
    place_raw = text_column(frame, mapping.get("type_lieu"))
    place = place_types_from_labels(place_raw)
    unit_raw = text_column(frame, mapping.get("unite"))
    force = forces_from_labels(text_column(frame, mapping.get("force")))
    force = force.where(force.notna(), forces_from_unit_names(unit_raw))
    force_missing = force.isna()
    force = force.where(~force_missing, commune.astype(object).map(forces))
    given = offence_raw.notna() | index_raw.notna()
    number = index_numbers(index_raw.fillna(offence_raw))
    return Categories(
        offence=offence,
        place=place.fillna("autre"),
        force=force,
        unknown_offence=given & (classes["statut"] == UNKNOWN),
        unknown_place=place_raw.notna() & place.isna(),
        force_deduced=force_missing,
        offence_raw=offence_raw.fillna(index_raw),
        outside_indicators=classes["statut"] == OUTSIDE,
        sources={
            m.RAW_OFFENCE: offence_raw,
            m.INDEX_4001: number.astype("string"),
            m.NATINF: text_column(frame, mapping.get("natinf")),
            m.RAW_PLACE: place_raw,
            m.UNIT: unit_raw,
        },
    )


@dataclass
class Profiles:
    """Offender profile per row (missing when unknown) and unreadable entries."""

    age: pd.Series
    sex: pd.Series
    minor: pd.Series
    unreadable: pd.Series


def _age_classes(classes: pd.Series, ages: pd.Series) -> pd.Series:
    """Age class from a class label, else from an age in years."""
    by_label = {normalize_label(a): a for a in AGE_CLASSES}
    by_label.update({"mineur": AGE_CLASSES[0], "moins de 18": AGE_CLASSES[0], "65 et plus": AGE_CLASSES[4]})
    out = _map_labels(classes, by_label)
    age = numbers_from_text(ages)
    bins = pd.cut(age, [-1, 17, 24, 44, 64, 130], labels=list(AGE_CLASSES)).astype(object)
    return out.where(out.notna(), bins).where(lambda x: x.notna(), None)


def profiles_from_table(frame: pd.DataFrame, mapping: dict[str, str | None]) -> Profiles:
    """Offender age class, sex and minority (a minor's age class implies minority)."""
    age = _age_classes(text_column(frame, mapping.get("classe_age")), text_column(frame, mapping.get("age")))
    sex_raw = text_column(frame, mapping.get("sexe"))
    sex = _map_labels(sex_raw, _SEX)
    minor_raw = text_column(frame, mapping.get("mineur"))
    minor = _map_labels(minor_raw, _BOOL)
    minor = minor.where(minor.notna(), (age == AGE_CLASSES[0]).where(age.notna(), None))
    unreadable = (sex_raw.notna() & sex.isna()) | (minor_raw.notna() & minor.isna())
    return Profiles(age, sex, minor, unreadable)


# ---------------------------------------------------------------------------------------
# 6. Report
# ---------------------------------------------------------------------------------------
def incidents_from_steps(
    ids: pd.Series,
    dates: tuple[pd.Series, pd.Series],
    placement: Placement,
    categories: Categories,
    profiles: Profiles,
    keep: np.ndarray,
) -> gpd.GeoDataFrame:
    """The accepted rows (``keep``) as incidents of the model of :mod:`core.model`."""
    gdf = gpd.GeoDataFrame(
        {
            m.ID: ids,
            m.START: dates[0],
            m.END: dates[1],
            m.OFFENCE: categories.offence,
            m.PLACE: categories.place,
            m.FORCE: categories.force,
            m.COMMUNE: placement.commune,
            m.AGE: profiles.age,
            m.SEX: profiles.sex,
            m.MINOR: pd.array(profiles.minor.to_numpy(), dtype="boolean"),
            m.OUTSIDE: placement.outside.to_numpy(dtype=bool),
            **categories.sources,
        },
        geometry=placement.points.to_numpy(),
        crs=WGS84,
    )[keep]
    return m.conform_incidents(gdf.reset_index(drop=True))


def warnings_from_steps(
    keep: np.ndarray,
    mapping: dict[str, str | None],
    placement: Placement,
    categories: Categories,
    profiles: Profiles,
    departement: str,
) -> list[str]:
    """Warnings about the accepted rows: unknown labels, deduced forces, missing points."""
    k = keep
    out = []
    unmapped = categories.unknown_offence
    if unmapped[k].any():
        top = categories.offence_raw[k & unmapped].value_counts().head(5)
        listed = ", ".join(f"« {lab} » ({cnt})" for lab, cnt in top.items())
        out.append(
            f"{int(unmapped[k].sum())} libellé(s) d'infraction non reconnu(s), classés « {OTHER_OFFENCE} » : {listed}."
        )
    outside = categories.outside_indicators
    if outside[k].any():
        out.append(
            f"{int(outside[k].sum())} fait(s) d'infractions reconnues hors des 14 indicateurs "
            f"(recels, homicides, outrages…) : gardés, classés « {OTHER_OFFENCE} »."
        )
    if not mapping.get("infraction") and not mapping.get("index_4001"):
        out.append(f"Pas de colonne d'infraction : tous les faits sont classés « {OTHER_OFFENCE} ».")
    counted = [
        (categories.unknown_place, "type(s) de lieu non reconnu(s) : classés « autre »."),
        (
            categories.force_deduced,
            "fait(s) sans force reconnue : force déduite de la commune selon l'organisation "
            "territoriale (indicative sans les fichiers officiels).",
        ),
        (
            placement.outside,
            f"fait(s) hors du département {departement} : gardés et signalés (colonne hors_departement).",
        ),
        (
            placement.no_point,
            "fait(s) sans coordonnées : comptés dans leur commune, absents des cartes de points.",
        ),
        (profiles.unreadable, "profil(s) d'auteur illisible(s) : laissés vides."),
    ]
    out += [f"{int(flag[k].sum())} {text}" for flag, text in counted if flag[k].any()]
    return out


def notes_from_steps(raw: RawTable, mapping: dict[str, str | None]) -> list[str]:
    """What the reader detected, and the columns left unused."""
    used = {v for v in mapping.values() if v}
    ignored = [c for c in raw.frame.columns if c not in used]
    notes = list(raw.notes)
    if ignored:
        notes.append("Colonnes non utilisées : " + ", ".join(map(str, ignored)) + ".")
    return notes


def now_or_current(now: dt.datetime | None) -> pd.Timestamp:
    """The instant after which dates are rejected (default: the current time)."""
    return pd.Timestamp(now or dt.datetime.now())
