"""French formatting (core.formatting, Babel fr_FR) and the display of gated tables."""

import datetime as dt

import pandas as pd
import pyarrow as pa

from core.formatting import (
    fmt_change,
    fmt_count,
    fmt_date,
    fmt_datetime,
    fmt_interval,
    fmt_month,
    fmt_number,
    fmt_pvalue,
    fmt_share,
)
from usecases.common import display_frame

NNBSP, NBSP = "\u202f", "\u00a0"


def test_numbers_the_french_way():
    assert fmt_count(1234567) == f"1{NNBSP}234{NNBSP}567"
    assert fmt_count("secret") == "secret"
    assert fmt_number(1234.56) == f"1{NNBSP}234,6" and fmt_number(float("nan")) == "–"
    assert fmt_share(0.123) == f"12{NBSP}%" and fmt_share(0.00024) == f"0,024{NBSP}%"
    assert fmt_change(0.12) == f"+12{NBSP}%" and fmt_change(-0.081) == f"-8{NBSP}%"
    assert fmt_change(float("inf")) == "nouveau" and fmt_change(float("nan")) == "–"
    assert fmt_interval(0.85, float("inf")) == "[0,85 ; ∞]"
    assert fmt_pvalue(0.0004) == "< 0,001" and fmt_pvalue(0.0123) == "0,012"
    assert fmt_pvalue(1.0) == "1" and fmt_pvalue(0.05) == "0,05"  # never « 1,000 » (a thousand)


def test_dates_the_french_way():
    assert fmt_date(dt.date(2025, 6, 5)) == "05/06/2025"
    assert fmt_date(pd.Timestamp("2025-06-05 13:00")) == "05/06/2025"
    assert fmt_datetime(dt.datetime(2025, 6, 5, 9, 7)) == "05/06/2025 à 09:07"
    assert fmt_month(dt.date(2025, 2, 1)) == "février 2025"


def test_display_frame_gives_gated_columns_one_type():
    gated = pd.DataFrame({"faits": [12, "secret", 7], "score": [3.25, 1.0, "secret"], "id": ["a", "b", "c"]})
    shown = display_frame(gated)
    assert shown["faits"].tolist() == ["12", "secret", "7"]
    assert shown["score"].tolist() == ["3,2", "1", "secret"]
    pa.Table.from_pandas(shown)  # Arrow (st.dataframe) takes it as it is
    assert gated["faits"].tolist() == [12, "secret", 7]  # the input is left alone


def test_table_cells_are_written_as_the_single_value_formatters_write_them():
    """core.formatting's fast cell writers (tables of thousands of figures) and Babel's."""
    import numpy as np

    from core.formatting import cell_count, cell_decimal, cell_percent, fmt_count, fmt_number, fmt_percent

    rng = np.random.default_rng(4)
    values = np.concatenate([rng.uniform(-1e6, 1e6, 500), rng.uniform(0, 1, 500), [0.0, 1000.0, -999.5]])
    for v in values:
        assert cell_count(round(v)) == fmt_count(round(v))
        # (a value half-way between two last decimals may round either way: not compared)
        if abs(v * 100 - np.floor(v * 100) - 0.5) > 1e-6:
            assert cell_decimal(v, 2) == fmt_number(v, 2), v
        if 0 <= v <= 1 and abs(v * 1000 - np.floor(v * 1000) - 0.5) > 1e-6:
            assert cell_percent(v, 1) == fmt_percent(v, 1), v
    assert (
        cell_count("secret") == "secret" and cell_decimal(float("nan"), 2) == "–" and cell_count(None) == "–"
    )
