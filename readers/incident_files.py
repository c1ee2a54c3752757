"""Reading users' incident files (the pipeline's *decode* step): CSV, spreadsheets (XLSX, XLSM,
XLS, ODS: :mod:`readers.spreadsheets`), GeoJSON, GeoPackage, (Geo)Parquet.

:func:`read_incident_file` reads the bytes into a :class:`RawTable` (all values as text,
the geometry when the format has one), detecting the format, the encoding (UTF-8 with or
without BOM, UTF-16, cp1252/latin-1) and the CSV delimiter; malformed CSV records are
reported, never silently dropped. Validation is :mod:`readers.incident_steps`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from core.errors import IncidentFileError
from core.formatting import fmt_count
from core.settings import SETTINGS
from readers.limits import SQLITE_HEADER, check_geopackage, check_parquet_expansion, refuse_containers
from readers.spreadsheets import is_spreadsheet, read_spreadsheet

REJECTION_COLUMNS = ["ligne", "champ", "motif", "valeur"]
#: Most columns an incident file may have (real exports have a few dozen).
MAX_COLUMNS = 500


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
    sheets: list[str] = field(default_factory=list)  # a workbook's sheets (empty otherwise)
    sheet: str | None = None  # the sheet read

    @property
    def n_rows(self) -> int:
        """Number of data rows in the file (read or not)."""
        return len(self.frame) + int(self.rejected["ligne"].nunique())


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------
def _utf16_without_bom(data: bytes) -> str | None:
    """« utf-16-le » or « utf-16-be » when every other byte of the start is NUL (ASCII text)."""
    head = data[:4096]
    if len(head) < 4:
        return None
    odd, even = head[1::2], head[0::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


_ESCAPED = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")


def _utf8_counts(data: bytes) -> tuple[int, int]:
    """Undecodable bytes and well-formed non-ASCII characters of ``data`` read as UTF-8.

    Only the runs of non-ASCII bytes are decoded (each followed by the ASCII byte after it):
    a multi-byte UTF-8 character is made of non-ASCII bytes only, so the runs decode as they
    do in the whole text, for a fraction of its length.
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    high = arr >= 0x80
    after = np.zeros_like(high)
    after[1:] = high[:-1] & ~high[1:]
    runs = arr[high | after].tobytes().decode("utf-8", errors="surrogateescape")
    return len(_ESCAPED.findall(runs)), len(_NON_ASCII.findall(runs))


def _decode(data: bytes, filename: str) -> tuple[str, str, list[int]]:
    """Decode text bytes; the encoding's name and the lines holding undecodable bytes.

    UTF-8 (BOM or not), UTF-16 (BOM or not). A UTF-8 file with a few bad bytes stays UTF-8
    (the bad bytes become « \ufffd » and their lines are reported); only a file whose
    non-ASCII bytes are not UTF-8 at all is read as Windows-1252.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data, bom = data[3:], True
    else:
        bom = False
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "UTF-16", []
    utf16 = _utf16_without_bom(data)
    if utf16:
        return data.decode(utf16, errors="replace"), "UTF-16 sans BOM", []
    try:
        return data.decode("utf-8"), "UTF-8 avec BOM" if bom else "UTF-8", []
    except UnicodeDecodeError:
        pass
    bad, good = _utf8_counts(data)
    if bom or good >= bad:
        escaped = data.decode("utf-8", errors="surrogateescape")
        search = _ESCAPED.search
        lines = [i + 1 for i, line in enumerate(escaped.splitlines()) if search(line)]
        return data.decode("utf-8", errors="replace"), "UTF-8 (octets invalides remplacés)", lines
    try:
        return data.decode("cp1252"), "Windows-1252", []
    except UnicodeDecodeError:
        return data.decode("latin-1"), "ISO-8859-1 (latin-1)", []


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


def _csv_header(text: str, filename: str) -> tuple[str, list[str]]:
    """The delimiter and the (unique) column names of a CSV text."""
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
    _check_size(0, len(names), filename)
    if len(names) < 2:
        raise IncidentFileError(
            f"Le fichier « {filename} » n'a qu'une colonne : séparez les colonnes par « ; » "
            "ou « , » et mettez une ligne d'en-tête (date, infraction, latitude, longitude…)."
        )
    return delimiter, names


def _csv_records(text: str, filename: str, delimiter: str, names: list[str]) -> tuple[pd.DataFrame, list]:
    """The records as text columns, and the malformed ones (number, text, field count)."""
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
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get), bad


def _read_csv_text(text: str, filename: str, encoding: str) -> RawTable:
    """A decoded CSV text as a :class:`RawTable`; malformed records listed as rejected."""
    text = text.lstrip("\ufeff")
    delimiter, names = _csv_header(text, filename)
    frame, bad = _csv_records(text, filename, delimiter, names)
    # Record numbers of the file (header = 1); pyarrow numbers records the same way.
    all_numbers = np.arange(2, len(frame) + len(bad) + 2)
    ok_numbers = all_numbers[~np.isin(all_numbers, [b[0] for b in bad])]
    if len(ok_numbers) != len(frame):  # unknown numbers: fall back to read order
        ok_numbers = np.arange(2, len(frame) + 2)
    reason = "ligne mal formée : {} champ(s) au lieu de {} (séparateur ou guillemets à vérifier)"
    rejected = pd.DataFrame(
        [(number, "ligne", reason.format(actual, len(names)), text_[:200]) for number, text_, actual in bad],
        columns=REJECTION_COLUMNS,
    )
    shown = "tabulation" if delimiter == "\t" else delimiter
    notes = [f"Format CSV, encodage {encoding}, séparateur « {shown} », {len(names)} colonnes."]
    return RawTable(frame, ok_numbers, filename, None, rejected, notes)


def clean_message(exc: BaseException, limit: int = 300) -> str:
    """A library's error message fit for a user: no internal path, cut to ``limit`` characters."""
    text = re.sub(r"(/vsimem|/tmp|/var|/home|/root|/work)/\S*", "le fichier", str(exc)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_size(n_rows: int, n_columns: int, filename: str) -> None:
    """Refuse, before parsing, a file with more rows or columns than allowed."""
    if n_rows > SETTINGS.max_upload_rows:
        raise IncidentFileError(
            f"Fichier trop volumineux : « {filename} » annonce {fmt_count(n_rows)} lignes "
            f"(maximum {fmt_count(SETTINGS.max_upload_rows)}). Découpez-le par période."
        )
    if n_columns > MAX_COLUMNS:
        raise IncidentFileError(
            f"Fichier inattendu : « {filename} » a {fmt_count(n_columns)} colonnes (maximum "
            f"{fmt_count(MAX_COLUMNS)}). Exportez seulement les colonnes utiles (date, infraction, lieu…)."
        )


def _read_geo(data: bytes, filename: str, kind: str) -> RawTable:
    """Every layer of a GeoJSON or GeoPackage (a ``couche`` column when there are several)."""
    import pyogrio

    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(io.BytesIO(data))]
        infos = {layer: pyogrio.read_info(io.BytesIO(data), layer=layer) for layer in layers}
        _check_size(
            sum(max(int(i["features"]), 0) for i in infos.values()),
            max((len(i["fields"]) for i in infos.values()), default=0),
            filename,
        )
        frames = [pyogrio.read_dataframe(io.BytesIO(data), layer=layer) for layer in layers]
    except IncidentFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - GDAL raises many types
        raise IncidentFileError(
            f"Lecture impossible du fichier {kind} « {filename} » ({clean_message(exc)}). Vérifiez le "
            "fichier (export complet, non tronqué) ou exportez-le en CSV."
        ) from exc
    if len(frames) == 1:
        return _raw_from_geodataframe(frames[0], filename, kind)
    gdf = pd.concat(
        [f.assign(couche=layer) for f, layer in zip(frames, layers, strict=True)], ignore_index=True
    )
    raw = _raw_from_geodataframe(gpd.GeoDataFrame(gdf, geometry=frames[0].geometry.name), filename, kind)
    raw.notes.append(
        f"{len(layers)} couches lues ({', '.join(layers)}) : toutes importées, la couche de chaque fait est "
        "dans la colonne « couche »."
    )
    return raw


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
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(io.BytesIO(data)).metadata
    except Exception as exc:  # noqa: BLE001
        raise IncidentFileError(
            f"Lecture impossible du fichier Parquet « {filename} » ({clean_message(exc)}). "
            "Vérifiez le fichier ou exportez-le en CSV."
        ) from exc
    _check_size(meta.num_rows, meta.num_columns, filename)
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


def read_incident_file(data: bytes, filename: str, *, sheet: str | None = None) -> RawTable:
    """Read an incident file of any supported format as text columns.

    Parameters
    ----------
    data : bytes
        Content of the file.
    filename : str
        Its name (the extension helps to detect the format).
    sheet : str, optional
        A workbook's sheet to read (default: the one that looks most like a table of records;
        see :mod:`readers.spreadsheets`).

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
    if is_spreadsheet(data, filename):  # a workbook's ZIP is scanned, capped, before calamine reads it
        return read_spreadsheet(data, filename, sheet=sheet)
    refuse_containers(data, filename, IncidentFileError)  # archives are never opened
    if data[:4] == b"PAR1" or name.endswith((".parquet", ".geoparquet")):
        check_parquet_expansion(data, filename, IncidentFileError)
        return _read_parquet(data, filename)
    if data[:16] == SQLITE_HEADER or name.endswith(".gpkg"):
        check_geopackage(data, filename, IncidentFileError)
        return _read_geo(data, filename, "GeoPackage")
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] == b"{":
        return _read_geo(data, filename, "GeoJSON")
    if name.endswith((".geojson", ".json")):
        raise IncidentFileError(
            f"« {filename} » n'est pas un GeoJSON (il ne commence pas par « {{ »). Exportez de nouveau la couche en "
            "GeoJSON, ou en CSV."
        )
    # Every record holds at least one line break: a bound on the rows without parsing.
    _check_size(
        max(data.count(b"\n") - 1, 0) if data[:2] not in (b"\xff\xfe", b"\xfe\xff") else 0, 0, filename
    )
    text, encoding, bad_lines = _decode(data, filename)
    if _looks_binary(text):
        raise IncidentFileError(
            f"Le fichier « {filename} » n'est pas un fichier texte lisible (contenu binaire). "
            "Formats acceptés : CSV, classeur (XLSX, XLS, ODS), GeoJSON, GeoPackage, Parquet."
        )
    raw = _read_csv_text(text, filename, encoding)
    if bad_lines:
        shown = ", ".join(map(str, bad_lines[:20])) + (" …" if len(bad_lines) > 20 else "")
        raw.notes.append(
            f"{len(bad_lines)} ligne(s) avec des octets invalides en UTF-8, remplacés par « \ufffd » "
            f"(lignes {shown}) : vérifiez ces valeurs ou réenregistrez le fichier en UTF-8."
        )
    return raw
