"""Column helpers shared by the steps: text columns, numbers with a decimal comma, label maps."""

from __future__ import annotations

import pandas as pd

from core.vocabulary import map_distinct, normalize_label


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
    # As Arrow strings: the replacements run in C++ (on object strings, one regex call per row).
    cleaned = s.astype(pd.StringDtype("pyarrow")).str.replace(r"[\s\u00a0\u202f]", "", regex=True)
    cleaned = cleaned.str.replace(",", ".", regex=False)
    return pd.to_numeric(cleaned, errors="coerce").astype(float)


def _mask(s: pd.Series) -> pd.Series:
    """Plain boolean mask (missing values are False)."""
    return pd.Series(s.fillna(False).to_numpy(dtype=bool), index=s.index)


def _map_labels(s: pd.Series, table: dict[str, object]) -> pd.Series:
    """Map labels through ``table`` after normalisation, computed once per distinct value."""
    return map_distinct(s, lambda u: table.get(normalize_label(u)))
