"""Every table a page shows, with its figures written the French way and still sortable.

``st.dataframe`` formats numbers in the browser, the English way (``49728``, ``55.59``,
``0.0169``). :func:`show_table` sends a pandas Styler instead: Streamlit then ships the
French display text of every figure beside the numbers themselves, so the grid shows
``49 728``, ``55,59`` and ``0,017`` and still sorts by value (a text column would sort
``10`` before ``9``). Dates read ``01/12/2026`` (``01/12/2026 09:00`` with a time); a missing
value reads « – ». A table too large for a Styler (:data:`STYLER_CELLS`) is sent as French
text: it still reads right, and sorts as text.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from core.formatting import MISSING, cell_count, cell_decimal, cell_percent
from ui.columns import column_config_from_frame

#: Above this many cells a table is sent as text (pandas refuses to style more than
#: ``styler.render.max_elements``, 262,144 by default; formatting row by row costs time).
STYLER_CELLS = 200_000


def _decimals_of(values: pd.Series) -> int:
    """Decimals a float column is read with: two, three when every value is below 1 (shares,
    probabilities: ``0,017``), none when every value is whole."""
    finite = values[np.isfinite(values.to_numpy(dtype=float))]
    if finite.empty or (finite == finite.round()).all():
        return 0
    return 3 if finite.abs().max() < 1 else 2


def _formatter(column: pd.Series) -> Callable[[object], str] | None:
    """The French display of one column's values (None: the column is not a figure)."""
    if pd.api.types.is_bool_dtype(column):
        return lambda v: "oui" if v is True or v == 1 else "non" if v is False or v == 0 else MISSING
    if pd.api.types.is_integer_dtype(column):
        return cell_count
    if pd.api.types.is_float_dtype(column):
        decimals = _decimals_of(column)
        return cell_count if decimals == 0 else (lambda v, d=decimals: cell_decimal(v, d))
    if pd.api.types.is_datetime64_any_dtype(column):
        times = column.dropna()
        with_time = bool(len(times)) and bool((times != times.dt.normalize()).any())
        pattern = "%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y"
        return lambda v: MISSING if pd.isna(v) else pd.Timestamp(v).strftime(pattern)
    if column.dtype != object:
        return None
    # Figures mixed with texts (« secret » from the privacy gate) or with missing values.
    numbers = pd.to_numeric(column[column.map(_is_figure)], errors="coerce").astype(float)
    if numbers.empty and not column.map(_missing).any():
        return None
    decimals = _decimals_of(numbers) if len(numbers) else 0

    def mixed(v: object) -> object:
        if _missing(v):
            return MISSING
        if not _is_figure(v):
            return v
        return cell_count(v) if decimals == 0 else cell_decimal(v, decimals)

    return mixed


def _is_figure(value: object) -> bool:
    """A number (not a boolean, not missing)."""
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and not _missing(value)
    )


def _missing(value: object) -> bool:
    """None or NaN: a value a person must read as « – »."""
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def _from_printf(spec: str) -> Callable[[object], str] | None:
    """A column config's number format (``%.2f``, ``%d``, ``percent``, ``localized``) as a
    French formatter; None for a format this module does not write."""
    if spec == "percent":
        return cell_percent
    if spec in ("%d", "%i"):
        return cell_count
    if spec.startswith("%.") and spec.endswith("f") and spec[2:-1].isdigit():
        decimals = int(spec[2:-1])
        return cell_count if decimals == 0 else (lambda v, d=decimals: cell_decimal(v, d))
    return None


def _french_config(config: dict) -> tuple[dict, dict[str, Callable[[object], str]]]:
    """A ``column_config`` without the printf formats of its number columns, and the French
    formatters that replace them: the browser would write those the English way over the
    Styler's text (``localized`` follows the browser's language: the column's type formatter is
    used). The caller's configuration is left as it was."""
    out, formats = dict(config), {}
    for column, entry in config.items():
        type_config = entry.get("type_config") if isinstance(entry, dict) else None
        if not type_config or type_config.get("type") != "number":
            continue
        spec = type_config.get("format")
        fmt = _from_printf(spec) if isinstance(spec, str) else None
        if fmt is not None:
            formats[column] = fmt
        if fmt is not None or spec == "localized":
            out[column] = {**entry, "type_config": {**type_config, "format": None}}
    return out, formats


def french_frame(
    frame: pd.DataFrame, formats: dict[str, Callable[[object], str]] | None = None
) -> pd.io.formats.style.Styler | pd.DataFrame:
    """``frame`` with the French display of its figures: a Styler (numbers kept for sorting),
    or, above :data:`STYLER_CELLS` cells, a copy whose figures are French texts.
    ``formats`` gives a column's formatter instead of the one its type implies."""
    formats = {
        c: f for c in frame.columns if (f := (formats or {}).get(c) or _formatter(frame[c])) is not None
    }
    if frame.size > STYLER_CELLS:
        out = frame.copy()
        for column, fmt in formats.items():
            out[column] = [fmt(v) for v in frame[column]]
        return out
    return frame.style.format(formats, na_rep=MISSING) if formats else frame


def show_table(
    container, frame: pd.DataFrame | list | dict, *, column_config: dict | None = None, **kwargs: object
):
    """``container.dataframe`` of ``frame`` with French figures and headers.

    Parameters
    ----------
    container
        ``st`` or a Streamlit container.
    frame : DataFrame, list of records or dict of columns
        The table (its column names stay those of the exports).
    column_config : dict, optional
        Column configurations added to the French headers of :mod:`ui.columns`.
    **kwargs
        Passed to ``dataframe`` (``hide_index``, ``height``, ``width``...).
    """
    kwargs.setdefault("hide_index", True)
    # A missing cell is written by the browser (« None » by default), not by the Styler.
    kwargs.setdefault("placeholder", MISSING)
    frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    config, formats = _french_config(column_config_from_frame(frame, **(column_config or {})))
    return container.dataframe(french_frame(frame, formats), column_config=config, **kwargs)
