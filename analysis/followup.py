"""Follow-up every two months: a period against its reference periods, unit by unit.

The periods are :mod:`analysis.periods`; each unit's counts (commune, EPCI, priority zone,
force, offence) are compared by the exact tests of :mod:`analysis.rate_tests`.

Pure computation: no Streamlit here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.periods import Period, PeriodNotCoveredError
from analysis.rate_tests import comparison_from_counts, rate_ratio_test
from core import model as m
from core.errors import ParameterError
from core.formatting import fmt_date
from core.model import has_position
from core.privacy import is_secret
from core.vocabulary import FORCE_LABELS

#: Dimensions a comparison can be split by (key -> French label).
DIMENSIONS = {
    "commune": "Commune",
    "epci": "EPCI",
    "zone": "Zone prioritaire",
    "force": "Force",
    "infraction": "Infraction",
}


def keys_for_incidents(
    incidents: gpd.GeoDataFrame,
    dimension: str,
    *,
    communes: pd.DataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
) -> pd.Series:
    """The unit of each incident for a dimension of :data:`DIMENSIONS`.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents (for ``zone``: in the CRS of ``zones``).
    dimension : str
        ``commune``, ``epci``, ``zone``, ``force`` or ``infraction``.
    communes : DataFrame, optional
        Communes with ``code`` and ``epci_code`` (for ``epci``).
    zones : GeoDataFrame, optional
        Priority zones with their ``id`` (for ``zone``); incidents outside every zone get NaN.

    Returns
    -------
    Series
        Indexed like ``incidents``.
    """
    if dimension == "commune":
        return incidents[m.COMMUNE].astype(object)
    if dimension == "force":
        return incidents[m.FORCE].astype(object)
    if dimension == "infraction":
        return incidents[m.OFFENCE].astype(object)
    if dimension == "epci":
        if communes is None:
            raise ParameterError("Les communes sont nécessaires pour comparer par EPCI.")
        epci = dict(zip(communes["code"], communes["epci_code"], strict=True))
        return incidents[m.COMMUNE].astype(object).map(epci)
    if dimension == "zone":
        out = pd.Series(np.nan, index=incidents.index, dtype=object)
        if zones is None or zones.empty or incidents.empty:
            return out
        pts = incidents.geometry
        ok = has_position(pts).to_numpy()
        tree_idx = zones.sindex.query(pts[ok].to_numpy(), predicate="within")
        ids = zones["id"].to_numpy()
        pos = np.flatnonzero(ok)[tree_idx[0]]
        out.iloc[pos] = ids[tree_idx[1]]
        return out
    raise ParameterError(f"Dimension inconnue : {dimension!r} (attendu : {', '.join(DIMENSIONS)}).")


@dataclass
class Followup:
    """Everything the "Suivi" page and the report show for one pair of periods."""

    current: Period
    references: dict[str, Period]  # "annee" (a year earlier), "precedente" (the period before)
    totals: pd.DataFrame  # one row per reference: the overall comparison
    tables: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)  # (reference, dimension)
    zones_period: Period | None = None
    n_zones: int = 0
    skipped: dict[str, Period] = field(default_factory=dict)  # references the data do not cover


REFERENCE_LABELS = {"annee": "même période un an plus tôt", "precedente": "période précédente"}


def followup_from_incidents(
    incidents: gpd.GeoDataFrame,
    *,
    current: Period,
    references: Mapping[str, Period],
    communes: pd.DataFrame,
    zones: gpd.GeoDataFrame | None = None,
    zones_period: Period | None = None,
    epci_names: Mapping[str, str] | None = None,
    covered: Period | None = None,
    alpha: float = 0.05,
    threshold: int | None = None,
) -> Followup:
    """Compare the current period with each reference, overall and by every dimension.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents already filtered by offence, place and force (all dates; for zones, in
        the CRS of ``zones``).
    current : Period
        Period followed.
    references : mapping of str to Period
        Reference periods by key (see :data:`REFERENCE_LABELS`). A reference the data do
        not cover is left out and listed in ``skipped``: zeros there would mean "no data",
        not "no incident".
    communes : DataFrame
        Communes of the territory (``code``, ``nom``, ``epci_code``); every commune is
        reported, with zeros.
    zones : GeoDataFrame, optional
        Priority zones (``id``, ``rang``, ``communes``) fixed before the periods compared.
    zones_period : Period, optional
        Period the zones were detected on (reported).
    epci_names : mapping, optional
        EPCI code to name.
    covered : Period, optional
        Dates the data set covers, before any filter (default: first to last incident of
        ``incidents``). Pass it when ``incidents`` are filtered: an offence first recorded
        late is a real zero before, not missing data.
    alpha, threshold
        See :func:`comparison_from_counts`.

    Raises
    ------
    PeriodNotCoveredError
        No incident, the current period outside the data, or no reference covered.
    """
    dates = incidents[m.START]
    if dates.empty:
        raise PeriodNotCoveredError(
            "Aucun fait sélectionné : élargissez les filtres (infractions, lieux, forces)."
        )
    span = covered if covered is not None else Period(dates.min(), dates.max())
    first, last = span.start, span.end
    if current.start < first or current.start > last:
        raise PeriodNotCoveredError(
            f"Les données couvrent du {fmt_date(first)} au {fmt_date(last)} : la période suivie "
            f"({current.label}) doit être comprise entre ces dates."
        )
    skipped = {k: p for k, p in references.items() if p.start < first or p.end > last}
    references = {k: p for k, p in references.items() if k not in skipped}
    if not references:
        raise PeriodNotCoveredError(
            f"Les données commencent le {fmt_date(first)} : aucune période de référence "
            f"({', '.join(p.label for p in skipped.values())}) n'est couverte. Choisissez une période "
            "suivie plus récente ou importez un historique plus long."
        )
    masks = {"courante": current.mask(dates)} | {k: p.mask(dates) for k, p in references.items()}
    labels = {
        "commune": dict(zip(communes["code"], communes["nom"], strict=True)),
        "epci": dict(epci_names or {}),
        "zone": {}
        if zones is None
        else {z.id: f"Zone {z.rang} – {z.communes}" for z in zones[["id", "rang", "communes"]].itertuples()},
        "force": dict(FORCE_LABELS),
        "infraction": {},
    }
    universes = {"commune": pd.Index(communes["code"].astype(object))}
    if zones is not None and not zones.empty:
        universes["zone"] = pd.Index(zones["id"].astype(object))
    rows = []
    tables: dict[tuple[str, str], pd.DataFrame] = {}
    n_cur = int(masks["courante"].sum())
    for ref_key, ref in references.items():
        n_ref = int(masks[ref_key].sum())
        t = rate_ratio_test([n_cur], [n_ref], days_current=current.days, days_reference=ref.days, alpha=alpha)
        rows.append(
            {
                "reference": ref_key,
                "libelle": REFERENCE_LABELS.get(ref_key, ref_key),
                "periode_reference": ref.label,
                "faits": n_cur,
                "faits_reference": n_ref,
                "evolution": float(t["rapport"].iloc[0]) - 1.0,
                **{c: float(t[c].iloc[0]) for c in ("rapport", "ic_bas", "ic_haut", "p_valeur")},
                "significatif": bool(t["p_valeur"].iloc[0] < alpha),
                "secret": bool(
                    is_secret(n_cur, threshold=threshold) or is_secret(n_ref, threshold=threshold)
                ),
            }
        )
    for dim in DIMENSIONS:
        if dim == "zone" and (zones is None or zones.empty):
            continue
        keys = keys_for_incidents(incidents, dim, communes=communes, zones=zones)
        cur = keys[masks["courante"]].value_counts()
        for ref_key, ref in references.items():
            tables[(ref_key, dim)] = comparison_from_counts(
                cur,
                keys[masks[ref_key]].value_counts(),
                days_current=current.days,
                days_reference=ref.days,
                labels=labels[dim],
                universe=universes.get(dim),
                alpha=alpha,
                threshold=threshold,
            )
    return Followup(
        current=current,
        references=dict(references),
        totals=pd.DataFrame(rows),
        tables=tables,
        zones_period=zones_period,
        n_zones=0 if zones is None else len(zones),
        skipped=skipped,
    )
