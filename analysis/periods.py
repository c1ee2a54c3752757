"""Periods of whole days for the follow-up: a period, its French label, its references (the
same days a year earlier, the period just before) and the default bimonthly periods."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import DelinquanceError
from core.formatting import fmt_month_name, fmt_period


class PeriodError(DelinquanceError):
    """A period that cannot be used (reversed dates)."""


class PeriodNotCoveredError(PeriodError):
    """The data do not cover a period asked for."""


@dataclass(frozen=True)
class Period:
    """A period of whole days, ``start`` and ``end`` included."""

    start: pd.Timestamp
    end: pd.Timestamp

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", pd.Timestamp(self.start).normalize())
        object.__setattr__(self, "end", pd.Timestamp(self.end).normalize())
        if self.end < self.start:
            raise PeriodError("La fin de la période précède son début : inversez les deux dates.")

    @property
    def days(self) -> int:
        """Length in days."""
        return int((self.end - self.start).days) + 1

    @property
    def whole_months(self) -> bool:
        """True when the period starts on a first of month and ends on a last."""
        return self.start.day == 1 and (self.end + pd.Timedelta(days=1)).day == 1

    @property
    def label(self) -> str:
        """French label: ``novembre – décembre 2025`` for whole months, else the dates."""
        if not self.whole_months:
            return fmt_period(self.start, self.end)
        a, b = fmt_month_name(self.start), fmt_month_name(self.end)
        if (self.start.year, self.start.month) == (self.end.year, self.end.month):
            return f"{a} {self.start.year}"
        if self.start.year == self.end.year:
            return f"{a} – {b} {self.end.year}"
        return f"{a} {self.start.year} – {b} {self.end.year}"

    def shifted(self, *, years: int = 0, months: int = 0) -> Period:
        """The same calendar period moved by whole years or months (month ends kept)."""
        offset = pd.DateOffset(years=years, months=months)
        start = self.start + offset
        end = self.end + pd.Timedelta(days=1) + offset - pd.Timedelta(days=1)
        return Period(start, end)

    def mask(self, dates: pd.Series) -> np.ndarray:
        """Which dates fall in the period."""
        return ((dates >= self.start) & (dates < self.end + pd.Timedelta(days=1))).to_numpy(dtype=bool)


def default_periods(last_day: dt.date | pd.Timestamp, *, months: int = 2) -> tuple[Period, Period, Period]:
    """The last ``months`` full months up to ``last_day``, the same months a year earlier,
    and the ``months`` months before.

    Parameters
    ----------
    last_day : date
        Last day covered by the data.
    months : int, default 2
        Length of the follow-up period in months (two for the bimonthly review).

    Returns
    -------
    current, year_before, previous : Period
    """
    last = pd.Timestamp(last_day).normalize()
    month_end = last + pd.offsets.MonthEnd(0)
    end = last if last == month_end else last.replace(day=1) - pd.Timedelta(days=1)
    start = (end.replace(day=1) - pd.DateOffset(months=months - 1)).normalize()
    current = Period(start, end)
    refs = reference_periods(current)
    return current, refs["annee"], refs["precedente"]


def reference_periods(current: Period) -> dict[str, Period]:
    """The references of a period: the same days a year earlier and the period just before.

    When ``current`` is made of whole months, "just before" is the same number of whole
    months (two months before November–December is September–October); otherwise the
    same number of days.
    """
    if current.whole_months:
        n = (current.end.year - current.start.year) * 12 + current.end.month - current.start.month + 1
        before = current.shifted(months=-n)
    else:
        before = Period(current.start - pd.Timedelta(days=current.days), current.start - pd.Timedelta(days=1))
    return {"annee": current.shifted(years=-1), "precedente": before}
