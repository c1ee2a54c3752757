"""Column helpers shared by the steps: text columns, numbers with a decimal comma, label maps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.vocabulary import map_distinct, normalize_label


# ---------------------------------------------------------------------------------------
# Column helpers
# ---------------------------------------------------------------------------------------
def text_column(frame: pd.DataFrame, col: str | None) -> pd.Series:
    """Column ``col`` as stripped text, empty cells missing (all missing when no column)."""
    if col is None or col not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    # In Arrow kernels: pandas' ``mask`` on Arrow strings writes the values one by one.
    arr = pc.utf8_trim_whitespace(arrow_strings(frame[col]))
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)
    return series_from_arrow(arr, frame.index)


def arrow_strings(s: pd.Series) -> pa.Array | pa.ChunkedArray:
    """The values of ``s`` as an Arrow string array (for :mod:`pyarrow.compute`: C++ string
    kernels, where pandas may fall back to one Python call per row)."""
    return pa.array(s.astype(pd.StringDtype("pyarrow")))


def series_from_arrow(values: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """An Arrow string array back as a pandas string Series on ``index``."""
    chunked = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
    return pd.Series(pd.arrays.ArrowStringArray(chunked), index=index)


_DECIMAL = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"


def numbers_from_text(s: pd.Series) -> pd.Series:
    """Numbers written the French or the English way (« 1 234,5 », "1234.5"); NaN when not."""
    arr = pc.replace_substring_regex(arrow_strings(s), r"[\s\x{00a0}\x{202f}]", "")
    arr = pc.replace_substring(arr, ",", ".")
    # A decimal number (sign, digits, point, exponent) is cast by Arrow; anything else is NaN
    # (« inf » and « nan » too: no reading of a coordinate or a count).
    ok = pc.fill_null(pc.match_substring_regex(arr, _DECIMAL), False)
    numbers = pc.cast(pc.if_else(ok, arr, pa.scalar(None, arr.type)), pa.float64())
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=s.index, dtype=float)


def _mask(s: pd.Series) -> pd.Series:
    """Plain boolean mask (missing values are False)."""
    return pd.Series(s.fillna(False).to_numpy(dtype=bool), index=s.index)


def _map_labels(s: pd.Series, table: dict[str, object]) -> pd.Series:
    """Map labels through ``table`` after normalisation, computed once per distinct value."""
    return map_distinct(s, lambda u: table.get(normalize_label(u)))


def where_strings(cond: pd.Series, values: pd.Series, other: pd.Series) -> pd.Series:
    """``values.where(cond, other)`` for string columns, in one Arrow kernel."""
    mask = pa.array(np.asarray(cond, dtype=bool))
    return series_from_arrow(pc.if_else(mask, arrow_strings(values), arrow_strings(other)), values.index)
