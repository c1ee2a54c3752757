"""What every use case shares: a headline figure (:class:`Metric`), point coordinates of a
metric frame (:func:`metric_xy`), a frame as text cells (:func:`display_frame`), and how a
refused read or action is said (:class:`RefusedError`, raised by :func:`refusal`, audited).

Use cases are Streamlit-free: they take loaded inputs (incidents, communes...), the sidebar's
filter, the :class:`core.privacy.Audience` and, where the territory matters, the
:class:`core.access.Viewer`, and return what the page draws, already restricted to them.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from core.access import Viewer
from core.errors import DelinquanceError
from core.formatting import fmt_count, fmt_number
from data.access import AccessStore


class RefusedError(DelinquanceError):
    """A read or an action the viewer's role or territory does not allow (audited, French)."""


def refusal(journal: AccessStore, viewer: Viewer, action: str, objet: str, why: str) -> RefusedError:
    """Audit a refusal and return the error to raise (its message says why, in French)."""
    journal.refused(viewer, action, objet, why)
    return RefusedError(f"Refusé : {why}. Demandez à l'administrateur si vous en avez besoin.")


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


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` ready for a table widget: a column mixing numbers and texts (counts
    replaced by « secret » by the privacy gate) is written as French text throughout, so
    that it has one type (Arrow cannot hold both)."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype != object:
            continue
        texts = s.map(lambda v: isinstance(v, str))
        if texts.all() or not texts.any():
            continue
        out[col] = [
            v
            if isinstance(v, str) or v is None
            else fmt_count(v)
            if float(v).is_integer()
            else fmt_number(v, 1)
            for v in s
        ]
    return out
