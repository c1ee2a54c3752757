"""Zones prioritaires page: zones of the sidebar period, density, evaluation, emerging hot spots.

In the published view the zone table, its map properties and its exports pass the privacy
gate: per-zone offence counts with secondary secrecy against the zone total, previous-period
counts of 1 to 5 and the change that gives them back, the severity score where it would give
a hidden count back (with the zone total, two hidden counts of different weights could be
solved for), and no zone whose support holds 1 to 5 incidents.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from analysis.emerging import CATEGORIES, emerging_hotspots_from_points
from analysis.hotspots import TooFewIncidentsError, grid_for_territory, territory_union
from analysis.zone_detectors import AUTOMATIC, HISTORY_METHODS, ZoneSettings
from analysis.zone_evaluation import concentration_from_zones, truth_active_in_period
from analysis.zones import DEFAULT_SEVERITY as DEFAULT_SEVERITY  # for the page
from analysis.zones import ZoneAnalysis, priority_zones_for_period, published_zones, zones_from_incidents
from core import model as m
from core.crs import WGS84
from core.formatting import fmt_change, fmt_count, fmt_number, fmt_period, fmt_share
from core.model import IncidentFilter, filter_incidents, located, mask_from_filter
from core.privacy import SECRET_LABEL, Audience, is_secret
from core.settings import SETTINGS
from rendering.exports import csv_bytes_from_frame, geojson_bytes_from_frame
from usecases.backtest import METHOD_LABELS
from usecases.common import Metric, display_frame
from usecases.selection import Selection

METHODS = {
    "recurrent": "Mailles récurrentes (historique pondéré, superficie choisie)",
    "local": "Excès local (disque contre anneau, Poisson + FDR)",
    "gi": "Points chauds Getis-Ord Gi* (FDR)",
    "dbscan": "Agrégats de densité DBSCAN",
    "hdbscan": "Agrégats de densité HDBSCAN",
    "prospectif": "Points chauds prospectifs (Bowers et al., superficie choisie)",
    "densite": "Densité par noyau (KDE, superficie choisie)",
    "automatique": "Automatique (la méthode à superficie choisie qui a le mieux prédit ces 12 derniers mois)",
}
#: Why the default is the default (the page's method note; figures of bench/bench_backtest.py).
METHOD_NOTE = (
    "Méthode par défaut : les mailles récurrentes, les mailles de 100 m où les faits des 36 derniers "
    "mois se répètent (un fait pèse moitié moins tous les 24 mois), sur 0,1 % du territoire (part "
    "modifiable), les trous d'une maille comblés pour former des zones d'un seul tenant. Sur des faits "
    "réels géolocalisés (Toronto ; réglages choisis sur 2018, contrôlés sur 2021 ; cambriolages de "
    "logement et vols avec violence), ses zones ont capté 1,03 à 1,26 fois les faits du mois suivant que "
    "capte la meilleure référence de même superficie (les mailles les plus touchées des 3 derniers "
    "mois) ; l'excès local, Gi*, DBSCAN, HDBSCAN, le prospectif et la densité en captent moins que cette "
    "référence. La rétro-évaluation ci-dessous refait cette comparaison sur vos propres données."
)
CONFIDENCE = {3: "99 %", 2: "95 %", 1: "90 %"}
#: The Zones page's settings until the user changes them (the defaults of its widgets).
ZONE_DEFAULTS: dict[str, object] = {
    "method": "recurrent",
    "share": 0.1,  # % of the territory, share methods
    "radius": 4,
    "weeks": 8,
    "half_life": 24.0,
    "close_gaps": True,
    "cell": 100.0,
    "band": 450.0,
    "confidence": 3,
    "eps": 200.0,
    "min_samples": 25,
    "min_incidents": 20,
    "inner": 250.0,
    "outer": 1000.0,
    "ratio": 2.0,
}


@dataclass
class ZonesView:
    """What the Zones page draws."""

    analysis: ZoneAnalysis
    zones_wgs84: gpd.GeoDataFrame  # what the map may show (gated in the published view)
    density_bounds: tuple[float, float, float, float]
    metrics: list[Metric]
    table: pd.DataFrame  # shown on screen
    export_csv: bytes
    export_geojson: bytes
    export_gpkg: bytes
    captions: list[str] = field(default_factory=list)


def zones_settings_from_values(
    *,
    method: str,
    cell: float,
    band: float,
    confidence: int,
    eps: float,
    min_samples: int,
    min_incidents: int,
    inner: float,
    outer: float,
    ratio: float,
    share: float = 0.1,
    radius: int = 4,
    weeks: int = 8,
    half_life: float = 24.0,
    close_gaps: bool = True,
) -> ZoneSettings:
    """The zone settings of the page's widgets (the ring is kept at least one cell wide;
    ``share`` in % of the territory)."""
    return ZoneSettings(
        method=method,
        area_share=float(share) / 100.0,
        prospective_radius=int(radius),
        prospective_weeks=int(weeks),
        half_life=float(half_life),
        close_gaps=bool(close_gaps),
        cell=float(cell),
        band=float(band),
        confidence=int(confidence),
        eps=float(eps),
        min_samples=int(min_samples),
        min_incidents=max(int(min_incidents), SETTINGS.privacy_threshold + 1),
        local_inner=float(inner),
        local_outer=float(max(outer, inner + cell)),
        min_ratio=float(ratio),
    )


def _in_crs(frame: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """``frame`` in ``crs``, reprojected only when it is not already."""
    return frame if frame.crs is not None and frame.crs.equals(crs) else frame.to_crs(crs)


def default_zone_settings() -> ZoneSettings:
    """The settings the Zones page opens with (see :data:`ZONE_DEFAULTS`)."""
    return zones_settings_from_values(**ZONE_DEFAULTS)


def planted_truth(selection: Selection) -> pd.DataFrame | None:
    """The hot spots the generator planted in a synthetic data set (recall and precision are
    measured against them), None for imported data: real data have no ground truth."""
    store = selection.store()
    return store.planted_hotspots(selection.slug) if store.info(selection.slug).synthetic else None


#: The incident columns the zone analysis reads (with the geometry): date, offence (the score's
#: weights, the counts per offence), force (the zones' forces).
ZONE_COLUMNS = (m.START, m.OFFENCE, m.FORCE)


def zone_analysis_for_selection(
    incidents: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    flt: IncidentFilter,
    *,
    crs: str,
    settings: ZoneSettings,
    severity: dict[str, float],
    bandwidth: float | None,
    truth: pd.DataFrame | None,
) -> tuple[ZoneAnalysis, int | None]:
    """Zones of the sidebar period (the trend and evaluation use the periods around it).

    Returns the analysis and, for synthetic data, the number of planted hot spots active in
    the period.
    """
    keep = mask_from_filter(incidents, flt.undated())
    if flt.start is not None and flt.end is not None:
        # Only the period and the periods of the same length before and after it are used.
        start, end = pd.Timestamp(flt.start), pd.Timestamp(flt.end) + pd.Timedelta(days=1)
        first = start - (end - start)
        if settings.method in HISTORY_METHODS:  # it reads the months before the period
            first = min(first, start - pd.DateOffset(months=settings.history_months))
        if settings.method == AUTOMATIC:  # 12 windows of 3 + 1 months, and their history
            first = min(first, end - pd.DateOffset(months=16 + settings.history_months))
        t = incidents[m.START]
        keep &= ((t >= first) & (t < end + (end - start))).to_numpy()
    # One take, of the columns the analysis reads (a data set's many text columns are Arrow
    # arrays: taking them all was a tenth of the page's time on the Nord).
    sel = incidents.loc[keep, [c for c in ZONE_COLUMNS if c in incidents] + [incidents.geometry.name]]
    active = None if truth is None else truth_active_in_period(truth, flt.start, flt.end)
    res = priority_zones_for_period(
        sel.to_crs(crs),
        _in_crs(communes, crs),
        start=flt.start,
        end=flt.end,
        settings=settings,
        severity=severity,
        bandwidth=bandwidth,
        truth=active,
        privacy_threshold=SETTINGS.privacy_threshold,
    )
    return res, None if active is None else len(active)


def default_zones_for_selection(
    incidents: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, flt: IncidentFilter, *, crs: str
) -> gpd.GeoDataFrame:
    """Priority zones of a selection's period at the Zones page's default settings.

    The one definition of « the zones » outside the Zones page (Suivi, partner packs, national
    batch): the method and parameters the page opens with (:func:`default_zone_settings`),
    and, for a method that reads the past, the months before the period under the same
    filters, so the Zones page shows the same zones for the same period.

    Parameters
    ----------
    incidents : GeoDataFrame
        All incidents of the data set (any CRS).
    communes : GeoDataFrame
        Communes of the selection.
    flt : IncidentFilter
        Filters; its dates are the period the zones are drawn on (all dates when open).
    crs : str
        Metric CRS of the analysis.

    Returns
    -------
    GeoDataFrame
        See :func:`analysis.zones.zones_from_incidents` (metric CRS; may be empty).
    """
    settings = default_zone_settings()
    history = None
    if settings.method in HISTORY_METHODS and flt.start is not None:
        # One pass of the filters; the period and the months before it are then cut by date.
        undated = filter_incidents(incidents, flt.undated())
        start, t = pd.Timestamp(flt.start), undated[m.START]
        history = undated[(t >= start - pd.DateOffset(months=settings.history_months)) & (t < start)].to_crs(
            crs
        )
        sel = filter_incidents(undated, flt).to_crs(crs)
    else:
        sel = filter_incidents(incidents, flt).to_crs(crs)
    as_of = None if flt.end is None else pd.Timestamp(flt.end) + pd.Timedelta(days=1)
    try:
        return zones_from_incidents(
            sel, _in_crs(communes, crs), settings=settings, as_of=as_of, history=history
        )
    except TooFewIncidentsError:
        return gpd.GeoDataFrame({"id": [], "rang": [], "communes": []}, geometry=[], crs=crs)


def _gated_zones(zones: gpd.GeoDataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Published zone table and the zones to withhold (support of 1 to 5 incidents)."""
    raw = pd.DataFrame(zones.drop(columns="geometry"))
    table = published_zones(raw)
    offence_cols = [c for c in table.columns if c.startswith("n_")]
    if offence_cols and "score" in table.columns and len(table):
        any_hidden = (table[offence_cols] == SECRET_LABEL).any(axis=1)
        table["score"] = table["score"].astype(object).mask(any_hidden, SECRET_LABEL)
    withhold = np.array([is_secret(v) for v in raw.get("faits", pd.Series(dtype=float))], dtype=bool)
    return table, withhold


def zones_view(res: ZoneAnalysis, n_truth: int | None, *, crs: str, audience: Audience) -> ZonesView:
    """The Zones page of an analysis for an audience (exports always published).

    Parameters
    ----------
    res : ZoneAnalysis
        From :func:`zone_analysis_for_selection`.
    n_truth : int or None
        Planted hot spots active in the period (synthetic data).
    crs : str
        Metric CRS of the analysis.
    audience : Audience
        Who is looking.
    """
    zones = res.zones
    published, withhold = _gated_zones(zones)
    keep = ~withhold
    raw = pd.DataFrame(zones.drop(columns="geometry"))
    pub = audience.published
    shown_zones = zones[keep] if pub else zones
    source = published[keep] if pub else raw
    share_inc, share_area = concentration_from_zones(shown_zones)
    metrics = [
        Metric("Zones", fmt_count(len(shown_zones))),
        Metric(
            "Concentration", f"{fmt_share(share_inc)} des faits", f"sur {fmt_share(share_area)} du territoire"
        ),
    ]
    captions = []
    if res.evaluation:
        metrics.append(
            Metric("Taux de réussite (période suivante)", fmt_share(res.evaluation["taux_de_reussite"]))
        )
        metrics.append(Metric("PAI (période suivante)", fmt_number(res.evaluation["pai"], 1)))
    else:
        a, b = res.next_period
        captions.append(
            f"Évaluation impossible : les données ne couvrent pas la période suivante ({fmt_period(a, b)})."
        )
    if res.choice is not None:
        # The candidates' hit rates rest on monthly counts that may be 1 to 5: internal view only.
        rates = (
            ""
            if pub
            else " ; ".join(
                f"{METHOD_LABELS.get(k, k)} {fmt_share(v)}"
                for k, v in res.choice.hit_rates.items()
                if np.isfinite(v)
            )
        )
        captions.append(
            f"Méthode automatique : « {METHOD_LABELS.get(res.choice.method, res.choice.method)} », celle dont "
            f"les zones ont capté le plus de faits du mois suivant sur {res.choice.windows} fenêtres glissantes "
            "(3 mois puis 1 mois) avant la fin de la période" + (f" ({rates})." if rates else ".")
        )
    if (
        pub
        and len(source)
        and (source.get("score", pd.Series(dtype=object)).astype(str) == SECRET_LABEL).any()
    ):
        n_secret = int((source["score"].astype(str) == SECRET_LABEL).sum())
        captions.append(
            f"Score « {SECRET_LABEL} » pour {fmt_count(n_secret)} zone(s) : le score pondère chaque infraction par sa "
            f"gravité, et l'effectif d'une infraction sous secret dans la zone (de 1 à {SETTINGS.privacy_threshold}) "
            "s'y lirait ; le rang, établi sur ce score, reste publié."
        )
    if pub and withhold.any():
        captions.append(
            f"{int(withhold.sum())} zone(s) non publiée(s) : effectif de 1 à {SETTINGS.privacy_threshold} "
            "(secret statistique)."
        )
    shown = display_frame(
        source.assign(
            part_superficie=raw.loc[source.index, "part_superficie"] * 100.0,
            evolution=[v if isinstance(v, str) else fmt_change(v) for v in source["evolution"]],
            forces=[forces_in_words(v) for v in source["forces"]],
        )
    )
    # Map properties: the published table's values in the published view.
    w84 = shown_zones.to_crs(WGS84)
    if pub and len(w84):
        w84 = w84.assign(score=published.loc[keep, "score"].to_numpy())
    g = res.density_grid
    tr = Transformer.from_crs(crs, WGS84, always_xy=True)
    (w, e), (s, n) = tr.transform([g.x0, g.x0 + g.nx * g.cell], [g.y0, g.y0 + g.ny * g.cell])
    export = published[keep]
    export_geom = zones.geometry[keep]
    return ZonesView(
        analysis=res,
        zones_wgs84=w84,
        density_bounds=(w, s, e, n),
        metrics=metrics,
        table=shown,
        export_csv=csv_bytes_from_frame(export),
        export_geojson=geojson_bytes_from_frame(export, export_geom.to_crs(WGS84)),
        export_gpkg=_gpkg_bytes(export, export_geom, crs),
        captions=captions,
    )


def forces_in_words(codes: object) -> str:
    """« GN, PN » as a person reads it: « gendarmerie nationale, police nationale »."""
    from core.vocabulary import FORCE_LABELS

    parts = [c.strip() for c in str(codes or "").split(",") if c.strip()]
    return ", ".join(FORCE_LABELS.get(c, c).lower() if c in FORCE_LABELS else c for c in parts)


def _gpkg_bytes(table: pd.DataFrame, geometry: gpd.GeoSeries, crs: str) -> bytes:
    buf = io.BytesIO()
    as_text = {c: table[c].astype(str) for c in table.columns if table[c].dtype == object}
    gpd.GeoDataFrame(table.assign(**as_text), geometry=geometry.to_numpy(), crs=crs).to_file(
        buf, driver="GPKG", layer="zones"
    )
    return buf.getvalue()


def emerging_for_selection(
    incidents: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    flt: IncidentFilter,
    *,
    crs: str,
    settings: ZoneSettings,
    freq: str,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Emerging hot spots over the whole data set (cells in EPSG:4326, category counts).

    Cells carry categories only (no count), so they are the same in every view.
    """
    sel = filter_incidents(incidents, flt.undated()).to_crs(crs)
    territory = communes.to_crs(crs)
    pts = located(sel)
    grid = grid_for_territory(territory_union(territory.geometry), settings.cell)
    res = emerging_hotspots_from_points(
        pts.geometry.x.to_numpy(),
        pts.geometry.y.to_numpy(),
        pts[m.START],
        grid,
        band=settings.band,
        freq=freq,
    )
    cells = gpd.GeoDataFrame(res, geometry=grid.polygons(), crs=territory.crs).to_crs(WGS84)
    counts = res["categorie"].value_counts().reindex([c for c in CATEGORIES if c != "aucun"], fill_value=0)
    return cells, pd.DataFrame({"catégorie": counts.index, "cellules": counts.to_numpy()})
