"""What every use case shares: the selection a page works on, and who is looking.

Use cases are Streamlit-free: they take loaded inputs (incidents, communes...), the
selection and the :class:`core.privacy.Audience`, and return what the page draws, already
restricted to that audience.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from core import model as m
from core.privacy import SECRET_LABEL, Audience, is_secret
from rendering.formatting import fmt_count


@dataclass(frozen=True)
class Metric:
    """One headline figure, ready to draw (``st.metric``)."""

    label: str
    value: str
    delta: str | None = None
    help: str | None = None


def count_text(n: float, audience: Audience) -> str:
    """A count as the audience may read it (``"secret"`` for 1 to 5 in the published view)."""
    if audience.published and is_secret(n):
        return SECRET_LABEL
    return fmt_count(n)


def undated_period_of(incidents: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last start date of a data set (None when empty)."""
    if incidents is None or not len(incidents):
        return None
    return incidents[m.START].min(), incidents[m.START].max()


def metric_xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Point coordinates (n, 2) of a GeoDataFrame of points in a metric CRS."""
    return np.column_stack([frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()])
