"""What every use case shares: the selection a page works on, and who is looking.

Use cases are Streamlit-free: they take loaded inputs (incidents, communes...), the
selection and the :class:`core.privacy.Audience`, and return what the page draws, already
restricted to that audience.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np


@dataclass(frozen=True)
class Metric:
    """One headline figure, ready to draw (``st.metric``)."""

    label: str
    value: str
    delta: str | None = None
    help: str | None = None


def metric_xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Point coordinates (n, 2) of a GeoDataFrame of points in a metric CRS."""
    return np.column_stack([frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()])
