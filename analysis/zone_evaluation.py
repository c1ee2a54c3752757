"""How good priority zones are: the share of incidents they hold, their hit rate and PAI on a
later period, and (synthetic data only) their recall and precision against planted hot spots."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.crs import require_metric
from core.model import located, xy_of_located


def concentration_from_zones(zones: gpd.GeoDataFrame) -> tuple[float, float]:
    """Share of incidents and share of the area covered by the zones ("x % in y %")."""
    if zones.empty:
        return 0.0, 0.0
    return float(zones["part_faits"].sum()), float(zones["part_superficie"].sum())


def evaluation_from_zones(
    zones: gpd.GeoDataFrame, later: gpd.GeoDataFrame, total_area_m2: float
) -> dict[str, float]:
    """Hit rate and predictive accuracy index (PAI) of zones on a later period.

    ``hit rate = n_in_zones / n``; ``PAI = hit rate / (zone area / total area)``.
    """
    require_metric(zones, later)
    pts = located(later)
    if zones.empty or pts.empty:
        return {"taux_de_reussite": 0.0, "pai": 0.0, "part_superficie": 0.0}
    union = shapely.union_all(zones.geometry.to_numpy())
    shapely.prepare(union)
    hits = shapely.contains_xy(union, *xy_of_located(pts)).sum()
    hit_rate = hits / len(pts)
    share = union.area / total_area_m2
    return {
        "taux_de_reussite": float(hit_rate),
        "pai": float(hit_rate / share) if share else 0.0,
        "part_superficie": float(share),
    }


def recall_precision_from_truth(zones: gpd.GeoDataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Recall and precision of zones against planted hotspots (synthetic data only).

    A planted hotspot is found when a zone intersects its disc; a zone is right when it
    intersects at least one planted disc.
    """
    if zones.empty or truth.empty:
        return {"rappel": 0.0, "precision": 0.0}
    discs = shapely.buffer(
        shapely.points(truth["x"].to_numpy(), truth["y"].to_numpy()), truth["radius_m"].to_numpy()
    )
    hit = shapely.intersects(zones.geometry.to_numpy()[:, None], discs[None, :])
    return {"rappel": float(hit.any(axis=0).mean()), "precision": float(hit.any(axis=1).mean())}


def truth_active_in_period(
    truth: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, *, min_incidents: int = 20
) -> pd.DataFrame:
    """Planted hotspots with at least ``min_incidents`` planted incidents expected in ``[start, end]``.

    A hotspot whose overlap with the period holds fewer planted incidents than a zone's
    minimum size cannot be found by design: it is not counted as active. The expected
    number is the hotspot's total prorated by the days of overlap.
    """
    s, e = pd.to_datetime(truth["start"]), pd.to_datetime(truth["end"])
    lo = np.maximum(s, pd.Timestamp(start))
    hi = np.minimum(e, pd.Timestamp(end))
    overlap = ((hi - lo).dt.days + 1).clip(lower=0)
    expected = truth["n_incidents"] * overlap / ((e - s).dt.days + 1)
    return truth[expected >= min_incidents].reset_index(drop=True)
