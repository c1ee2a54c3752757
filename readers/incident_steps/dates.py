"""Step 2, identifiers and dates: French and ISO dates, times, « between … and … » windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from readers.incident_steps.log import ImportLog
from readers.incident_steps.text import arrow_strings, series_from_arrow, text_column

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
    # Duplicates by their codes (hashing in C, then one sort of integers; ``duplicated`` on a
    # million Arrow strings costs twice as much). No identifier is missing here.
    codes, _ = pd.factorize(ids)
    dup = np.ones(len(ids), dtype=bool)
    dup[np.unique(codes, return_index=True)[1]] = False
    log.reject(dup, "identifiant", "identifiant en double (seule la première occurrence est gardée)", ids)
    return ids


#: Excel's day 0 (the 1900 date system, as LibreOffice writes it too): a serial date is days since.
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Serial dates read: 1950-01-01 to 2099-12-31 (a five-digit number elsewhere is no date).
_SERIAL_DAYS = (18264, 73415)


def excel_serial_datetimes(s: pd.Series) -> pd.Series:
    """Excel serial dates (« 45356 », « 45356.604166 »: days since 1899-12-30, the fraction a
    time of day), as a spreadsheet cell without a date format gives them; NaT otherwise."""
    text = s.where(s.str.fullmatch(r"\s*\d{5}(?:\.\d+)?\s*").fillna(False))
    days = pd.to_numeric(text, errors="coerce")
    days = days.where(days.between(*_SERIAL_DAYS))
    seconds = (days * 86400).round()
    return (EXCEL_EPOCH + pd.to_timedelta(seconds, unit="s")).astype("datetime64[ns]")


def parse_time_of_day(s: pd.Series) -> pd.Series:
    """Parse "HH:MM", "HH:MM:SS", "HHhMM", "HH h", "HH" into timedeltas (NaT when not); a
    fraction of a day (« 0.604166 », an Excel time without its format) too."""
    fraction = s.str.fullmatch(r"\s*0?\.\d+\s*").fillna(False)
    if fraction.any():
        seconds = (pd.to_numeric(s.where(fraction), errors="coerce") * 86400).round().clip(upper=86399)
        as_clock = pd.to_timedelta(seconds, unit="s")
        clock = as_clock.dt.components
        s = s.where(
            ~fraction,
            clock["hours"].astype("Int64").astype(str).str.zfill(2)
            + ":"
            + clock["minutes"].astype("Int64").astype(str).str.zfill(2)
            + ":"
            + clock["seconds"].astype("Int64").astype(str).str.zfill(2),
        )
    four = s.str.fullmatch(r"\s*\d{4}\s*").fillna(False)  # « 2055 »
    s = s.where(~four, s.str.strip().str[:2] + ":" + s.str.strip().str[2:])
    parts = s.str.extract(r"^\s*(\d{1,2})\s*(?:[:hH]\s*(\d{1,2})?)?\s*(?::\s*(\d{1,2}))?\s*$")
    h = pd.to_numeric(parts[0], errors="coerce")
    mnt = pd.to_numeric(parts[1], errors="coerce").fillna(0)
    sec = pd.to_numeric(parts[2], errors="coerce").fillna(0)
    ok = h.between(0, 23) & mnt.between(0, 59) & sec.between(0, 59)
    td = pd.to_timedelta(h * 3600 + mnt * 60 + sec, unit="s")
    return td.where(ok, pd.NaT)


def _parse_distinct(s: pd.Series, fmt: str) -> pd.Series:
    """``pd.to_datetime(s, format=fmt, errors="coerce")`` computed once per distinct value."""
    source = s if isinstance(s.dtype, pd.StringDtype) else s.astype(object)
    codes, uniques = pd.factorize(source, use_na_sentinel=True)
    parsed = pd.to_datetime(pd.Series(list(uniques), dtype=object), format=fmt, errors="coerce")
    table = np.append(parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
    return pd.Series(table[codes], index=s.index)


def _parse_day_and_time(s: pd.Series, fmt: str) -> pd.Series:
    """Values of ``fmt`` = « <day format> <time format> » read as a day and a time of day,
    each once per distinct value (an export has a few thousand days and 1,440 minutes for a
    million rows); NaT where either part does not read (the caller tries again whole)."""
    day_fmt, _, time_fmt = fmt.partition(" ")
    # Split at the first space in Arrow (C++, no regular expression: pandas' split and extract
    # go through Python); a space appended first so that every value has two parts.
    trimmed = pc.utf8_trim_whitespace(arrow_strings(s))
    space = pa.scalar(" ", trimmed.type)
    parts = pc.split_pattern(
        pc.binary_join_element_wise(trimmed, space, pa.scalar("", trimmed.type)), " ", max_splits=1
    )
    time_part = pc.utf8_trim_whitespace(pc.list_element(parts, 1))
    time_part = pc.if_else(pc.equal(time_part, ""), pa.scalar(None, time_part.type), time_part)
    day = _parse_distinct(series_from_arrow(pc.list_element(parts, 0), s.index), day_fmt)
    clock = _parse_distinct(series_from_arrow(time_part, s.index), time_fmt)
    day_start = clock.dt.normalize()
    return (day + (clock - day_start)).where(day.notna() & clock.notna())


def parse_datetimes(s: pd.Series) -> pd.Series:
    """Parse French and ISO date(-time) strings; NaT where unreadable."""
    out = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[ns]")
    todo = s.notna().to_numpy().copy()  # (pandas may hand back a read-only view)

    def keep(parsed: pd.Series, rows: np.ndarray, *, years: bool = True) -> None:
        """Write the values read (of the rows ``rows``) and mark them done."""
        values = parsed.to_numpy(dtype="datetime64[ns]")
        hit = ~np.isnat(values)
        if years:
            year = values.astype("datetime64[Y]").astype(np.int64) + 1970
            hit &= (year >= 1800) & (year <= 2200)
        out[rows[hit]] = values[hit]
        todo[rows[hit]] = False

    # Try first the formats that read a sample of the values: a wrong format costs a full pass
    # (the sample: the first distinct values, read in Arrow without a Python object per row).
    head = arrow_strings(s.iloc[:50_000].dropna())
    sample = pd.Series(pc.unique(head).slice(0, 500).to_pylist(), dtype=object)
    hits = {f: int(pd.to_datetime(sample, format=f, errors="coerce").notna().sum()) for f in _DATE_FORMATS}
    order = sorted(_DATE_FORMATS, key=lambda f: -hits[f])
    if hits[order[0]] and " " in order[0] and todo.any():
        # The commonest format is a day and a time: read the two apart, once per distinct
        # value; what does not read so goes through the formats below.
        rows = np.flatnonzero(todo)
        keep(_parse_day_and_time(s.iloc[rows], order[0]), rows)
    for fmt in order:
        if not todo.any():
            break
        rows = np.flatnonzero(todo)
        keep(pd.to_datetime(s.iloc[rows], format=fmt, errors="coerce"), rows)
    if todo.any():  # Excel serial dates (a spreadsheet's date cell without its format)
        rows = np.flatnonzero(todo)
        keep(excel_serial_datetimes(s.iloc[rows]), rows, years=False)
    if todo.any():  # ISO 8601 with a time zone or fractions of a second
        rows = np.flatnonzero(todo)
        parsed = pd.to_datetime(s.iloc[rows], format="ISO8601", errors="coerce", utc=True)
        if parsed.notna().any():
            keep(parsed.dt.tz_convert("Europe/Paris").dt.tz_localize(None), rows)
    return pd.Series(out, index=s.index)


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
    """Rows dated by a day alone: no clock time in the date (nor a fraction of a day in an Excel
    serial date), no time column, no end."""
    has_clock = pc.match_substring_regex(
        pa.array(start_raw, type=pa.string()), r"[0-9]{1,2} *[:hH] *[0-9]{2}|^\s*[0-9]{5}\.[0-9]*[1-9]"
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
