"""Statistics of the territorial organisation: per unit, per commune, per EPCI or canton."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import model as m
from core.privacy import secret_mask_from_counts


def unit_statistics(assignment: pd.DataFrame, areas_km2: pd.Series, incidents: pd.DataFrame) -> pd.DataFrame:
    """Per unit: communes served, population, area, incidents, rate, farthest commune.

    Parameters
    ----------
    assignment : DataFrame
        From :func:`geo.organisation.assignment_from_units` (``code``, ``unite_id``,
        ``unite``, ``force``, ``population``, ``distance_km``).
    areas_km2 : Series
        Area of each commune in km², indexed like ``assignment``.
    incidents : DataFrame
        Incidents of the current filters (``code_commune``).

    Returns
    -------
    DataFrame
        One row per unit: ``unite_id``, ``unite``, ``force``, ``communes``, ``population``,
        ``superficie_km2``, ``faits``, ``faits_pour_mille``, ``commune_la_plus_eloignee``,
        ``distance_max_km``, ``secret`` (counts from 1 to 5 must not be published); sorted by
        decreasing incidents.
    """
    counts = incidents[m.COMMUNE].value_counts()
    df = assignment.assign(
        faits=assignment["code"].map(counts).fillna(0).astype("int64"), superficie_km2=areas_km2.to_numpy()
    )
    df = df[df["unite_id"].notna()]
    far = df.sort_values("distance_km").groupby("unite_id").tail(1).set_index("unite_id")
    g = df.groupby("unite_id")
    out = pd.DataFrame(
        {
            "unite": g["unite"].first(),
            "force": g["force"].first(),
            "communes": g.size(),
            "population": g["population"].sum(),
            "superficie_km2": g["superficie_km2"].sum().round(1),
            "faits": g["faits"].sum(),
        }
    )
    out["faits_pour_mille"] = np.round(
        np.where(out["population"] > 0, out["faits"] / out["population"] * 1000, np.nan), 2
    )
    out["commune_la_plus_eloignee"] = far["nom"].reindex(out.index)
    out["distance_max_km"] = far["distance_km"].reindex(out.index).round(1)
    out["secret"] = secret_mask_from_counts(out["faits"].to_numpy())
    return out.reset_index().sort_values("faits", ascending=False).reset_index(drop=True)


def counts_by_area(
    incidents: pd.DataFrame, communes: pd.DataFrame, key: pd.Series, *, threshold: int | None = None
) -> pd.DataFrame:
    """Incidents and rate per 1,000 inhabitants aggregated by a commune grouping.

    Parameters
    ----------
    incidents : DataFrame
        Incidents (``code_commune``).
    communes : DataFrame
        Communes (``code``, ``population``).
    key : Series
        Group of each commune (EPCI code, canton code…), indexed like ``communes``.
    threshold : int, optional
        Statistical-secrecy threshold.

    Returns
    -------
    DataFrame
        Indexed by group: ``communes``, ``population``, ``faits``, ``taux_pour_mille``, ``secret``.
    """
    counts = incidents[m.COMMUNE].value_counts()
    df = pd.DataFrame(
        {
            "groupe": key.to_numpy(),
            "population": communes["population"].to_numpy(),
            "faits": communes["code"].map(counts).fillna(0).astype("int64").to_numpy(),
        }
    ).dropna(subset=["groupe"])
    g = df.groupby("groupe")
    out = pd.DataFrame({"communes": g.size(), "population": g["population"].sum(), "faits": g["faits"].sum()})
    out["taux_pour_mille"] = np.where(out["population"] > 0, out["faits"] / out["population"] * 1000, np.nan)
    out["secret"] = secret_mask_from_counts(out["faits"].to_numpy(), threshold=threshold)
    return out
