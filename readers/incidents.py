"""Import of users' incident files: CSV, GeoJSON, GeoPackage, (Geo)Parquet.

Two steps, so that the page can show a column mapping with a preview in between:

1. :func:`read_incident_file` reads the bytes into a :class:`RawTable` (all values as
   text, the geometry when the format has one), detecting the format, the encoding
   (UTF-8 with or without BOM, UTF-16, cp1252/latin-1) and the CSV delimiter; malformed
   CSV records are reported, never silently dropped.
2. :func:`incidents_from_table` validates every row against the incident model
   (:mod:`core.model`) and returns the accepted incidents plus a rejection report
   (row number, field, reason in French). Every input row is either accepted or
   rejected with at least one reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
from pyproj import Transformer

from core import model as m
from core.crs import WGS84, metric_crs_for_departement
from core.errors import IncidentFileError
from core.escape import csv_safe_frame
from core.settings import SETTINGS
from core.vocabulary import (
    AGE_CLASSES,
    OTHER_OFFENCE,
    forces_from_labels,
    normalize_label,
    offences_from_labels,
    place_types_from_labels,
)

#: Fields a file column can be mapped to, with the usual column names (normalised).
FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "identifiant": ("identifiant", "id", "id fait", "numero", "num", "numero procedure", "ref", "reference"),
    "date_debut": (
        "date debut",
        "date",
        "date faits",
        "date des faits",
        "debut",
        "date commission",
        "date heure",
        "datetime",
        "date heure debut",
        "date de debut",
        "date_debut",
    ),
    "heure_debut": ("heure debut", "heure", "heure faits", "heure des faits"),
    "date_fin": ("date fin", "fin", "date de fin", "date heure fin"),
    "heure_fin": ("heure fin",),
    "infraction": (
        "infraction",
        "nature",
        "nature infraction",
        "libelle",
        "type infraction",
        "qualification",
        "indicateur",
        "categorie",
        "natinf libelle",
        "classe",
    ),
    "type_lieu": ("type lieu", "lieu", "lieu commission", "type de lieu"),
    "force": ("force", "service", "institution", "unite"),
    "code_commune": ("code commune", "insee", "code insee", "codgeo", "commune insee", "depcom", "com"),
    "latitude": ("latitude", "lat", "y wgs84", "lat wgs84", "geocodage y gps", "y gps"),
    "longitude": ("longitude", "lon", "lng", "long", "x wgs84", "lon wgs84", "geocodage x gps", "x gps"),
    "x": ("x", "x l93", "xl93", "coord x", "x lambert93", "x lambert", "geocodage x"),
    "y": ("y", "y l93", "yl93", "coord y", "y lambert93", "y lambert", "geocodage y"),
    "classe_age": ("classe age", "tranche age", "classe d age"),
    "age": ("age", "age auteur"),
    "sexe": ("sexe", "sexe auteur", "genre"),
    "mineur": ("mineur", "auteur mineur"),
}
FIELD_LABELS = {
    "identifiant": "Identifiant",
    "date_debut": "Date (et heure) de début",
    "heure_debut": "Heure de début (colonne séparée)",
    "date_fin": "Date (et heure) de fin",
    "heure_fin": "Heure de fin (colonne séparée)",
    "infraction": "Infraction",
    "type_lieu": "Type de lieu",
    "force": "Force (PN/GN/PM)",
    "code_commune": "Code INSEE de la commune",
    "latitude": "Latitude (WGS84)",
    "longitude": "Longitude (WGS84)",
    "x": "X (Lambert-93 ou longitude)",
    "y": "Y (Lambert-93 ou latitude)",
    "classe_age": "Classe d'âge de l'auteur",
    "age": "Âge de l'auteur",
    "sexe": "Sexe de l'auteur",
    "mineur": "Auteur mineur",
}
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
REJECTION_COLUMNS = ["ligne", "champ", "motif", "valeur"]


@dataclass
class RawTable:
    """A file read as text columns, before validation.

    Attributes
    ----------
    frame : DataFrame
        One column per file column, values as strings (missing: ``None``/NaN).
    row_numbers : ndarray of int
        Row number of each frame row in the file (header = 1 for CSV; feature number
        for geographic formats), used in every report.
    geometry : GeoSeries or None
        Geometry of geographic formats.
    rejected : DataFrame
        Records that could not be read at all (malformed CSV lines).
    notes : list of str
        What was detected (format, encoding, delimiter), in French.
    """

    frame: pd.DataFrame
    row_numbers: np.ndarray
    filename: str
    geometry: gpd.GeoSeries | None = None
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECTION_COLUMNS))
    notes: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        """Number of data rows in the file (read or not)."""
        return len(self.frame) + int(self.rejected["ligne"].nunique())


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


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------
def _decode(data: bytes, filename: str) -> tuple[str, str]:
    """Decode text bytes: UTF-8 (BOM or not), UTF-16 with BOM, else cp1252/latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "UTF-8 avec BOM"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "ISO-8859-1 (latin-1)"


def _looks_binary(text: str) -> bool:
    head = text[:65536]
    if "\x00" in head:
        return True
    control = sum(1 for ch in head if ord(ch) < 32 and ch not in "\r\n\t")
    return control > max(10, len(head) // 100)


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ";"


def _unique_names(names: list[str]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(names):
        name = raw.strip() or f"colonne_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _read_csv_text(text: str, filename: str, encoding: str) -> RawTable:
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise IncidentFileError(
            f"Le fichier « {filename} » est vide : exportez de nouveau les données, avec une "
            "ligne d'en-tête et au moins un fait."
        )
    first_line = re.split(r"\r\n|\n|\r", text, maxsplit=1)[0]
    delimiter = _sniff_delimiter(first_line)
    try:
        header = next(csv.reader([first_line], delimiter=delimiter))
    except (csv.Error, StopIteration) as exc:
        raise IncidentFileError(
            f"En-tête illisible dans « {filename} » ({exc}) : la première ligne doit donner "
            "les noms des colonnes."
        ) from exc
    names = _unique_names(header)
    if len(names) < 2:
        raise IncidentFileError(
            f"Le fichier « {filename} » n'a qu'une colonne : séparez les colonnes par « ; » "
            "ou « , » et mettez une ligne d'en-tête (date, infraction, latitude, longitude…)."
        )
    bad: list[tuple[int, str, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append((int(row.number) if row.number is not None else -1, row.text, row.actual_columns))
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, use_threads=False, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                null_values=["", "NA", "N/A", "NULL", "null", "\\N"],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeError) as exc:
        raise IncidentFileError(
            f"Lecture impossible du fichier CSV « {filename} » ({exc}). Vérifiez qu'il s'agit "
            "bien d'un fichier texte CSV (séparateur « ; » ou « , »)."
        ) from exc
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    # Record numbers of the file (header = 1); pyarrow numbers records the same way.
    bad_numbers = {b[0] for b in bad}
    total = len(frame) + len(bad)
    all_numbers = np.arange(2, total + 2)
    ok_numbers = all_numbers[~np.isin(all_numbers, list(bad_numbers))]
    if len(ok_numbers) != len(frame):  # unknown numbers: fall back to read order
        ok_numbers = np.arange(2, len(frame) + 2)
    rejected = pd.DataFrame(
        [
            (
                number,
                "ligne",
                f"ligne mal formée : {actual} champ(s) au lieu de {len(names)} "
                "(séparateur ou guillemets à vérifier)",
                text_[:200],
            )
            for number, text_, actual in bad
        ],
        columns=REJECTION_COLUMNS,
    )
    notes = [
        f"Format CSV, encodage {encoding}, séparateur « {'tabulation' if delimiter == chr(9) else delimiter} », "
        f"{len(names)} colonnes."
    ]
    return RawTable(frame, ok_numbers, filename, None, rejected, notes)


def _read_geo(data: bytes, filename: str, kind: str) -> RawTable:
    import pyogrio

    try:
        gdf = pyogrio.read_dataframe(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - GDAL raises many types
        raise IncidentFileError(
            f"Lecture impossible du fichier {kind} « {filename} » ({exc}). Vérifiez le fichier "
            "(export complet, non tronqué) ou exportez-le en CSV."
        ) from exc
    return _raw_from_geodataframe(gdf, filename, kind)


def _raw_from_geodataframe(gdf: pd.DataFrame, filename: str, kind: str) -> RawTable:
    geometry = None
    if isinstance(gdf, gpd.GeoDataFrame) and gdf.geometry.name in gdf.columns:
        geometry = gdf.geometry.reset_index(drop=True)
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    else:
        frame = pd.DataFrame(gdf)
    frame = frame.reset_index(drop=True)
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            frame[col] = s.dt.strftime("%Y-%m-%d %H:%M:%S").astype("string")
        else:
            frame[col] = s.astype("string")
    frame.columns = _unique_names([str(c) for c in frame.columns])
    crs = geometry.crs.to_string() if geometry is not None and geometry.crs is not None else "aucun"
    notes = [f"Format {kind}, {len(frame.columns)} colonnes, système de coordonnées : {crs}."]
    return RawTable(frame, np.arange(1, len(frame) + 1), filename, geometry, notes=notes)


def _read_parquet(data: bytes, filename: str) -> RawTable:
    try:
        try:
            gdf = gpd.read_parquet(io.BytesIO(data))
        except ValueError:  # plain Parquet without geo metadata
            gdf = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001
        raise IncidentFileError(
            f"Lecture impossible du fichier Parquet « {filename} » ({type(exc).__name__}). "
            "Vérifiez le fichier ou exportez-le en CSV."
        ) from exc
    return _raw_from_geodataframe(gdf, filename, "Parquet")


def read_incident_file(data: bytes, filename: str) -> RawTable:
    """Read an incident file of any supported format as text columns.

    Parameters
    ----------
    data : bytes
        Content of the file.
    filename : str
        Its name (the extension helps to detect the format).

    Returns
    -------
    RawTable
        The columns as text, the geometry for geographic formats, the unreadable records
        and notes on what was detected.

    Raises
    ------
    IncidentFileError
        Empty, binary or otherwise unreadable file (message in French saying what to do).
    """
    name = filename.lower()
    if not data:
        raise IncidentFileError(f"Le fichier « {filename} » est vide : exportez de nouveau les données.")
    if data[:4] == b"PAR1" or name.endswith((".parquet", ".geoparquet")):
        return _read_parquet(data, filename)
    if data[:16] == b"SQLite format 3\x00" or name.endswith(".gpkg"):
        return _read_geo(data, filename, "GeoPackage")
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if name.endswith((".geojson", ".json")) or stripped[:1] == b"{":
        return _read_geo(data, filename, "GeoJSON")
    text, encoding = _decode(data, filename)
    if _looks_binary(text):
        raise IncidentFileError(
            f"Le fichier « {filename} » n'est pas un fichier texte lisible (contenu binaire). "
            "Formats acceptés : CSV, GeoJSON, GeoPackage, Parquet."
        )
    return _read_csv_text(text, filename, encoding)


# ---------------------------------------------------------------------------------------
# Column mapping
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
        found = None
        for syn in synonyms:
            for col, n in norm.items():
                if col not in used and n == syn:
                    found = col
                    break
            if found:
                break
        mapping[fld] = found
        if found:
            used.add(found)
    return mapping


# ---------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------
class _Rejections:
    """Accumulates (row, field, reason, value) for rows that fail a check."""

    def __init__(self, row_numbers: np.ndarray) -> None:
        self.rows = row_numbers
        self.parts: list[pd.DataFrame] = []
        self.bad = np.zeros(len(row_numbers), dtype=bool)

    def add(self, mask: np.ndarray, field_name: str, reason: str, values: pd.Series | None = None) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self.bad |= mask
        vals = (
            values[mask].astype(object).fillna("").astype(str).str.slice(0, 200).to_numpy()
            if values is not None
            else ""
        )
        self.parts.append(
            pd.DataFrame({"ligne": self.rows[mask], "champ": field_name, "motif": reason, "valeur": vals})
        )

    def frame(self, extra: pd.DataFrame) -> pd.DataFrame:
        parts = [p for p in [extra, *self.parts] if len(p)]
        if not parts:
            return pd.DataFrame(columns=REJECTION_COLUMNS)
        out = pd.concat(parts, ignore_index=True)
        out["ligne"] = out["ligne"].astype("int64")
        return out.sort_values(["ligne", "champ"], kind="stable").reset_index(drop=True)


def _mask(s: pd.Series) -> pd.Series:
    """Plain boolean mask (missing values are False)."""
    return pd.Series(s.fillna(False).to_numpy(dtype=bool), index=s.index)


def _map_labels(s: pd.Series, table: dict[str, object]) -> pd.Series:
    """Map labels through ``table`` after normalisation, computed once per distinct value."""
    uniques = pd.unique(s.dropna().to_numpy())
    lookup = {u: table.get(normalize_label(u)) for u in uniques}
    return s.astype(object).map(lookup).astype(object).where(s.notna(), None)


def _text(frame: pd.DataFrame, col: str | None) -> pd.Series:
    if col is None or col not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    s = frame[col].astype(pd.StringDtype("pyarrow")).str.strip()
    return s.mask(s == "", pd.NA)


def _numbers(s: pd.Series) -> pd.Series:
    cleaned = s.str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False)
    cleaned = cleaned.str.replace(",", ".", regex=False)
    return pd.to_numeric(cleaned, errors="coerce").astype(float)


def _parse_time_of_day(s: pd.Series) -> pd.Series:
    """Parse "HH:MM", "HH:MM:SS", "HHhMM", "HH h", "HH" into timedeltas (NaT when not)."""
    parts = s.str.extract(r"^\s*(\d{1,2})\s*(?:[:hH]\s*(\d{1,2})?)?\s*(?::\s*(\d{1,2}))?\s*$")
    h = pd.to_numeric(parts[0], errors="coerce")
    mnt = pd.to_numeric(parts[1], errors="coerce").fillna(0)
    sec = pd.to_numeric(parts[2], errors="coerce").fillna(0)
    ok = h.between(0, 23) & mnt.between(0, 59) & sec.between(0, 59)
    td = pd.to_timedelta(h * 3600 + mnt * 60 + sec, unit="s")
    return td.where(ok, pd.NaT)


def _parse_datetimes(s: pd.Series) -> pd.Series:
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


def _dates_with_times(date: pd.Series, time: pd.Series, rej: _Rejections, label: str) -> pd.Series:
    dt_ = _parse_datetimes(date)
    unreadable = date.notna() & dt_.isna()
    rej.add(
        unreadable.to_numpy(),
        label,
        "date illisible (formats acceptés : JJ/MM/AAAA HH:MM, AAAA-MM-JJ HH:MM:SS…)",
        date,
    )
    if time.notna().any():
        tod = _parse_time_of_day(time)
        bad_time = time.notna() & tod.isna()
        rej.add(bad_time.to_numpy(), label.replace("date", "heure"), "heure illisible (HH:MM attendu)", time)
        has_time = tod.notna() & dt_.notna()
        dt_ = dt_.where(~has_time, dt_.dt.normalize() + tod)
    return dt_


def _age_classes(classes: pd.Series, ages: pd.Series) -> pd.Series:
    by_label = {normalize_label(a): a for a in AGE_CLASSES}
    by_label.update({"mineur": AGE_CLASSES[0], "moins de 18": AGE_CLASSES[0], "65 et plus": AGE_CLASSES[4]})
    out = _map_labels(classes, by_label)
    age = _numbers(ages)
    bins = pd.cut(age, [-1, 17, 24, 44, 64, 130], labels=list(AGE_CLASSES)).astype(object)
    return out.where(out.notna(), bins).where(lambda x: x.notna(), None)


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
    if coordinates not in COORDINATE_MODES:
        raise IncidentFileError(f"Mode de coordonnées inconnu : {coordinates!r} (auto, wgs84 ou lambert93).")
    frame = raw.frame.reset_index(drop=True)
    mapping = dict(mapping_from_columns(list(frame.columns)) if mapping is None else mapping)
    for fld, col in mapping.items():
        if col is not None and col not in frame.columns:
            raise IncidentFileError(
                f"La colonne « {col} » choisie pour « {FIELD_LABELS.get(fld, fld)} » n'existe pas "
                f"dans le fichier. Colonnes trouvées : {', '.join(map(str, frame.columns))}."
            )
    has_geom = raw.geometry is not None
    has_xy = (mapping.get("latitude") and mapping.get("longitude")) or (mapping.get("x") and mapping.get("y"))
    if not mapping.get("date_debut") or not (has_geom or has_xy or mapping.get("code_commune")):
        missing = []
        if not mapping.get("date_debut"):
            missing.append("une date (« date », « date_debut », « date_faits »…)")
        if not (has_geom or has_xy or mapping.get("code_commune")):
            missing.append(
                "une localisation (« latitude »/« longitude », « x »/« y » en Lambert-93, ou « code_commune »)"
            )
        raise IncidentFileError(
            f"Colonnes obligatoires introuvables dans « {raw.filename} » : il manque "
            f"{' et '.join(missing)}. Colonnes trouvées : {', '.join(map(str, frame.columns)) or 'aucune'}. "
            "Renommez les colonnes ou choisissez-les dans la correspondance des colonnes."
        )
    if len(frame) > SETTINGS.max_upload_rows:
        raise IncidentFileError(
            f"Fichier trop volumineux : {len(frame):,} lignes (maximum {SETTINGS.max_upload_rows:,}). "
            "Découpez-le par période.".replace(",", "\u202f")
        )

    now = pd.Timestamp(now or dt.datetime.now())
    rej = _Rejections(raw.row_numbers)
    warnings: list[str] = []
    corrections: list[pd.DataFrame] = []
    dep = str(communes["departement"].iloc[0])
    metric = metric_crs_for_departement(dep)

    # -- identifiers ------------------------------------------------------------------
    ids = _text(frame, mapping.get("identifiant"))
    generated = ids.isna()
    if generated.any():
        ids = ids.astype(object)
        ids[generated] = ["L" + str(r) for r in raw.row_numbers[generated.to_numpy()]]
        ids = ids.astype(pd.StringDtype("pyarrow"))
    if mapping.get("identifiant") and generated.any():
        warnings.append(
            f"{int(generated.sum())} fait(s) sans identifiant : identifiant « L<ligne> » attribué."
        )
    dup = ids.duplicated(keep="first").to_numpy()
    rej.add(dup, "identifiant", "identifiant en double (seule la première occurrence est gardée)", ids)

    # -- dates ------------------------------------------------------------------------
    start_raw = _text(frame, mapping.get("date_debut"))
    start = _dates_with_times(start_raw, _text(frame, mapping.get("heure_debut")), rej, "date_debut")
    rej.add(start_raw.isna().to_numpy(), "date_debut", "date de début manquante")
    rej.add(
        (start > now).to_numpy(),
        "date_debut",
        "date dans le futur : vérifiez le format (JJ/MM/AAAA) ou l'année",
        start_raw,
    )
    rej.add((start < _MIN_DATE).to_numpy(), "date_debut", "date improbable (avant 1950)", start_raw)
    end_raw = _text(frame, mapping.get("date_fin"))
    end = _dates_with_times(end_raw, _text(frame, mapping.get("heure_fin")), rej, "date_fin")
    if not mapping.get("date_fin") and mapping.get("heure_fin"):
        end = start.dt.normalize() + _parse_time_of_day(_text(frame, mapping.get("heure_fin")))
        end = end.where(end >= start, end + pd.Timedelta(days=1))  # window across midnight
    # A date without a time is a window over the whole day (aoristic hour profiles).
    start_time = _text(frame, mapping.get("heure_debut"))
    has_clock = pc.match_substring_regex(
        pa.array(start_raw, type=pa.string()), r"[0-9]{1,2} *[:hH] *[0-9]{2}"
    )
    has_clock = pd.Series(
        pc.fill_null(has_clock, False).to_numpy(zero_copy_only=False), index=start_raw.index
    )
    day_only = start.notna() & ~has_clock & start_time.isna()
    day_only &= end.isna()
    if day_only.any():
        end = end.where(~day_only, start + pd.Timedelta(days=1))
        warnings.append(
            f"{int(day_only.sum())} fait(s) datés sans heure : répartis sur toute la journée "
            "dans les profils horaires (méthode aoristique)."
        )
    rej.add((end > now).to_numpy(), "date_fin", "date de fin dans le futur", end_raw)
    rej.add((end < start).to_numpy(), "date_fin", "date de fin antérieure au début", end_raw)

    # -- coordinates ------------------------------------------------------------------
    lon = pd.Series(np.nan, index=frame.index)
    lat = pd.Series(np.nan, index=frame.index)
    provided = pd.Series(False, index=frame.index)
    dep_bounds = communes.total_bounds  # lon/lat
    margin = 2.0  # degrees: beyond this a point cannot belong to the département's data

    def plausible(x: pd.Series, y: pd.Series) -> pd.Series:
        return x.between(dep_bounds[0] - margin, dep_bounds[2] + margin) & y.between(
            dep_bounds[1] - margin, dep_bounds[3] + margin
        )

    if has_geom:
        geom = raw.geometry.reset_index(drop=True)
        if geom.crs is not None and not geom.crs.equals(WGS84):
            geom = geom.to_crs(WGS84)
        arr = geom.to_numpy()
        single = shapely.get_type_id(arr) == 4  # MultiPoint of one point
        arr = np.where(single & (shapely.get_num_geometries(arr) == 1), shapely.get_geometry(arr, 0), arr)
        kind = shapely.get_type_id(arr)
        is_point = (kind == 0) & ~shapely.is_empty(arr)
        non_point = ~pd.isna(arr) & ~is_point & ~shapely.is_empty(arr)
        rej.add(
            non_point,
            "geometrie",
            "géométrie non ponctuelle (un point par fait attendu)",
            pd.Series(shapely.get_type_id(arr)).map(
                {1: "LineString", 3: "Polygon", 4: "MultiPoint", 6: "MultiPolygon"}
            ),
        )
        lon = pd.Series(
            np.where(is_point, shapely.get_x(np.where(is_point, arr, None)), np.nan), index=frame.index
        )
        lat = pd.Series(
            np.where(is_point, shapely.get_y(np.where(is_point, arr, None)), np.nan), index=frame.index
        )
        provided = pd.Series(is_point, index=frame.index)
    if not provided.all() and has_xy:
        if mapping.get("latitude") and mapping.get("longitude"):
            cx_raw, cy_raw = _text(frame, mapping["longitude"]), _text(frame, mapping["latitude"])
            mode = "wgs84"
        else:
            cx_raw, cy_raw = _text(frame, mapping["x"]), _text(frame, mapping["y"])
            mode = coordinates
        cx, cy = _numbers(cx_raw), _numbers(cy_raw)
        present = (cx_raw.notna() | cy_raw.notna()) & ~provided
        unreadable = present & (cx.isna() | cy.isna())
        rej.add(
            unreadable.to_numpy(),
            "coordonnees",
            "coordonnées illisibles (nombres attendus)",
            cx_raw.fillna("") + " ; " + cy_raw.fillna(""),
        )
        use = present & ~unreadable
        if mode == "auto":
            big = (cx[use].abs() > 1000) | (cy[use].abs() > 1000)
            mode = "lambert93" if len(big) and big.mean() > 0.5 else "wgs84"
            if use.any():
                warnings.append(
                    "Coordonnées x/y lues en "
                    + (
                        "Lambert-93 / projection métrique du territoire"
                        if mode == "lambert93"
                        else "WGS84 (degrés)"
                    )
                    + " (détection automatique ; modifiable dans les options d'import)."
                )
        if mode == "lambert93":
            # x and y swapped in a projected CRS: northing (millions) in the x column.
            swap = (
                use & (cx > cy) & (cx > 1e6)
                if metric == "EPSG:2154"
                else use & pd.Series(False, index=frame.index)
            )
            cx, cy = cx.where(~swap, cy), cy.where(~swap, cx)
            if swap.any():
                corrections.append(
                    pd.DataFrame(
                        {
                            "ligne": raw.row_numbers[swap.to_numpy()],
                            "champ": "coordonnees",
                            "correction": "x et y inversés : permutés",
                        }
                    )
                )
            tr = Transformer.from_crs(metric, WGS84, always_xy=True)
            px, py = tr.transform(cx[use].to_numpy(), cy[use].to_numpy())
            lon[use], lat[use] = px, py
        else:
            ok = plausible(cx, cy)
            swapped = use & ~ok & plausible(cy, cx)
            if swapped.any():
                corrections.append(
                    pd.DataFrame(
                        {
                            "ligne": raw.row_numbers[swapped.to_numpy()],
                            "champ": "coordonnees",
                            "correction": "latitude et longitude inversées : permutées",
                        }
                    )
                )
                warnings.append(
                    f"{int(swapped.sum())} ligne(s) avec latitude et longitude inversées : corrigées (voir la liste des corrections)."
                )
            lon[use] = cx.where(~swapped, cy)[use]
            lat[use] = cy.where(~swapped, cx)[use]
        provided = provided | use
    far = provided & ~plausible(lon, lat) & lon.notna()
    rej.add(
        far.to_numpy(),
        "coordonnees",
        "coordonnées à plus de 200 km du département : vérifiez le système (WGS84 ou Lambert-93)",
        lon.round(6).astype(str) + " ; " + lat.round(6).astype(str),
    )
    located = provided & lon.notna() & ~far

    # -- communes ---------------------------------------------------------------------
    points = gpd.GeoSeries(
        np.where(located, gpd.points_from_xy(lon.fillna(0), lat.fillna(0)), None), crs=WGS84
    )
    dep_codes = set(communes["code"])
    code_raw = _text(frame, mapping.get("code_commune"))
    code = code_raw.str.upper().str.replace(r"\.0$", "", regex=True)
    code = code.where(~_mask(code.str.fullmatch(r"\d{4}")), "0" + code)
    valid_code = _mask(code.str.fullmatch(r"(\d{5}|2[AB]\d{3})"))
    rej.add(
        (code_raw.notna() & ~valid_code & ~located).to_numpy(),
        "code_commune",
        "code commune invalide (5 caractères INSEE attendus) et pas de coordonnées",
        code_raw,
    )
    joined = pd.Series(pd.NA, index=frame.index, dtype="string")
    if located.any():
        tree = shapely.STRtree(communes.geometry.to_numpy())
        pts_idx, poly_idx = tree.query(points[located.to_numpy()].to_numpy(), predicate="within")
        loc_positions = np.flatnonzero(located.to_numpy())
        joined.iloc[loc_positions[pts_idx]] = communes["code"].to_numpy()[poly_idx]
    commune = code.where(valid_code, joined)
    if mapping.get("code_commune"):
        disagree = valid_code & joined.notna() & _mask(code != joined)
        if disagree.any():
            warnings.append(
                f"{int(disagree.sum())} fait(s) dont le code commune ne correspond pas au point : le code du fichier est gardé."
            )
        derived = ~valid_code & joined.notna()
        if derived.any():
            warnings.append(
                f"{int(derived.sum())} fait(s) sans code commune valide : commune déduite de la localisation."
            )
    no_place = commune.isna() & ~located
    rej.add(
        (no_place & ~(code_raw.notna() & ~valid_code)).to_numpy(),
        "localisation",
        "ni coordonnées ni code commune",
    )
    outside = (located & joined.isna()) | (~located & commune.notna() & ~_mask(commune.isin(dep_codes)))
    no_point = ~located & commune.notna()

    # -- categories -------------------------------------------------------------------
    offence_raw = _text(frame, mapping.get("infraction"))
    offence, recognised = offences_from_labels(offence_raw)
    unmapped = offence_raw.notna() & ~recognised
    place_raw = _text(frame, mapping.get("type_lieu"))
    place = place_types_from_labels(place_raw)
    force_raw = _text(frame, mapping.get("force"))
    force = forces_from_labels(force_raw)
    if forces is None:
        from geo.organisation import indicative_competence

        forces = indicative_competence(communes)
    rule = forces
    force_missing = force.isna()
    force = force.where(~force_missing, commune.astype(object).map(rule))

    # -- offender profile -------------------------------------------------------------
    age = _age_classes(_text(frame, mapping.get("classe_age")), _text(frame, mapping.get("age")))
    sex_raw = _text(frame, mapping.get("sexe"))
    sex = _map_labels(sex_raw, _SEX)
    minor_raw = _text(frame, mapping.get("mineur"))
    minor = _map_labels(minor_raw, _BOOL)
    minor = minor.where(minor.notna(), (age == AGE_CLASSES[0]).where(age.notna(), None))

    # -- assemble ---------------------------------------------------------------------
    keep = ~rej.bad
    gdf = gpd.GeoDataFrame(
        {
            m.ID: ids,
            m.START: start,
            m.END: end,
            m.OFFENCE: offence,
            m.PLACE: place.fillna("autre"),
            m.FORCE: force,
            m.COMMUNE: commune,
            m.AGE: age,
            m.SEX: sex,
            m.MINOR: pd.array(minor.to_numpy(), dtype="boolean"),
            m.OUTSIDE: outside.to_numpy(dtype=bool),
        },
        geometry=points.to_numpy(),
        crs=WGS84,
    )[keep]
    incidents = m.conform_incidents(gdf.reset_index(drop=True))

    k = keep
    if unmapped[k].any():
        top = offence_raw[k & unmapped].value_counts().head(5)
        listed = ", ".join(f"« {lab} » ({cnt})" for lab, cnt in top.items())
        warnings.append(
            f"{int(unmapped[k].sum())} libellé(s) d'infraction non reconnu(s), classés « {OTHER_OFFENCE} » : {listed}."
        )
    if not mapping.get("infraction"):
        warnings.append(f"Pas de colonne d'infraction : tous les faits sont classés « {OTHER_OFFENCE} ».")
    bad_place = place_raw.notna() & place.isna()
    if bad_place[k].any():
        warnings.append(f"{int(bad_place[k].sum())} type(s) de lieu non reconnu(s) : classés « autre ».")
    if force_missing[k].any():
        warnings.append(
            f"{int(force_missing[k].sum())} fait(s) sans force reconnue : force déduite de la commune "
            "selon l'organisation territoriale (indicative sans les fichiers officiels)."
        )
    if outside[k].any():
        warnings.append(
            f"{int(outside[k].sum())} fait(s) hors du département {dep} : gardés et signalés (colonne hors_departement)."
        )
    if no_point[k].any():
        warnings.append(
            f"{int(no_point[k].sum())} fait(s) sans coordonnées : comptés dans leur commune, absents des cartes de points."
        )
    profile_bad = (sex_raw.notna() & sex.isna()) | (minor_raw.notna() & minor.isna())
    if profile_bad[k].any():
        warnings.append(f"{int(profile_bad[k].sum())} profil(s) d'auteur illisible(s) : laissés vides.")
    ignored = [c for c in frame.columns if c not in {v for v in mapping.values() if v}]
    notes = list(raw.notes)
    if ignored:
        notes.append("Colonnes non utilisées : " + ", ".join(map(str, ignored)) + ".")
    corr = (
        pd.concat(corrections, ignore_index=True)
        if corrections
        else pd.DataFrame(columns=["ligne", "champ", "correction"])
    )
    return ImportResult(
        incidents=incidents,
        rejections=rej.frame(raw.rejected),
        corrections=corr,
        warnings=warnings,
        notes=notes,
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

    Three incidents in the most populous commune of ``communes``: one with its exact time
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
        raise ValueError("Aucune commune : impossible de construire le modèle de fichier.")
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
