"""Diagnostic page: rates per commune (or EPCI, canton), offences, places, months, hours,
offender profiles, for one selection and one audience.

In the published view every count passes the privacy gate (:mod:`core.privacy`) together
with everything the page can show for the same selection: the département total, the
commune, EPCI and canton tables (a hidden commune must not come back from its EPCI), the
offence and place bars, the months, the hour x weekday table and the profiles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.diagnostic import (
    Diagnostic,
    class_breaks_from_values,
    classes_from_values,
    diagnostic_from_incidents,
    published_commune_table,
)
from analysis.official import dwellings_from_statistics
from analysis.organisation import counts_by_area
from analysis.smoothing import (
    SmoothingNote,
    poisson_interval_from_counts,
    queen_neighbours_from_geometry,
    smoothed_rates_from_counts,
)
from core.formatting import fmt_count, fmt_number, fmt_share
from core.model import IncidentFilter
from core.privacy import (
    SECRET_LABEL,
    Audience,
    group_labels,
    hierarchy_masks,
    is_secret,
    masks_hiding_zeros,
    secret_mask_from_counts,
    secret_range_label,
    zeros_published,
)
from core.settings import SETTINGS
from data.locations import statistics_store
from data.store import DatasetInfo
from geo.communes import geometry_by_group
from readers.ssmsi import PER_DWELLING
from rendering.exports import csv_bytes_from_frame, geojson_bytes_from_frame
from usecases.common import Metric

LEVELS = {"commune": "Commune", "epci": "EPCI", "canton": "Canton"}
CLASS_METHODS = {
    "fisher_jenks": "Seuils naturels (Jenks)",
    "quantiles": "Quantiles",
    "equal": "Intervalles égaux",
    "headtail": "Tête/queue (head/tail)",
}
CLASSES_METHOD_NOTE = (
    "Classes de la carte (bibliothèque mapclassify de PySAL) : seuils naturels de Fisher-Jenks "
    "(classes les plus homogènes, le choix par défaut des logiciels de SIG), quantiles (autant de "
    "communes par classe), intervalles égaux, ou tête/queue (head/tail : pour des taux très "
    "dissymétriques, les valeurs au-dessus de la moyenne sont redécoupées). En vue diffusable, les "
    "bornes ne sont calculées que sur les taux publiés."
)
RATE_KINDS = {"brut": "Taux brut", "lisse": "Taux lissé"}
RATE_EXPLANATION = {
    "brut": (
        "Taux brut : faits ÷ population × 1 000. Dans une petite commune, quelques faits de plus "
        "ou de moins le font varier fortement : voyez la colonne « fiabilité »."
    ),
    "lisse": (
        "Taux lissé (Bayes empirique spatial) : le taux de chaque commune est rapproché de celui de "
        "son voisinage, d'autant plus que sa population est faible ; les grandes communes gardent "
        "presque leur taux brut."
    ),
}
SMOOTHING_METHOD_NOTE = (
    "Méthode : lissage bayésien empirique spatial (Marshall 1991), comme GeoDa et PySAL (esda) : "
    "référence = taux de la commune et de ses communes limitrophes (contiguïté « queen », au moins un "
    "point de frontière commun). Une commune sans voisine utilisable (voisines hors de la sélection ou, "
    "en vue diffusable, toutes sous secret statistique) est rapprochée du taux de l'ensemble de la "
    "sélection (lissage global). Une variance entre communes négative est ramenée à 0 (choix de GeoDa ; esda la "
    "garde négative dans sa version globale). Intervalle de confiance : intervalle exact de Poisson à "
    "95 % ; « peu fiable » quand il est plus large que le taux lui-même. À ne pas utiliser pour juger "
    "une commune isolément : le lissage réduit les écarts réels autant que le bruit."
)


@dataclass
class DiagnosticView:
    """Everything the Diagnostic page draws for one selection and audience (any level)."""

    metrics: list[Metric]
    n_incidents: int
    rates: gpd.GeoDataFrame  # per commune, ``secret`` set by the gate in the published view
    breaks: np.ndarray
    classes: np.ndarray
    hide_secret: bool
    by_offence: pd.DataFrame  # categorie, faits, part; hidden bars left out
    by_place: pd.DataFrame
    monthly: pd.DataFrame  # mois, faits (NaN: hidden)
    hour_weekday: pd.DataFrame  # jour, heure, faits (NaN: hidden)
    weekdays: list[str]
    profile: pd.DataFrame  # text cells
    notes: list[str]
    base: Diagnostic  # the unrestricted computation, for the rankings below
    published_masks: dict[str, np.ndarray]  # commune, epci, canton (gated together)
    unit: str = "habitants"  # the rates' denominator: habitants, or logements for burglaries
    dwellings: pd.Series | None = None  # per commune code, when the rates are per dwelling
    rate: str = "brut"  # the rate the map and the ranking follow (RATE_KINDS)
    value_column: str = "taux_pour_mille"  # column of ``rates`` the map classes
    smoothing: dict[str, pd.DataFrame] | None = None  # "published" / "internal" smoothing tables
    #: What « secret » covers on the map (from 0 below a year in the published view, else from 1).
    secret_range: str = field(default_factory=lambda: secret_range_label(zeros_hidden=False))

    # -- the labels the page draws (chosen here, not in the page) -----------------------
    @property
    def map_heading(self) -> str:
        """« Taux brut pour 1 000 habitants par commune »."""
        return f"{RATE_KINDS[self.rate]} pour 1 000 {self.unit} par commune"

    @property
    def legend_title(self) -> str:
        """The map legend's title, short: « … pour 1 000 hab. » or « … pour 1 000 logements »."""
        return f"{RATE_KINDS[self.rate]} pour 1 000 {'hab.' if self.unit == 'habitants' else 'logements'}"

    @property
    def base_label(self) -> str:
        """What the rates' denominator is called in the tooltips."""
        return "Logements" if self.unit == "logements" else "Population"


@dataclass(frozen=True)
class Ranking:
    """The ranking table of one level and its exports (always in the published view).

    The exports are written when first read (a download is made on click): writing the
    GeoJSON of the Nord's 647 communes on every filter change was a tenth of the run.
    """

    table: pd.DataFrame  # as shown: text cells, blanks for unranked rows
    export: pd.DataFrame  # the published rows and columns the files hold
    export_geometry: gpd.GeoSeries  # their outlines, indexed like ``export``
    warning: str | None = None  # unreliable rates at the top of a raw ranking

    @cached_property
    def export_csv(self) -> bytes:
        """The exported table (CSV, French Excel)."""
        return csv_bytes_from_frame(self.export)

    @cached_property
    def export_geojson(self) -> bytes:
        """The exported table with its outlines (GeoJSON)."""
        return geojson_bytes_from_frame(self.export, self.export_geometry)


def _gate_categories(table: pd.DataFrame, audience: Audience, total_hidden: bool) -> pd.DataFrame:
    """Offence or place bars for the audience: hidden bars are left out (the total is published)."""
    if not audience.published:
        return table
    if total_hidden:
        return table.iloc[0:0]
    mask = secret_mask_from_counts(table["faits"].to_numpy())
    return table[~mask].reset_index(drop=True)


def _with_smoothing(rates: pd.DataFrame, smooth: pd.DataFrame) -> pd.DataFrame:
    """Commune rates with their interval, reliability flag and smoothed rate."""
    return rates.assign(
        ic_bas=smooth["ic_bas"].to_numpy(),
        ic_haut=smooth["ic_haut"].to_numpy(),
        peu_fiable=smooth["peu_fiable"].to_numpy(),
        taux_lisse=smooth["taux_eb_spatial"].to_numpy(),
    )


def _with_interval(rates: pd.DataFrame) -> pd.DataFrame:
    """Group rates with the exact Poisson interval of their rate and the reliability flag."""
    low, high = poisson_interval_from_counts(rates["faits"].to_numpy())
    pop = rates["population"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(pop > 0, low / pop * 1000, np.nan)
        hi = np.where(pop > 0, high / pop * 1000, np.nan)
    return rates.assign(
        ic_bas=lo, ic_haut=hi, peu_fiable=(pop > 0) & ((hi - lo) > rates["taux_pour_mille"].to_numpy(float))
    )


def _level_table(
    view: DiagnosticView, communes: gpd.GeoDataFrame, keys: pd.DataFrame, level: str, mask: np.ndarray | None
) -> tuple[pd.DataFrame, gpd.GeoSeries]:
    """Ranked table at a level and its geometry; ``mask`` (gate) replaces the per-table rule."""
    d = view.base
    if level == "commune":
        smooth = view.smoothing["published" if mask is not None else "internal"]
        rates = _with_smoothing(d.rates if mask is None else d.rates.assign(secret=mask), smooth)
        order = "taux_lisse" if view.rate == "lisse" else "taux_pour_mille"
        table = published_commune_table(rates, hide_secret=mask is not None, order=order)
        return table, d.rates.set_index("code").geometry.loc[table["code"]]
    agg = counts_by_area(d.incidents, communes, keys[level])
    if mask is not None:
        order = group_labels(keys[level].to_numpy())
        agg["secret"] = pd.Series(mask, index=order).reindex(agg.index.astype(str)).fillna(False).to_numpy()
    names = keys.drop_duplicates(level).set_index(level)[f"{level}_nom"]
    rates = _with_interval(agg.reset_index(names="code").assign(nom=lambda t: t["code"].map(names)))
    table = published_commune_table(rates, hide_secret=mask is not None)
    return table, geometry_by_group(communes, keys[level]).loc[table["code"]]


def _smoothing_notes(note: SmoothingNote, published: bool) -> list[str]:
    notes = []
    if note.islands:
        notes.append(
            f"{fmt_count(note.islands)} commune(s) sans voisine utilisable pour le lissage (voisines hors de la "
            "sélection"
            + (", ou toutes sous secret statistique dans cette vue" if published else "")
            + ") : taux "
            "rapproché du taux de l'ensemble de la sélection (lissage global)."
        )
    if note.without_base:
        notes.append(f"{fmt_count(note.without_base)} commune(s) sans population : pas de taux (« — »).")
    if published:
        notes.append(
            "Vue diffusable : le lissage n'utilise que les effectifs publiés (les communes sous secret "
            "n'y entrent pas et n'ont pas de taux lissé)."
        )
    return notes


def diagnostic_for_selection(
    incidents: pd.DataFrame,
    communes: gpd.GeoDataFrame,
    flt: IncidentFilter,
    *,
    keys: pd.DataFrame,
    audience: Audience,
    method: str = "fisher_jenks",
    rate: str = "brut",
    dwellings: pd.Series | None = None,
) -> DiagnosticView:
    """The Diagnostic page of a selection, restricted to an audience.

    Parameters
    ----------
    incidents : DataFrame
        Every incident of the data set (the filter is applied here).
    communes : GeoDataFrame
        Communes of the département.
    flt : IncidentFilter
        Period, offences, places, forces of the sidebar.
    keys : DataFrame
        EPCI and canton of each commune (``epci``, ``epci_nom``, ``canton``, ``canton_nom``),
        indexed like ``communes``.
    audience : Audience
        Who is looking: the published view hides counts of 1 to 5 and what gives them back.
    method : {"fisher_jenks", "quantiles", "equal", "headtail"}
        Choropleth classes (:data:`CLASS_METHODS`).
    rate : {"brut", "lisse"}
        The rate the map and the commune ranking follow: raw, or spatial empirical Bayes.
    dwellings : Series, optional
        Dwellings per commune code (SSMSI base). When the selection is housing burglaries
        only and the dwellings of 95 % of the communes are known, rates are per 1,000
        dwellings, as the SSMSI publishes them (communes without a count get no rate).

    Returns
    -------
    DiagnosticView
        The ranking of a level comes from :func:`ranking_for_level`.
    """
    per_dwelling = (
        dwellings is not None
        and tuple(flt.offences or ()) == PER_DWELLING
        and dwellings.reindex(communes["code"].to_numpy()).notna().mean() >= 0.95
    )
    if per_dwelling:
        communes = communes.assign(population=dwellings.reindex(communes["code"].to_numpy()).to_numpy())
    unit = "logements" if per_dwelling else "habitants"
    d = diagnostic_from_incidents(incidents, communes, flt, method=method)
    n = int(d.figures["faits"])
    # Communes, EPCIs and cantons of one selection are gated together with the total: the
    # exports always use these masks, the screen too in the published view.
    base, groups, _ = hierarchy_masks(
        d.rates["faits"].to_numpy(), [keys["epci"].to_numpy(), keys["canton"].to_numpy()]
    )
    pub = audience.published
    # Below a year, the published view does not tell « 0 » from « 1 à 5 » (core.privacy): on
    # screen in the published view, and in the exports, which are always published.
    zeros_hidden = not zeros_published(flt.start, flt.end)
    if zeros_hidden:
        base, groups = masks_hiding_zeros(
            d.rates["faits"].to_numpy(), [keys["epci"].to_numpy(), keys["canton"].to_numpy()], base, groups
        )
    masks = {"commune": base, "epci": groups[0], "canton": groups[1]}
    # Smoothed rates and intervals derive from counts: in the published view they are computed
    # from the published counts only, so that no figure depends on a hidden one.
    neighbours = queen_neighbours_from_geometry(communes.geometry)
    counts, population = d.rates["faits"].to_numpy(), d.rates["population"].to_numpy(float)
    smooth_pub, note_pub = smoothed_rates_from_counts(
        counts, population, neighbours, exclude=masks["commune"]
    )
    smoothing = {"published": smooth_pub}
    if pub:
        note = note_pub
    else:
        smoothing["internal"], note = smoothed_rates_from_counts(counts, population, neighbours)
    shown_secret = masks["commune"]
    shown_rates = _with_smoothing(
        d.rates.assign(secret=shown_secret) if pub else d.rates, smoothing["published" if pub else "internal"]
    )
    value_column = "taux_lisse" if rate == "lisse" else "taux_pour_mille"
    # Choropleth classes from what the audience may see only (bounds would give a rate back).
    visible = np.isfinite(shown_rates[value_column].to_numpy(float))
    if rate != "lisse":
        visible &= shown_rates["faits"].gt(0).to_numpy()
    if pub:
        visible &= ~shown_secret
    values = shown_rates[value_column].to_numpy(float)
    breaks = class_breaks_from_values(np.where(visible, values, np.nan), method=method)
    classes = classes_from_values(np.where(visible, values, np.nan), breaks)

    window = int(round(d.figures["part_fenetre"] * n))
    hide_total = pub and is_secret(n)
    hide_window = pub and (hide_total or is_secret(window) or is_secret(n - window))
    touched = f"{fmt_count(d.figures['communes_touchees'])} / {fmt_count(len(communes))}"
    metrics = [
        Metric("Faits", SECRET_LABEL if hide_total else fmt_count(n)),
        Metric(
            f"Pour 1 000 {unit}", SECRET_LABEL if hide_total else fmt_number(d.figures["taux_pour_mille"], 2)
        ),
        Metric("Communes concernées", SECRET_LABEL if hide_total else touched),
        Metric(
            "Faits datés sur une plage", SECRET_LABEL if hide_window else fmt_share(d.figures["part_fenetre"])
        ),
    ]
    # Monthly series and hour x weekday table (margin: the total).
    monthly = d.monthly.reset_index()
    hw = d.hour_weekday
    if pub:
        mmask = (
            np.ones(len(monthly), dtype=bool)
            if hide_total
            else secret_mask_from_counts(monthly["faits"].to_numpy())
        )
        monthly["faits"] = monthly["faits"].astype(float).mask(mmask)
        hw = hw.mask(np.ones(hw.shape, dtype=bool) if hide_total else secret_mask_from_counts(hw.to_numpy()))
    notes = []
    if pub:
        notes.append(
            f"Effectifs de 1 à {SETTINGS.privacy_threshold} masqués, ainsi que ceux qui permettraient de les retrouver par "
            "différence (secret statistique) : communes, EPCI, cantons, infractions, lieux, mois, heures."
        )
    notes += _smoothing_notes(note, pub)
    if per_dwelling:
        notes.append(
            "Cambriolages de logement : taux pour 1 000 logements (nombre de logements de la base communale "
            "SSMSI importée), comme le publie le SSMSI."
        )
    return DiagnosticView(
        metrics=metrics,
        n_incidents=n,
        rates=shown_rates,
        breaks=breaks,
        classes=classes,
        hide_secret=pub,
        by_offence=_gate_categories(d.by_offence, audience, hide_total),
        by_place=_gate_categories(d.by_place, audience, hide_total),
        monthly=monthly,
        hour_weekday=hw.reset_index(names="jour").melt(id_vars="jour", var_name="heure", value_name="faits"),
        weekdays=list(d.hour_weekday.index),
        profile=d.profile.astype(object).mask(d.profile_mask, SECRET_LABEL).astype(str),
        notes=notes,
        base=d,
        published_masks=masks,
        rate=rate,
        value_column=value_column,
        smoothing=smoothing,
        unit=unit,
        dwellings=dwellings if per_dwelling else None,
        secret_range=secret_range_label(zeros_hidden=zeros_hidden and pub),
    )


def _display(table: pd.DataFrame) -> pd.DataFrame:
    """The ranking as shown: figures stay numbers (the table writes them the French way and
    sorts them), « — » for an unranked row's rank and a rate without population, an empty cell
    for any other missing value; never « None » or « nan »."""
    out = table.copy()
    for column in out.columns:
        values = out[column].astype(object)
        missing = values.map(lambda v: v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA)
        if not missing.any():
            continue
        filler = "—" if column in ("rang", "taux_pour_mille", "taux_lisse") else ""
        out[column] = values.mask(missing, filler)
    return out


def _reading_order(table: pd.DataFrame, rate: str) -> pd.DataFrame:
    """The ranking's columns in the order a reader asks for them: rank, name, the rate the
    ranking follows, its interval and reliability, then the counts and the code (the export
    keeps its own order)."""
    first = ["rang", "commune", "taux_lisse" if rate == "lisse" else "taux_pour_mille", "ic_95", "fiabilite"]
    first += ["taux_pour_mille" if rate == "lisse" else "taux_lisse", "faits", "population", "logements"]
    ordered = [c for c in first if c in table.columns]
    return table[ordered + [c for c in table.columns if c not in ordered]]


def _top_warning(table: pd.DataFrame, rate: str, top: int = 10) -> str | None:
    """Say it when the first ranks rest on few incidents (raw or smoothed ranking)."""
    if "fiabilite" not in table:
        return None
    head = table.head(top)
    weak = head["fiabilite"].eq("peu fiable")
    if not weak.any():
        return None
    first = " La première unité du classement est dans ce cas." if bool(weak.iloc[0]) else ""
    advice = (
        " Choisissez « Taux lissé » pour un classement qui en tient compte."
        if rate == "brut"
        else " Même lissé, un taux très supérieur à celui des communes voisines reste élevé : lisez-le avec son intervalle."
    )
    return (
        f"{fmt_count(int(weak.sum()))} des {fmt_count(len(head))} premières unités ont un taux peu fiable "
        f"(peu de faits : intervalle à 95 % plus large que le taux).{first}{advice}"
    )


def ranking_for_level(
    view: DiagnosticView, communes: gpd.GeoDataFrame, keys: pd.DataFrame, level: str, *, audience: Audience
) -> Ranking:
    """The ranking at a level (commune, EPCI, canton) for an audience, and its exports.

    Parameters
    ----------
    view : DiagnosticView
        From :func:`diagnostic_for_selection` (any audience).
    communes, keys
        As given to :func:`diagnostic_for_selection`.
    level : {"commune", "epci", "canton"}
        Level of the table.
    audience : Audience
        Who is looking; the exports are always in the published view.
    """
    if view.dwellings is not None:  # per 1,000 dwellings: the groups' denominators too
        communes = communes.assign(population=view.dwellings.reindex(communes["code"].to_numpy()).to_numpy())
    mask = view.published_masks[level]
    export, export_geometry = _level_table(view, communes, keys, level, mask)
    table = export if audience.published else _level_table(view, communes, keys, level, None)[0]
    export = export.rename(columns={"commune": LEVELS[level]})
    ranked_zero = level == "commune" and view.rate == "lisse"  # a smoothed rate exists without incidents
    shown = table if ranked_zero else table[table["faits"].astype(str) != "0"]
    if (
        audience.published
    ):  # a secret row has no rank: it is not listed (its name would say « something happened »)
        shown = shown[shown["rang"].notna()]
    shown = shown.reset_index(drop=True)
    if view.unit == "logements":
        export = export.rename(columns={"population": "logements"})
        shown = shown.rename(columns={"population": "logements"})
    return Ranking(
        warning=_top_warning(shown, view.rate if level == "commune" else "brut"),
        table=_display(_reading_order(shown, view.rate if level == "commune" else "brut")).rename(
            columns={"commune": LEVELS[level]}
        ),
        export=export,
        export_geometry=export_geometry,
    )


@dataclass
class OfficialView:
    """The Diagnostic page on official SSMSI statistics (already published by the SSMSI)."""

    unit: str
    rates: gpd.GeoDataFrame
    metrics: list[Metric]
    breaks: np.ndarray | None
    classes: np.ndarray | None
    table: pd.DataFrame
    series: pd.DataFrame
    source: str | None
    export_csv: bytes
    export_geojson: bytes


def saved_statistics() -> list[DatasetInfo]:
    """The saved SSMSI tables, newest first."""
    return statistics_store().list()


def statistics_table(slug: str) -> pd.DataFrame:
    """A saved SSMSI table."""
    return statistics_store().load(slug)


def statistics_key(saved: Iterable[DatasetInfo]) -> str:
    """What identifies the saved SSMSI tables (changes on an import or a deletion)."""
    return "|".join(f"{i.slug}@{i.imported_at}" for i in saved)


def dwellings_from_saved_statistics(codes: pd.Series, tables: Iterable[pd.DataFrame]) -> pd.Series | None:
    """Dwellings per commune (burglary rates per 1,000 dwellings) from the first table that
    has them.

    Parameters
    ----------
    codes : Series
        INSEE codes of the communes.
    tables : iterable of DataFrame
        Saved SSMSI tables, newest first (read lazily: the search stops at the first match).

    Returns
    -------
    Series or None
        Dwellings indexed like ``codes``; None when no table gives them.
    """
    for table in tables:
        found = dwellings_from_statistics(table, codes)
        if found is not None:
            return found
    return None


def official_for_selection(
    stats: pd.DataFrame, communes: gpd.GeoDataFrame, departement: str, *, indicator: str, year: int
) -> OfficialView:
    """Published SSMSI rates of the communes, the département series and their exports.

    Parameters
    ----------
    stats : DataFrame
        A saved SSMSI table (:mod:`readers.ssmsi`).
    communes : GeoDataFrame
        Communes of the département.
    departement : str
        Its code.
    indicator : str
        SSMSI indicator (from the file: escape it before it reaches Markdown).
    year : int
        Year.
    """
    from analysis.official import (
        STATUS_ABSENT,
        STATUS_PUBLISHED,
        STATUS_SECRET,
        departement_series,
        official_commune_table,
        official_rates_for_communes,
    )

    unit = "logements" if indicator in PER_DWELLING else "habitants"
    rates = official_rates_for_communes(stats, communes, indicateur=indicator, annee=int(year))
    published = rates["statut"] == STATUS_PUBLISHED
    metrics = [
        Metric("Communes publiées", f"{fmt_count(int(published.sum()))} / {fmt_count(len(rates))}"),
        Metric("Non diffusées", fmt_count(int((rates["statut"] == STATUS_SECRET).sum()))),
        Metric("Absentes de la base", fmt_count(int((rates["statut"] == STATUS_ABSENT).sum()))),
    ]
    breaks = classes = None
    if published.any():
        breaks = class_breaks_from_values(rates["taux_pour_mille"].where(published).to_numpy())
        classes = classes_from_values(rates["taux_pour_mille"].to_numpy(), breaks)
    table = official_commune_table(rates)
    series = departement_series(stats, departement, indicateur=indicator)
    return OfficialView(
        unit=unit,
        rates=rates,
        metrics=metrics,
        breaks=breaks,
        classes=classes,
        table=table,
        series=series,
        source=str(series["source"].iloc[0]) if len(series) else None,
        export_csv=csv_bytes_from_frame(table),
        export_geojson=geojson_bytes_from_frame(table, rates.geometry.loc[table.index]),
    )
