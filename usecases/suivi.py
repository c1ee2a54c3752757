"""Suivi bimestriel page: the period followed against a year earlier and the period before,
the monthly series, the comparison tables and the préfet's report.

In the published view: the headline totals, the comparison rows and the change map follow
the secrecy rule; the monthly series split by force or offence is gated as one months x
series table whose row totals are published (the series without split), so a hidden month
of one force cannot be recovered as the total minus the other forces.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from analysis.diagnostic import monthly_counts
from analysis.followup import (
    REFERENCE_LABELS,
    Followup,
    Period,
    change_classes_from_comparison,
    default_periods,
    followup_from_incidents,
    published_comparison,
    reference_periods,
)
from core import model as m
from core.model import IncidentFilter, filter_incidents
from core.privacy import SECRET_LABEL, Audience, is_secret, published_series_frame
from core.settings import SETTINGS
from core.vocabulary import FORCE_LABELS
from rendering.exports import csv_bytes_from_frame
from rendering.formatting import fmt_change, fmt_count, fmt_interval
from rendering.report import display_comparison
from usecases.common import Metric
from usecases.zones import default_zones_for_selection

SPLITS = {None: "Ensemble", m.FORCE: "Force", m.OFFENCE: "Infraction (6 principales)"}


def default_followed_period(incidents: pd.DataFrame) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """Default followed period (the last two whole months) and the data's first and last day."""
    dates = incidents[m.START]
    lo, hi = dates.min().date(), dates.max().date()
    current, _, _ = default_periods(hi)
    start, end = max(current.start.date(), lo), current.end.date()
    if end < lo:  # less than a full month of data: follow what there is
        start, end = lo, hi
    return start, end, lo, hi


def followup_for_selection(
    incidents: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    flt: IncidentFilter,
    *,
    start: dt.date,
    end: dt.date,
    crs: str,
) -> tuple[Followup, gpd.GeoDataFrame]:
    """Follow-up of a period against its references, and the priority zones it follows.

    The zones are detected (default settings) on the twelve months before the period, then
    fixed. ``flt``'s dates are ignored: the periods come from ``start`` and ``end``.
    """
    undated = flt.undated()
    sel = filter_incidents(incidents, undated).to_crs(crs)
    covered = Period(incidents[m.START].min(), incidents[m.START].max()) if len(incidents) else None
    current = Period(pd.Timestamp(start), pd.Timestamp(end))
    zones_period = Period(current.start - pd.DateOffset(years=1), current.start - pd.Timedelta(days=1))
    zones = default_zones_for_selection(
        incidents, communes, undated.with_period(zones_period.start.date(), zones_period.end.date()), crs=crs
    )
    epci = dict(zip(communes["epci_code"], communes["epci_nom"], strict=False))
    result = followup_from_incidents(
        sel,
        current=current,
        references=reference_periods(current),
        communes=communes,
        zones=zones,
        zones_period=zones_period,
        epci_names=epci,
        covered=covered,
        threshold=SETTINGS.privacy_threshold,
    )
    return result, zones


def monthly_series_for_selection(
    incidents: pd.DataFrame, flt: IncidentFilter, *, split: str | None, audience: Audience
) -> pd.DataFrame:
    """Monthly counts in long form (``mois``, ``serie``, ``faits``), gated for the audience.

    With a split, every series is gated together against the monthly totals (then only the
    six largest are drawn); hidden months are NaN (a gap in the line).
    """
    sel = filter_incidents(incidents, flt.undated())
    monthly = monthly_counts(sel, by=split)
    if audience.published:
        monthly = published_series_frame(monthly, total_shown=split is not None)
    if split is not None:
        top = monthly.sum().sort_values(ascending=False).index[:6]
        monthly = monthly[top]
    if split is None:
        long = monthly.reset_index().assign(serie="ensemble")[["mois", "serie", "faits"]]
        return long
    long = monthly.reset_index().melt("mois", var_name="serie", value_name="faits")
    if split == m.FORCE:
        long["serie"] = long["serie"].map(lambda v: FORCE_LABELS.get(v, v))
    return long


@dataclass
class SuiviView:
    """What the Suivi page draws for one reference and dimension."""

    metrics: list[Metric]
    table: pd.DataFrame  # formatted for reading
    export_csv: bytes
    n_significant: int
    hide_secret: bool
    spans: pd.DataFrame


def suivi_view(fu: Followup, *, reference: str, dimension: str, only_significant: bool, audience: Audience) -> SuiviView:
    """Headline figures, comparison table and export of a follow-up, for an audience."""
    n = int(fu.totals["faits"].iloc[0])
    hide_current = audience.published and is_secret(n)
    metrics = [Metric(f"Faits — {fu.current.label}", SECRET_LABEL if hide_current else fmt_count(n))]
    for r in fu.totals.itertuples():
        label = f"Contre {r.libelle} ({r.periode_reference})"
        if audience.published and (r.secret or hide_current):
            metrics.append(Metric(label, SECRET_LABEL))
            continue
        verdict = "significatif" if r.significatif else "non significatif"
        metrics.append(
            Metric(
                label,
                fmt_count(r.faits_reference),
                f"{fmt_change(r.evolution)} ({verdict})",
                help=f"IC 95 % du rapport de taux : {fmt_interval(r.ic_bas, r.ic_haut)}",
            )
        )
    table = fu.tables[(reference, dimension)]
    shown = table[table["significatif"]] if only_significant else table
    spans = pd.DataFrame(
        [
            {"periode": "période suivie", "debut": fu.current.start, "fin": fu.current.end},
            *[{"periode": REFERENCE_LABELS[k], "debut": p.start, "fin": p.end} for k, p in fu.references.items()],
        ]
    )
    communes_table = fu.tables[(reference, "commune")]
    return SuiviView(
        metrics=metrics,
        table=display_comparison(shown, hide_secret=audience.published),
        export_csv=csv_bytes_from_frame(published_comparison(table)),
        n_significant=int(communes_table["significatif"].sum()),
        hide_secret=audience.published,
        spans=spans,
    )


def change_classes_for_report(fu: Followup, communes: gpd.GeoDataFrame, reference: str):
    """Change class of each commune for the report's static map (secret units as secret)."""
    return change_classes_from_comparison(fu.tables[(reference, "commune")], communes["code"])
