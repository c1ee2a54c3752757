"""Spreadsheets (XLSX, XLSM, XLS, ODS) as reporting tools export them, read by python-calamine.

Reporting tools write their extracts as workbooks: a summary sheet before the data, a title
block, an extraction date and a blank line above the header, sometimes a header over two rows
(a group label merged over its columns), Excel dates or serial numbers, INSEE codes stored as
numbers, and totals or notes at the bottom. :func:`read_spreadsheet` turns one sheet into the
:class:`~readers.incident_files.RawTable` every format becomes (text columns, the sheet's own
row numbers), so that the validation steps are the same as for a CSV:

* the **data sheet** is the one whose rows look most like a header and records
  (:func:`sheet_layout`); the user may choose another (``sheet``); every sheet's row count is
  in the notes;
* the **header** is the first row, within the first :data:`HEADER_SEARCH_ROWS`, whose cells
  are all text and as many as the records below it; the rows above it (title, extraction
  date) are named in the notes; a header over two rows is merged (« Lieu Commune »);
* **cells as text**: dates and times as ISO text (a day alone stays a day), whole numbers
  without « .0 » (the communes step restores a lost leading zero: 1001 → 01001), formulas by
  their cached value (calamine evaluates none);
* **footer rows** after the last record (totals, sources, notes) are rejected with their
  reason, never read as incidents; blank rows are counted in the notes.

Limits, before anything is decompressed: the file's size is bounded by the upload; an XLSX or
an ODS is a ZIP whose members are decompressed as a capped stream that is only counted
(:func:`check_zip_expansion`: a member's declared size can lie), up to
:func:`readers.limits.expanded_limit`; then the sheet's rows and columns are checked as for a
CSV.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import IncidentFileError
from core.formatting import fmt_count
from readers.limits import expanded_limit

#: File name endings read as spreadsheets.
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
#: The first bytes of an XLS (OLE2 compound file).
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
#: The header is looked for in the first rows of a sheet.
HEADER_SEARCH_ROWS = 60
#: Most members a workbook's ZIP may hold (a workbook has a few dozen).
MAX_ZIP_MEMBERS = 10_000
_CHUNK = 1 << 20
#: The first cell of a footer row: totals, sources, notes, reading help.
_FOOTER = re.compile(
    r"^\s*(\*|\(\d\)|total|sous[- ]total|totaux|ensemble|source|sources|note|notes|lecture|champ|"
    r"nb\b|nombre total|extraction|export|donnees provisoires|avertissement)",
    re.IGNORECASE,
)


def is_spreadsheet(data: bytes, filename: str) -> bool:
    """Whether the bytes are a workbook: by the name's ending, an XLS's OLE2 header, or a ZIP
    holding an Excel workbook or an OpenDocument spreadsheet."""
    if filename.lower().endswith(SPREADSHEET_SUFFIXES) or data[:8] == OLE2_MAGIC:
        return True
    if data[:4] != ZIP_MAGIC:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist()[:MAX_ZIP_MEMBERS])
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return "xl/workbook.xml" in names or "content.xml" in names and "mimetype" in names


def check_zip_expansion(data: bytes, filename: str) -> None:
    """Decompress every member of a workbook's ZIP as a stream that is only counted, and
    refuse the file when the total exceeds :func:`~readers.limits.expanded_limit` (a
    decompression bomb, or a sheet too large for this server). Declared sizes are not trusted.

    Raises
    ------
    IncidentFileError
        In French: what is wrong and what to do.
    """
    limit = expanded_limit(len(data))
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise IncidentFileError(
                    f"« {filename} » contient {fmt_count(len(members))} éléments : ce n'est pas un classeur "
                    "ordinaire. Enregistrez la feuille des faits en CSV ou dans un nouveau classeur."
                )
            for member in members:
                with archive.open(member) as stream:
                    while chunk := stream.read(_CHUNK):
                        total += len(chunk)
                        if total > limit:
                            raise IncidentFileError(
                                f"« {filename} » se décompresse en plus de {fmt_count(limit // 2**20)} Mo : "
                                "fichier refusé (classeur piégé, ou trop grand pour ce serveur). Découpez "
                                "l'extraction par période, ou enregistrez la feuille des faits en CSV."
                            )
    except IncidentFileError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        EOFError,
        OSError,
        ValueError,
    ) as exc:
        raise IncidentFileError(
            f"Le classeur « {filename} » est endommagé ou chiffré ({type(exc).__name__}) : ouvrez-le dans "
            "votre tableur et enregistrez-le de nouveau (XLSX, ODS), ou exportez la feuille en CSV."
        ) from exc


# ---------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------
def cell_text(value: object) -> str | None:
    """A cell as the text the validation steps read (None when empty).

    Dates and times in ISO form (a day alone stays a day: no « 00:00 » invented, and a date
    and time at midnight is read as the day, as a date cell of an ODS gives it), whole
    numbers without a decimal part (« 1001 », not « 1001.0 »), other numbers as Python writes
    them (a serial date « 45356.5 » is read by the dates step), booleans « VRAI »/« FAUX »."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, dt.datetime):  # midnight: a date cell (ODS writes every date so)
        return value.strftime("%Y-%m-%d" if value.time() == dt.time() else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, dt.timedelta):
        seconds = int(round(value.total_seconds()))
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if isinstance(value, float):
        if not np.isfinite(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value).strip() or None


def _plain(text: str) -> str:
    """Lower case without accents (for the footer words)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


# ---------------------------------------------------------------------------------------
# Layout of a sheet
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SheetLayout:
    """Where a sheet's table is: header row(s) and records (0-based row indices)."""

    header: int  # first header row
    header_rows: int  # 1, or 2 for a header over two rows
    records: int  # rows after the header with a record's shape (the sheet's score)

    @property
    def first_record(self) -> int:
        return self.header + self.header_rows


def _filled(row: list) -> int:
    return sum(1 for v in row if v is not None and v != "")


def _all_text(row: list) -> bool:
    return all(isinstance(v, str) for v in row if v is not None and v != "")


def sheet_layout(rows: list[list]) -> SheetLayout | None:
    """The header and the records of a sheet's rows, or None when it holds no table.

    The header is the first row of the first :data:`HEADER_SEARCH_ROWS` whose cells are all
    text, at least two and at least half the widest row's, and followed by a record (a row at
    least half as full); it spans two rows when the next one is also all text and fills
    columns the first leaves empty (a group label merged over its columns)."""
    head = rows[:HEADER_SEARCH_ROWS]
    width = max((_filled(r) for r in head), default=0)
    if width < 2:
        return None
    need = max(2, (width + 1) // 2)
    for i, row in enumerate(head):
        n = _filled(row)
        if n < need or not _all_text(row):
            continue
        header_rows = 1
        nxt = rows[i + 1] if i + 1 < len(rows) else []
        if _all_text(nxt) and _filled(nxt) >= 2 and i + 2 < len(rows):
            empty_above = [j for j, v in enumerate(nxt) if v not in (None, "") and row[j] in (None, "")]
            if empty_above and not _all_text(rows[i + 2]):
                header_rows = 2
        start = i + header_rows
        floor = max(2, (max(n, _filled(nxt) if header_rows == 2 else 0) + 1) // 2)
        records = sum(1 for r in rows[start:] if _filled(r) >= floor)
        if records == 0:
            continue
        return SheetLayout(i, header_rows, records)
    return None


def _header_names(rows: list[list], layout: SheetLayout) -> list[str]:
    """Column names; a two-row header's first row carried over the columns it spans."""
    top = [cell_text(v) or "" for v in rows[layout.header]]
    if layout.header_rows == 1:
        return top
    bottom = [cell_text(v) or "" for v in rows[layout.header + 1]]
    carried, last = [], ""
    for j, name in enumerate(top):
        if name:
            last = name
        # A group label spans the empty cells after it while the row below names them.
        carried.append(name or (last if j < len(bottom) and bottom[j] else ""))
    return [" ".join(p for p in (a, b) if p) for a, b in zip(carried, bottom, strict=False)]


def _footer_start(rows: list[list], first: int, width: int) -> int:
    """Index of the first footer row: the trailing rows (blank ones skipped) that begin with a
    total, source or note word, or that fill a single cell of a table of three columns or more."""
    end = len(rows)
    k = end
    while k > first:
        row = rows[k - 1]
        n = _filled(row)
        if n == 0:
            k -= 1
            continue
        first_cell = next((v for v in row if v not in (None, "")), "")
        text = _plain(cell_text(first_cell) or "")
        if _FOOTER.match(text) or (n == 1 and width >= 3):
            k -= 1
            end = k
            continue
        break
    return end


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------
def _workbook(data: bytes, filename: str):
    import python_calamine

    if data[:4] == ZIP_MAGIC:
        check_zip_expansion(data, filename)
    elif data[:8] != OLE2_MAGIC:
        raise IncidentFileError(
            f"« {filename} » n'est pas un classeur lisible (ni XLSX, ni XLS, ni ODS) : ouvrez-le dans votre "
            "tableur et enregistrez-le en XLSX, ou exportez la feuille des faits en CSV."
        )
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine's errors (password, XML, ZIP) have no common base
        raise IncidentFileError(
            f"Le classeur « {filename} » ne peut pas être lu ({_calamine_reason(exc)}) : ouvrez-le dans votre "
            "tableur et enregistrez-le de nouveau sans mot de passe (XLSX, ODS), ou exportez la feuille en CSV."
        ) from exc


def _calamine_reason(exc: Exception) -> str:
    name = type(exc).__name__
    return {"PasswordError": "protégé par un mot de passe", "XmlError": "contenu XML invalide"}.get(
        name, f"erreur {name}"
    )


def _sheet_rows(book, name: str, filename: str) -> list[list]:
    from readers.incident_files import _check_size

    try:
        sheet = book.get_sheet_by_name(name)
        _check_size(int(sheet.height), int(sheet.width), filename)
        return sheet.to_python(skip_empty_area=False)
    except IncidentFileError:
        raise
    except Exception as exc:
        raise IncidentFileError(
            f"La feuille « {name} » du classeur « {filename} » ne peut pas être lue ({_calamine_reason(exc)}) : "
            "enregistrez-la de nouveau, ou exportez-la en CSV."
        ) from exc


def sheet_names(data: bytes, filename: str) -> list[str]:
    """The names of a workbook's visible worksheets, in order."""
    book = _workbook(data, filename)
    return _visible_sheets(book)


def _visible_sheets(book) -> list[str]:
    out = []
    for meta in book.sheets_metadata:
        kind, visible = str(meta.typ), str(meta.visible)
        if kind.endswith("WorkSheet") and visible.endswith(".Visible"):
            out.append(meta.name)
    return out or list(book.sheet_names)


def read_spreadsheet(data: bytes, filename: str, *, sheet: str | None = None):
    """A workbook's data sheet as a :class:`~readers.incident_files.RawTable`.

    Parameters
    ----------
    data : bytes
        The workbook (XLSX, XLSM, XLS or ODS).
    filename : str
        Its name, for the messages.
    sheet : str, optional
        The sheet to read (default: the one that looks most like a table of records).

    Returns
    -------
    RawTable
        Text columns, the sheet's row numbers (as the spreadsheet shows them), the footer rows
        rejected with their reason, notes naming the sheet, the header row and every sheet's
        row count; ``sheets`` lists the sheets the user may choose.

    Raises
    ------
    IncidentFileError
        An unreadable, protected or oversized workbook, an unknown sheet, or no table.
    """
    from readers.incident_files import REJECTION_COLUMNS, RawTable, _unique_names

    book = _workbook(data, filename)
    names = _visible_sheets(book)
    if sheet is not None and sheet not in names:
        raise IncidentFileError(
            f"Le classeur « {filename} » n'a pas de feuille « {sheet} » (feuilles : {', '.join(names)})."
        )
    sheets: dict[str, list[list]] = {}
    layouts: dict[str, SheetLayout | None] = {}
    for name in names:
        if sheet is not None and name != sheet:
            sheets[name], layouts[name] = [], None
            continue
        sheets[name] = _sheet_rows(book, name, filename)
        layouts[name] = sheet_layout(sheets[name])
    if sheet is None:
        scored = [n for n in names if layouts[n] is not None]
        if not scored:
            raise IncidentFileError(
                f"Aucune feuille du classeur « {filename} » ne contient un tableau (une ligne d'en-tête puis une "
                "ligne par fait) : vérifiez que l'extraction n'est pas vide."
            )
        sheet = max(scored, key=lambda n: layouts[n].records)
    layout = layouts[sheet]
    rows = sheets[sheet]
    if layout is None:
        raise IncidentFileError(
            f"La feuille « {sheet} » de « {filename} » ne contient pas de tableau (une ligne d'en-tête en "
            "texte puis une ligne par fait) : choisissez une autre feuille."
        )
    columns = _unique_names(_header_names(rows, layout))
    width = len(columns)
    first = layout.first_record
    end = _footer_start(rows, first, width)
    body = rows[first:end]
    numbers = np.arange(first + 1, first + 1 + len(body))  # as the spreadsheet numbers rows
    filled = np.fromiter((_filled(r) > 0 for r in body), dtype=bool, count=len(body))
    cells = [
        [cell_text(r[j]) if j < len(r) else None for j in range(width)]
        for r, f in zip(body, filled, strict=True)
        if f
    ]
    frame = pd.DataFrame(cells, columns=columns, dtype=pd.StringDtype("pyarrow"))
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series([], dtype=pd.StringDtype("pyarrow")) for c in columns})
    footer = [
        (
            end + 1 + i,
            "ligne",
            "ligne de pied de tableau (total, source ou note) : ce n'est pas un fait",
            " ; ".join(t for t in (cell_text(v) for v in row) if t)[:200],
        )
        for i, row in enumerate(rows[end:])
        if _filled(row)
    ]
    rejected = pd.DataFrame(footer, columns=REJECTION_COLUMNS)
    kind = "ODS" if filename.lower().endswith(".ods") else "XLS" if data[:8] == OLE2_MAGIC else "XLSX"
    counts = ", ".join(
        f"« {n} » : {fmt_count(len(sheets[n]))} lignes" if sheets[n] or n == sheet else f"« {n} »"
        for n in names
    )
    skipped = [cell_text(v) for r in rows[: layout.header] for v in r if cell_text(v)]
    notes = [
        f"Classeur {kind}, feuille « {sheet} » ({len(names)} feuille(s) : {counts}), {width} colonnes, "
        f"en-tête ligne {layout.header + 1}"
        + (
            f" sur deux lignes ({layout.header + 1} et {layout.header + 2})"
            if layout.header_rows == 2
            else ""
        )
        + "."
    ]
    if skipped:
        shown = " ; ".join(skipped[:4]) + (" …" if len(skipped) > 4 else "")
        notes.append(f"{layout.header} ligne(s) au-dessus de l'en-tête ignorées (titre : {shown}).")
    if (~filled).any():
        notes.append(f"{int((~filled).sum())} ligne(s) vide(s) entre les faits ignorées.")
    if footer:
        notes.append(f"{len(footer)} ligne(s) de pied de tableau (total, source, note) rejetées.")
    return RawTable(frame, numbers[filled], filename, None, rejected, notes, sheets=names, sheet=sheet)
