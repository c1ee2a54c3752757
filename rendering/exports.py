"""Exports of what the pages show: CSV (French Excel friendly) and GeoJSON.

Exports always apply the statistical-secrecy rule: they never reveal a count the rule
hides, nor an incident point.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd


def csv_bytes_from_frame(frame: pd.DataFrame) -> bytes:
    """CSV for French spreadsheets: ``;`` separator, decimal comma, UTF-8 with BOM."""
    return frame.to_csv(index=False, sep=";", decimal=",").encode("utf-8-sig")


def geojson_bytes_from_frame(frame: pd.DataFrame, geometry: gpd.GeoSeries) -> bytes:
    """GeoJSON (EPSG:4326) of a table with one geometry per row."""
    gdf = gpd.GeoDataFrame(
        frame.reset_index(drop=True), geometry=geometry.reset_index(drop=True).to_numpy(), crs=geometry.crs
    )
    return gdf.to_crs("EPSG:4326").to_json(drop_id=True, ensure_ascii=False).encode("utf-8")
