"""Import of the official SSMSI statistics: communal and departmental bases, both formats.

Formats (see ``shared/realdata/README.md``):

* current communal base: ``CODGEO_<year>`` (detected by prefix), ``annee``, ``indicateur``,
  ``unite_de_compte``, ``nombre``, ``taux_pour_mille``, ``est_diffuse`` (``diff``/``ndiff``),
  ``insee_pop``, ``insee_log``, ``complement_info_nombre``, ``complement_info_taux`` (on
  ``ndiff`` rows: the mean of the département's unpublished communes, not the commune's);
* older communal base (to July 2024): ``CODGEO_2024``, ``annee`` (two digits), ``classe``,
  ``unité.de.compte``, ``valeur.publiée``, ``faits``, ``tauxpourmille``,
  ``complementinfoval``, ``complementinfotaux``, ``POP``, ``LOG``;
* departmental bases: ``Code.département`` / ``Code_departement`` … with ``classe`` or
  ``indicateur``, ``faits`` or ``nombre``.

CSV or CSV.gz, with or without BOM, quoted or not, ``NA`` quoted or not, decimal comma.
Every base is returned in one canonical table (:data:`STAT_COLUMNS`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.errors import IncidentFileError
from core.formatting import fmt_count
from core.vocabulary import OLD_SSMSI_INDICATORS
from readers.limits import GZIP_MAGIC, gunzip_bounded, refuse_containers

STAT_COLUMNS = (
    "niveau",  # "commune" or "departement"
    "code",
    "annee",
    "indicateur",
    "unite",
    "nombre",  # NaN when not published
    "taux_pour_mille",  # as published: per 1,000 dwellings for burglaries, inhabitants otherwise
    "diffuse",
    "population",
    "logements",
    "estimation_dep_nombre",  # département mean of unpublished communes (never the commune's value)
    "estimation_dep_taux",
)
PER_DWELLING = ("Cambriolages de logement",)
#: Old indicator names of the SSMSI bases. "Usage de stupéfiants (AFD)" (fixed fines, a
#: subset of drug use) stays a separate indicator here: mapping it would count it twice.
_STAT_RENAMES = {k: v for k, v in OLD_SSMSI_INDICATORS.items() if k != "Usage de stupéfiants (AFD)"}

_CURRENT_COMMUNAL = ("annee", "indicateur", "unite_de_compte", "nombre", "taux_pour_mille", "est_diffuse")
_OLD_COMMUNAL = ("annee", "classe", "unité.de.compte", "valeur.publiée", "faits", "tauxpourmille")
_OLD_DEPARTMENTAL = ("classe", "annee", "Code.département", "unité.de.compte", "faits", "tauxpourmille")
_CURRENT_DEPARTMENTAL = (
    "Code_departement",
    "annee",
    "indicateur",
    "unite_de_compte",
    "nombre",
    "taux_pour_mille",
)


class StatisticsFileError(IncidentFileError):
    """An SSMSI file in none of the known formats."""


@dataclass
class OfficialStatistics:
    """A read SSMSI base in the canonical form."""

    table: pd.DataFrame
    kind: str  # "communal (format actuel)", ...
    filename: str
    notes: list[str] = field(default_factory=list)


def _open_bytes(data: bytes, filename: str = "fichier") -> bytes:
    """The CSV's bytes: a gzip is decompressed within :func:`readers.limits.expanded_limit`,
    any other archive refused."""
    refuse_containers(data, filename, StatisticsFileError, gzip_allowed=True)
    if data[:2] == GZIP_MAGIC:
        return gunzip_bounded(data, filename, StatisticsFileError)
    return data


def _read_all_strings(data: bytes, filename: str) -> pa.Table:
    head = data[:1_000_000]
    try:
        head.decode("utf-8")
        encoding = "utf8"
    except UnicodeDecodeError as exc:
        # A cut in the middle of a multi-byte character at the 1 MB boundary is still UTF-8.
        encoding = "utf8" if exc.start > len(head) - 4 else "cp1252"
    first = data.split(b"\n", 1)[0].lstrip(b"\xef\xbb\xbf").decode("utf-8", "replace")
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    names = [c.strip().strip('"') for c in first.rstrip("\r").split(delimiter)]
    try:
        return pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(encoding=encoding, block_size=1 << 25),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                null_values=["NA", "", "N/A"],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowKeyError) as exc:
        raise StatisticsFileError(
            f"Lecture impossible de « {filename} » ({exc}). Attendu : une base statistique SSMSI "
            "au format CSV (séparateur « ; »)."
        ) from exc


def _number(col: pa.ChunkedArray) -> np.ndarray:
    """Decimal-comma strings to floats (NaN where missing or unreadable)."""
    s = pc.utf8_trim_whitespace(pc.replace_substring(col, ",", "."))
    try:
        return pc.cast(s, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a stray word: slow, tolerant path
        out = pd.to_numeric(pd.Series(s.to_numpy(zero_copy_only=False)), errors="coerce")
        return out.to_numpy(dtype=float)


def _categories(
    col: pa.ChunkedArray, rename: dict[str, str | None] | None = None, clean=None
) -> pd.Categorical:
    """A string column as a pandas Categorical, values renamed once per distinct value."""
    enc = pc.dictionary_encode(col).combine_chunks()
    values = enc.dictionary.to_pylist()
    if clean is not None:
        values = [clean(v) if v is not None else None for v in values]
    if rename is not None:
        values = [rename.get(v, v) if v is not None else None for v in values]
    cats = pd.unique(pd.Series([v for v in values if v is not None], dtype=object))
    lookup = {c: i for i, c in enumerate(cats)}
    code_of_value = np.array(
        [lookup.get(v, -1) if v is not None else -1 for v in values] or [-1], dtype=np.int64
    )
    idx = enc.indices.to_numpy(zero_copy_only=False)
    idx = np.where(pd.isna(idx), 0, idx).astype(np.int64) if idx.dtype.kind == "f" else idx.astype(np.int64)
    codes = code_of_value[idx] if len(values) else np.full(len(idx), -1)
    if enc.null_count:
        codes = np.where(enc.is_null().to_numpy(zero_copy_only=False), -1, codes)
    return pd.Categorical.from_codes(codes, categories=list(cats))


def _flag(col: pa.ChunkedArray, value: str) -> np.ndarray:
    return pc.fill_null(pc.equal(col, value), False).to_numpy(zero_copy_only=False)


def _years(col: pa.ChunkedArray) -> np.ndarray:
    y = _number(col)
    return np.where(y < 100, y + 2000, y).astype("int64")


def _unit(u: str) -> str:
    return u[:1].upper() + u[1:]


def _code(c: str) -> str:
    return c.strip().zfill(2)


def _columns_message(filename: str, found: list[str]) -> str:
    return (
        f"« {filename} » n'est pas une base statistique SSMSI reconnue. Colonnes attendues "
        f"(base communale) : CODGEO_<année>, {', '.join(_CURRENT_COMMUNAL)}, insee_pop, insee_log, "
        "complement_info_nombre, complement_info_taux ; ou l'ancien format : CODGEO_2024, "
        f"{', '.join(_OLD_COMMUNAL)} ; ou une base départementale ({', '.join(_OLD_DEPARTMENTAL)}). "
        f"Colonnes trouvées : {', '.join(found) or 'aucune'}."
    )


@dataclass(frozen=True)
class SsmsiFormat:
    """One edition of an SSMSI base: which of its columns gives each canonical column."""

    kind: str
    level: str  # "commune" or "departement"
    required: tuple[str, ...]  # columns that identify the format
    columns: dict[
        str, str
    ]  # canonical name -> column of the file (``code``: the CODGEO_<year> column for communes)
    published: str | None = None  # the « diff »/« ndiff » column (departmental bases publish everything)

    def matches(self, present: set[str], codgeo: str | None) -> bool:
        return (codgeo is not None or self.level != "commune") and set(self.required) <= present


#: Canonical numbers a format may lack (NaN then).
_OPTIONAL_NUMBERS = ("population", "logements", "estimation_dep_nombre", "estimation_dep_taux")
_CURRENT_NAMES = {
    "indicateur": "indicateur",
    "unite": "unite_de_compte",
    "nombre": "nombre",
    "taux_pour_mille": "taux_pour_mille",
    "population": "insee_pop",
    "logements": "insee_log",
}
_OLD_NAMES = {
    "indicateur": "classe",
    "unite": "unité.de.compte",
    "nombre": "faits",
    "taux_pour_mille": "tauxpourmille",
}
SSMSI_FORMATS: tuple[SsmsiFormat, ...] = (
    SsmsiFormat(
        "base communale (format actuel)",
        "commune",
        _CURRENT_COMMUNAL,
        {
            **_CURRENT_NAMES,
            "estimation_dep_nombre": "complement_info_nombre",
            "estimation_dep_taux": "complement_info_taux",
        },
        published="est_diffuse",
    ),
    SsmsiFormat(
        "base communale (ancien format)",
        "commune",
        _OLD_COMMUNAL,
        {
            **_OLD_NAMES,
            "population": "POP",
            "logements": "LOG",
            "estimation_dep_nombre": "complementinfoval",
            "estimation_dep_taux": "complementinfotaux",
        },
        published="valeur.publiée",
    ),
    SsmsiFormat(
        "base départementale (ancien format)",
        "departement",
        _OLD_DEPARTMENTAL,
        {**_OLD_NAMES, "code": "Code.département", "population": "POP", "logements": "LOG"},
    ),
    SsmsiFormat(
        "base départementale (format actuel)",
        "departement",
        _CURRENT_DEPARTMENTAL,
        {**_CURRENT_NAMES, "code": "Code_departement"},
    ),
)


def official_statistics_from_bytes(data: bytes, filename: str) -> OfficialStatistics:
    """Read an SSMSI communal or departmental base (any edition) into the canonical table.

    Parameters
    ----------
    data : bytes
        Content of the CSV or CSV.gz file.
    filename : str
        Its name (for messages).

    Returns
    -------
    OfficialStatistics
        ``table`` with :data:`STAT_COLUMNS`; indicators in the current vocabulary (old
        names mapped, the old aggregate "Coups et blessures volontaires" dropped so that
        nothing is counted twice).

    Raises
    ------
    StatisticsFileError
        Unreadable file, or columns of none of the known formats (the message lists the
        columns expected and found).
    """
    raw = _open_bytes(data, filename)
    if not raw.strip():
        raise StatisticsFileError(f"Le fichier « {filename} » est vide.")
    t = _read_all_strings(raw, filename)
    cols = t.column_names
    colset = set(cols)
    codgeo = next((c for c in cols if c.upper().startswith("CODGEO_")), None)
    n = t.num_rows

    def col(name: str) -> pa.ChunkedArray:
        return t.column(name)

    def opt_number(name: str) -> np.ndarray:
        return _number(col(name)) if name in colset else np.full(n, np.nan)

    fmt = next((f for f in SSMSI_FORMATS if f.matches(colset, codgeo)), None)
    if fmt is None:
        raise StatisticsFileError(_columns_message(filename, cols))
    kind = fmt.kind
    source = {**fmt.columns, "code": codgeo if fmt.level == "commune" else fmt.columns["code"]}
    df = pd.DataFrame(
        {
            "niveau": fmt.level,
            "code": _categories(col(source["code"]), clean=_code),
            "annee": _years(col("annee")),
            "indicateur": _categories(col(source["indicateur"]), _STAT_RENAMES),
            "unite": _categories(col(source["unite"]), clean=_unit),
            "nombre": _number(col(source["nombre"])),
            "taux_pour_mille": _number(col(source["taux_pour_mille"])),
            "diffuse": _flag(col(fmt.published), "diff") if fmt.published else True,
            **{name: opt_number(source[name]) if source.get(name) else np.nan for name in _OPTIONAL_NUMBERS},
        }
    )
    # The old aggregate (renamed to None) is dropped: its parts are in the table.
    df = df[df["indicateur"].notna() & df["code"].notna()].reset_index(drop=True)
    # A value marked unpublished is never shown as the commune's own value.
    df.loc[~df["diffuse"], ["nombre", "taux_pour_mille"]] = np.nan
    notes = [f"{kind} : {fmt_count(len(df))} lignes, années {df['annee'].min()}–{df['annee'].max()}."]
    return OfficialStatistics(df[list(STAT_COLUMNS)], kind, filename, notes)
