"""French formatting of figures and dates, on Babel's ``fr_FR`` locale (CLDR rules).

Every figure a user reads (pages, maps, reports, error messages) is written by this
module, so that a figure reads the same everywhere: narrow no-break space between
thousands, decimal comma, no-break space before « % », dates as ``15/06/2025``.
Values that the privacy gate replaced by a text (« secret ») pass through unchanged.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
from babel.core import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import NumberPattern, parse_pattern

from core.model import IncidentFilter
from core.vocabulary import FORCES, OFFENCES, OTHER_OFFENCE, PLACE_TYPES

LOCALE = Locale.parse("fr_FR")
#: Shown for a missing or undefined figure.
MISSING = "–"
_PERCENT = "\u00a0%"


@lru_cache(maxsize=64)
def _pattern(pattern: str) -> NumberPattern:
    return parse_pattern(pattern)


def _apply(value: float, pattern: str) -> str:
    return _pattern(pattern).apply(value, LOCALE)


def _decimals(n: int) -> str:
    return "." + "0" * n if n > 0 else ""


def _finite(x: object) -> bool:
    return x is not None and bool(np.isfinite(x))


def fmt_count(value: float | str) -> str:
    """An integer count with French thousands separators (``12 345``).

    A text (« secret » from the privacy gate) passes through.
    """
    if isinstance(value, str):
        return value
    return _apply(int(value), "#,##0")


def fmt_number(x: float | str | None, decimals: int = 1) -> str:
    """A number the French way (``1 234,5``); « – » when missing, a text passes through."""
    if isinstance(x, str):
        return x
    if not _finite(x):
        return MISSING
    return _apply(float(x), "#,##0" + _decimals(decimals))


# -- Table cells: the same French writing for thousands of values at once --------------------
# Babel formats one value in about 10 µs, ten times Python's own formatting: a ranking of the
# Nord's 647 communes has some 5,000 figures. These write what fmt_count, fmt_number and
# fmt_percent write (narrow no-break space, decimal comma; tests/test_formatting.py compares
# them), with Python's rounding of the float.
_THIN = "\u202f"


def cell_count(value: object) -> str:
    """``49728`` -> ``49 728``, rounded to the unit; a text passes through, « – » when missing."""
    if isinstance(value, str):
        return value
    if value is None or not np.isfinite(value):
        return MISSING
    return f"{round(float(value)):,}".replace(",", _THIN)


def cell_decimal(value: object, decimals: int) -> str:
    """``1234.5`` -> ``1 234,50`` with ``decimals`` decimals; a text passes through, « – » when missing."""
    if isinstance(value, str):
        return value
    if value is None or not np.isfinite(value):
        return MISSING
    return f"{float(value):,.{decimals}f}".replace(",", _THIN).replace(".", ",")


def cell_percent(value: object, decimals: int = 0) -> str:
    """A share ``0.125`` -> ``13 %`` (``12,5 %`` with one decimal); a text passes through."""
    if isinstance(value, str):
        return value
    if value is None or not np.isfinite(value):
        return MISSING
    body = cell_count(100 * float(value)) if decimals == 0 else cell_decimal(100 * float(value), decimals)
    return body + _PERCENT


def fmt_decimal(x: float | None, decimals: int = 2) -> str:
    """A number with exactly ``decimals`` decimals and no grouping (``0,85``, coordinates)."""
    if not _finite(x):
        return MISSING
    return _apply(float(x), "0" + _decimals(decimals))


def fmt_share(value: float | None) -> str:
    """A share as a percentage, two significant digits when small (``12 %``, ``0,024 %``)."""
    if not _finite(value):
        return MISSING
    pct = 100.0 * float(value)
    decimals = 0 if pct == 0 or abs(pct) >= 10 else max(0, 1 - int(np.floor(np.log10(abs(pct)))))
    return _apply(float(value), "#,##0" + _decimals(decimals) + _PERCENT)


def fmt_percent(value: float | None, decimals: int = 0) -> str:
    """A share as a percentage with fixed decimals (``12,5 %``)."""
    if not _finite(value):
        return MISSING
    return _apply(float(value), "#,##0" + _decimals(decimals) + _PERCENT)


def fmt_change(value: float | None) -> str:
    """A relative change as a signed percentage (``+12 %``, ``-8 %``).

    « – » when there is nothing in either period (NaN), « nouveau » when there was
    nothing in the reference period (infinite change).
    """
    if value is None or np.isnan(value):
        return MISSING
    if not np.isfinite(value):
        return "nouveau"
    return _apply(float(value), f"+#,##0{_PERCENT};-#,##0{_PERCENT}")


def fmt_interval(low: float, high: float) -> str:
    """A rate-ratio interval (``[0,85 ; 1,20]``; an infinite bound reads « ∞ »)."""

    def one(v: float) -> str:
        return "∞" if not np.isfinite(v) else fmt_decimal(v, 2)

    return f"[{one(low)} ; {one(high)}]"


def fmt_pvalue(p: float | None) -> str:
    """A p-value to three decimals without trailing zeros (``0,017``, ``0,05``, ``1``: never
    ``1,000``, which reads as a thousand), ``< 0,001`` when tiny."""
    if not _finite(p):
        return MISSING
    if p < 0.001:
        return "< 0,001"
    text = fmt_decimal(p, 3)
    return text.rstrip("0").rstrip(",") if "," in text else text


def fmt_date(day: dt.date | dt.datetime) -> str:
    """A date as written in French administrative texts (``15/06/2025``)."""
    return format_date(day, "dd/MM/y", locale=LOCALE)


def fmt_datetime(moment: dt.datetime) -> str:
    """A date and time (``15/06/2025 à 09:05``)."""
    return format_datetime(moment, "dd/MM/y 'à' HH:mm", locale=LOCALE)


def fmt_month(day: dt.date | dt.datetime) -> str:
    """A month and year (``juin 2025``)."""
    return format_date(day, "MMMM y", locale=LOCALE)


def fmt_month_name(day: dt.date | dt.datetime) -> str:
    """The name of a month (``juin``)."""
    return format_date(day, "MMMM", locale=LOCALE)


def fmt_period(start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> str:
    """A period from one day to another (``15/06/2025 – 14/08/2025``)."""
    return f"{fmt_date(start)} – {fmt_date(end)}"


def filter_description(flt: IncidentFilter, *, dates: bool = True) -> str:
    """A selection in words, for reports: dates, then only the restricted fields."""
    parts = []
    if dates and flt.start is not None and flt.end is not None:
        parts.append(f"du {fmt_date(flt.start)} au {fmt_date(flt.end)}")
    for label, values, every in (
        ("infractions", flt.offences, (*OFFENCES, OTHER_OFFENCE)),
        ("lieux", flt.places, PLACE_TYPES),
        ("forces", flt.forces, FORCES),
    ):
        if values is None or set(every) <= set(values):
            continue
        left_out = [v for v in every if v not in set(values)]
        if len(every) >= 6 and len(left_out) <= 3:  # most of a long list: say which are left out
            parts.append(f"{label} : toutes sauf " + ", ".join(f"« {v} »" for v in left_out))
        else:
            parts.append(f"{label} : " + ", ".join(values))
    return " ; ".join(parts) or "tous les faits"
