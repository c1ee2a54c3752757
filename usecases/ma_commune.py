"""« Ma commune »: a mayor's diagnostic and follow-up of their commune, always published.

The use case takes who is looking and returns only aggregated, gated text: the page never
receives an incident, a coordinate, or a count of 1 to 5. Every figure comes from the
département-wide published computations (Diagnostic and Suivi), so a commune's figures are
gated together with the other communes and the département total: nothing hidden can be
recovered by subtraction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.followup import rate_ratio_test
from core import model as m
from core.access import MAYOR, Viewer
from core.crs import WGS84
from core.errors import DelinquanceError
from core.formatting import fmt_change, fmt_count, fmt_date, fmt_number
from core.model import IncidentFilter, filter_incidents
from core.privacy import SECRET_LABEL, Audience, secret_mask_from_counts
from core.settings import SETTINGS
from usecases.common import Metric
from usecases.diagnostic import diagnostic_for_selection
from usecases.suivi import default_followed_period, followup_for_selection

PUBLIC = Audience.public()


class CommuneAccessError(DelinquanceError):
    """A commune outside the viewer's territory."""


@dataclass
class CommuneSheet:
    """What « Ma commune » shows (published view, text cells)."""

    code: str
    name: str
    period: str
    metrics: list[Metric]
    offences: pd.DataFrame  # infraction, faits (text; hidden ones left out)
    monthly: pd.DataFrame  # mois, faits (NaN: hidden)
    outline: gpd.GeoSeries  # the commune, EPSG:4326
    zones: gpd.GeoDataFrame  # published priority zones touching it, EPSG:4326 (rang, geometry)
    notes: list[str]


def _year_window(last_day: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    start = last_day - dt.timedelta(days=364)
    return start, last_day, start - dt.timedelta(days=365), start - dt.timedelta(days=1)


def commune_sheet_for_viewer(
    viewer: Viewer,
    code: str,
    incidents: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    keys: pd.DataFrame,
    *,
    crs: str,
) -> CommuneSheet:
    """The commune sheet of ``code`` for ``viewer`` (a mayor: only their communes).

    Raises
    ------
    CommuneAccessError
        ``code`` is not one of a mayor's communes.
    """
    if viewer.role == MAYOR and code not in viewer.communes:
        raise CommuneAccessError("Cette commune n'est pas dans votre territoire : choisissez l'une des vôtres.")
    row = communes[communes["code"] == code]
    if row.empty:
        raise CommuneAccessError(f"Commune {code} inconnue dans ce département.")
    name = str(row["nom"].iloc[0])
    last = incidents[m.START].max().date()
    start, end, prev_start, prev_end = _year_window(last)
    flt = IncidentFilter(start=start, end=end)
    now = diagnostic_for_selection(incidents, communes, flt, keys=keys, audience=PUBLIC)
    before = diagnostic_for_selection(incidents, communes, IncidentFilter(start=prev_start, end=prev_end), keys=keys, audience=PUBLIC)
    mine = now.rates.set_index("code").loc[code]
    mine_before = before.rates.set_index("code").loc[code]
    hidden = bool(mine["secret"])
    count = int(mine["faits"])
    metrics = [
        Metric("Faits sur douze mois", SECRET_LABEL if hidden else fmt_count(count)),
        Metric(
            "Pour 1 000 habitants",
            SECRET_LABEL if hidden or not np.isfinite(mine["taux_pour_mille"]) else fmt_number(mine["taux_pour_mille"], 2),
        ),
        Metric("Département, pour 1 000 habitants", fmt_number(now.base.figures["taux_pour_mille"], 2)),
    ]
    if hidden or bool(mine_before["secret"]):
        metrics.append(Metric("Évolution sur un an", SECRET_LABEL))
    else:
        test = rate_ratio_test(np.array([count]), np.array([int(mine_before["faits"])])).iloc[0]
        verdict = "significative" if test["p_valeur"] < 0.05 else "non significative"
        metrics.append(Metric("Évolution sur un an", f"{fmt_change(test['rapport'] - 1)} ({verdict})"))
    s, e, _, _ = default_followed_period(incidents)
    suivi = followup_for_selection(incidents, communes, IncidentFilter(), start=s, end=e, crs=crs)
    table = suivi.published.tables[("annee", "commune")].set_index("cle")
    two = table.loc[code] if code in table.index else None
    label = f"Deux derniers mois ({suivi.published.current.label}) contre un an plus tôt"
    if two is None or bool(two["secret"]):
        metrics.append(Metric(label, SECRET_LABEL))
    else:
        verdict = "significative" if bool(two["significatif"]) else "non significative"
        metrics.append(Metric(label, f"{fmt_count(int(two['faits']))} faits, {fmt_change(two['evolution'])} ({verdict})"))
    # Offences and months of the commune: hidden 1-5, and the commune total is published when
    # the commune is, so a lone hidden cell would come back by subtraction: secondary secrecy.
    sel = filter_incidents(incidents, flt)
    sel = sel[sel[m.COMMUNE] == code]
    by_offence = sel[m.OFFENCE].value_counts()
    mask = np.ones(len(by_offence), dtype=bool) if hidden else secret_mask_from_counts(by_offence.to_numpy())
    offences = pd.DataFrame({"infraction": by_offence.index[~mask], "faits": [fmt_count(int(v)) for v in by_offence.to_numpy()[~mask]]})
    month = sel[m.START].dt.to_period("M").dt.to_timestamp()
    months = pd.date_range(pd.Timestamp(start).to_period("M").to_timestamp(), pd.Timestamp(end).to_period("M").to_timestamp(), freq="MS")
    series = month.value_counts().reindex(months, fill_value=0)
    mmask = np.ones(len(series), dtype=bool) if hidden else secret_mask_from_counts(series.to_numpy())
    monthly = pd.DataFrame({"mois": months, "faits": series.to_numpy().astype(float)})
    monthly.loc[mmask, "faits"] = np.nan
    outline = gpd.GeoSeries(row.geometry.to_numpy(), crs=communes.crs).to_crs(WGS84)
    zones = suivi.zones
    if len(zones):
        area = gpd.GeoSeries(row.geometry.to_numpy(), crs=communes.crs).to_crs(zones.crs).iloc[0]
        touching = zones[zones.intersects(area)]
        published = np.array([not (0 < f <= SETTINGS.privacy_threshold) for f in touching["faits"]], dtype=bool)
        touching = touching.loc[published]
        zones = touching[["rang", "geometry"]].to_crs(WGS84)
    else:
        zones = gpd.GeoDataFrame({"rang": []}, geometry=[], crs=WGS84)
    notes = [
        "Vue diffusable : effectifs de 1 à 5 masqués (secret statistique), ainsi que ceux qui permettraient "
        "de les retrouver ; aucune position de fait n'est montrée.",
        f"Zones prioritaires : détectées sur les douze mois précédant {suivi.published.current.label}.",
    ]
    return CommuneSheet(
        code=code,
        name=name,
        period=f"du {fmt_date(start)} au {fmt_date(end)}",
        metrics=metrics,
        offences=offences,
        monthly=monthly,
        outline=outline,
        zones=zones,
        notes=notes,
    )


def mayor_communes(viewer: Viewer, communes: gpd.GeoDataFrame) -> dict[str, str]:
    """The communes a viewer may open on « Ma commune » (code -> name)."""
    rows = communes if viewer.role != MAYOR else communes[communes["code"].isin(viewer.communes)]
    return dict(zip(rows["code"], rows["nom"], strict=True))

