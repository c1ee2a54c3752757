"""Exports of what the pages show: CSV (French Excel friendly) and GeoJSON.

These functions write what they are given: the use cases hand them tables that already
passed the privacy gate (:mod:`core.privacy`). Every CSV cell is neutralised against
spreadsheet formulas (:func:`core.escape.csv_cell`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from core.escape import csv_safe_frame


def _decimal_comma(value: object) -> object:
    """A float of a mixed column (numbers and « secret ») with a decimal comma, as pandas
    writes the float columns (``decimal=","`` only reaches those)."""
    if isinstance(value, float | np.floating) and not isinstance(value, bool):
        return repr(float(value)).replace(".", ",") if np.isfinite(value) else ""
    return value


def csv_bytes_from_frame(frame: pd.DataFrame) -> bytes:
    """CSV for French spreadsheets: ``;`` separator, decimal comma in every column (mixed
    ones included), UTF-8 with BOM, formula cells neutralised."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(_decimal_comma)
    return csv_safe_frame(out).to_csv(index=False, sep=";", decimal=",").encode("utf-8-sig")


def geojson_bytes_from_frame(frame: pd.DataFrame, geometry: gpd.GeoSeries) -> bytes:
    """GeoJSON (EPSG:4326) of a table with one geometry per row."""
    gdf = gpd.GeoDataFrame(
        frame.reset_index(drop=True), geometry=geometry.reset_index(drop=True).to_numpy(), crs=geometry.crs
    )
    return gdf.to_crs("EPSG:4326").to_json(drop_id=True, ensure_ascii=False).encode("utf-8")
