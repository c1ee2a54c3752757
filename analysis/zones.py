"""Priority zones: the cells a detector labels (:mod:`analysis.zone_detectors`) merged into
ranked polygons, their published form, and one period's analysis (evaluated with
:mod:`analysis.zone_evaluation`).

Each zone is described (counts by offence, severity-weighted score, concentration, trend
against the previous period, forces and communes) and the zones are ranked by score.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.backtest import MethodChoice, best_share_method
from analysis.hotspots import (
    MIN_INCIDENTS,
    Grid,
    TooFewIncidentsError,
    grid_for_territory,
    territory_union,
)
from analysis.zone_detectors import AUTOMATIC, HISTORY_METHODS, SHARE_METHODS, ZoneSettings, labels_from_xy
from analysis.zone_evaluation import evaluation_from_zones, recall_precision_from_truth
from core import model as m
from core.crs import require_metric
from core.model import located, located_mask, xy_of_located
from core.privacy import SECRET_LABEL, secret_cells, secret_mask_from_counts
from core.settings import SETTINGS

#: Default severity weights (editable in the page): violence against persons weighs most.
DEFAULT_SEVERITY: dict[str, float] = {
    "Violences physiques intrafamiliales": 3.0,
    "Violences physiques hors cadre familial": 3.0,
    "Violences sexuelles": 4.0,
    "Vols avec armes": 4.0,
    "Vols violents sans arme": 3.0,
    "Vols sans violence contre des personnes": 1.5,
    "Cambriolages de logement": 2.0,
    "Vols de véhicule": 1.5,
    "Vols dans les véhicules": 1.0,
    "Vols d'accessoires sur véhicules": 1.0,
    "Destructions et dégradations volontaires": 1.0,
    "Usage de stupéfiants": 1.0,
    "Trafic de stupéfiants": 2.5,
    "Escroqueries et fraudes aux moyens de paiement": 0.5,
    "Autre": 1.0,
}


def _stable_id(geom: shapely.Geometry) -> str:
    c = geom.centroid
    key = f"{round(c.x, -2):.0f}:{round(c.y, -2):.0f}"
    return "Z-" + hashlib.sha1(key.encode()).hexdigest()[:6].upper()


def zones_from_incidents(
    incidents: gpd.GeoDataFrame,
    territory: gpd.GeoDataFrame,
    *,
    settings: ZoneSettings = ZoneSettings(),  # noqa: B008 - immutable dataclass
    severity: Mapping[str, float] | None = None,
    previous: gpd.GeoDataFrame | None = None,
    as_of: pd.Timestamp | None = None,
    history: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Merged, ranked priority zones of a set of incidents.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents of the period (metric CRS), :mod:`core.model` columns.
    territory : GeoDataFrame
        Communes of the study area (same CRS), with ``code`` and ``nom``.
    settings : ZoneSettings
        Method and parameters.
    severity : mapping, optional
        Weight of each offence in the score (default :data:`DEFAULT_SEVERITY`).
    previous : GeoDataFrame, optional
        Incidents of the previous period of the same length, for the trend.
    as_of : Timestamp, optional
        Time of the forecast of the ``"prospectif"`` and ``"recurrent"`` methods (default: the
        day after the last incident).
    history : GeoDataFrame, optional
        Incidents before the period (same filters), read by the methods of
        :data:`analysis.zone_detectors.HISTORY_METHODS` only, to draw the zones; the zones are
        described by the period's incidents.

    Returns
    -------
    GeoDataFrame
        One row per zone, best score first: ``rang``, ``id`` (stable: derived from the
        zone's position), ``faits``, ``score``, ``superficie_km2``, ``part_faits``,
        ``part_superficie``, ``faits_periode_precedente``, ``evolution``, ``forces``,
        ``communes``, one ``n_<offence>`` column per offence present, geometry.

    Raises
    ------
    TooFewIncidentsError
        Fewer than 30 incidents.
    """
    crs = require_metric(incidents, territory)
    pts = located(incidents)
    if len(pts) < MIN_INCIDENTS:
        raise TooFewIncidentsError(
            # No count in the message: it reaches every audience, and a small one is secret.
            f"Trop peu de faits pour délimiter des zones : il en faut au moins {MIN_INCIDENTS}. "
            "Élargissez la période ou les infractions."
        )
    area = territory_union(territory.geometry)
    x, y = xy_of_located(pts)
    dates = pts[m.START].to_numpy() if m.START in pts else None
    if history is not None and settings.method in HISTORY_METHODS and len(history):
        hx, hy = xy_of_located(history)
        dx, dy = np.concatenate([x, hx]), np.concatenate([y, hy])
        dd = (
            None
            if dates is None
            else np.concatenate([dates, history[m.START].to_numpy()[located_mask(history)]])
        )
        grid, labels, n = labels_from_xy(dx, dy, area, settings, dates=dd, as_of=as_of)
    else:
        grid, labels, n = labels_from_xy(x, y, area, settings, dates=dates, as_of=as_of)
    columns = [
        "rang",
        "nom",
        "id",
        "faits",
        "score",
        "superficie_km2",
        "part_faits",
        "part_superficie",
        "faits_periode_precedente",
        "evolution",
        "forces",
        "communes",
    ]
    if n == 0:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=crs))
    # Zone of each incident: the label of its cell (none outside the grid: an incident kept
    # outside the département is in no zone).
    zone_of = _labels_at(labels, grid, x, y)
    iyc, ixc = np.nonzero(labels)
    h = grid.cell / 2
    cells = shapely.box(
        grid.x0 + ixc * grid.cell,
        grid.y0 + iyc * grid.cell,
        grid.x0 + ixc * grid.cell + 2 * h,
        grid.y0 + iyc * grid.cell + 2 * h,
    )
    cell_zone = labels[iyc, ixc]
    weights = {**DEFAULT_SEVERITY, **(severity or {})}
    offences = sorted(pts[m.OFFENCE].dropna().unique())
    off_codes = pd.Categorical(pts[m.OFFENCE], categories=offences).codes
    # An offence's weight read through its code (an unknown or missing offence weighs 1).
    offence_weight = np.append([float(weights.get(o, 1.0)) for o in offences], 1.0)[off_codes]
    prev_zone = None
    if previous is not None and len(previous):
        prev_zone = _labels_at(labels, grid, *xy_of_located(previous))
    total_area = area.area
    rows = []
    # Everything per zone is computed from sorted indices (no pass over all points per zone).
    sizes = np.bincount(zone_of, minlength=n + 1)
    scores = np.bincount(zone_of, weights=offence_weight, minlength=n + 1)
    by_offence = np.zeros((n + 1, len(offences)), dtype=np.int64)
    np.add.at(by_offence, (zone_of, np.maximum(off_codes, 0)), (off_codes >= 0).astype(np.int64))
    prev_sizes = np.bincount(prev_zone, minlength=n + 1) if prev_zone is not None else None
    forces = pts[m.FORCE].astype(object).fillna("").to_numpy()
    order = np.argsort(zone_of, kind="stable")
    starts = np.searchsorted(zone_of[order], np.arange(n + 2))
    cell_order = np.argsort(cell_zone, kind="stable")
    cell_starts = np.searchsorted(cell_zone[cell_order], np.arange(n + 2))
    tree = shapely.STRtree(territory.geometry.to_numpy())
    names = territory["nom"].astype(str).to_numpy()
    # A share method's area is the share asked for: its zones are kept whatever their count
    # (the published view withholds those of 1 to 5 incidents).
    floor = 0 if settings.method in SHARE_METHODS else settings.min_incidents
    for z in np.flatnonzero(sizes >= floor):
        if z == 0:
            continue
        k = int(sizes[z])
        geom = shapely.union_all(cells[cell_order[cell_starts[z] : cell_starts[z + 1]]])
        geom = shapely.intersection(geom, area)
        members = order[starts[z] : starts[z + 1]]
        prev = int(prev_sizes[z]) if prev_sizes is not None else None
        hit = np.sort(tree.query(geom, predicate="intersects"))
        rows.append(
            {
                "id": _stable_id(geom),
                "commune_principale": _main_commune(geom, hit, names, tree),
                "faits": k,
                "score": float(scores[z]),
                "superficie_km2": geom.area / 1e6,
                "part_faits": k / len(pts),
                "part_superficie": geom.area / total_area,
                "faits_periode_precedente": prev,
                "evolution": (k / prev - 1.0) if prev else None,
                "forces": ", ".join(sorted({f for f in forces[members] if f})),
                "communes": ", ".join(names[hit]),
                **{f"n_{o}": int(by_offence[z, i]) for i, o in enumerate(offences)},
                "geometry": geom,
            }
        )
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=crs))
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs).sort_values("score", ascending=False)
    out.insert(0, "rang", np.arange(1, len(out) + 1))
    out.insert(1, "nom", [zone_name(r, c, k) for r, c, k in zip(out["rang"], out.pop("commune_principale"),
                                                                 out["communes"].str.count(", ") + 1, strict=True)])  # fmt: skip
    return out.reset_index(drop=True)


def _labels_at(labels: np.ndarray, grid: Grid, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The label of each point's cell, 0 (no zone) for a point outside the grid."""
    iy, ix = grid.cell_index(x, y)
    inside = (ix >= 0) & (ix < grid.nx) & (iy >= 0) & (iy < grid.ny)
    return np.where(inside, labels[np.where(inside, iy, 0), np.where(inside, ix, 0)], 0)


def zone_name(rank: int, main_commune: str, n_communes: int) -> str:
    """A zone as people call it: its rank and its main commune (« Zone 3 – Laval », « Zone 5 –
    Évron et 1 autre commune »); the stable ``id`` stays for the follow-up."""
    others = n_communes - 1
    tail = (
        ""
        if others <= 0
        else f" et {others} autre{'s' if others > 1 else ''} commune{'s' if others > 1 else ''}"
    )
    return f"Zone {int(rank)} – {main_commune}{tail}" if main_commune else f"Zone {int(rank)}"


def _main_commune(geom: shapely.Geometry, hit: np.ndarray, names: np.ndarray, tree: shapely.STRtree) -> str:
    """The commune holding the largest part of a zone."""
    if len(hit) == 0:
        return ""
    if len(hit) == 1:
        return str(names[hit[0]])
    parts = shapely.area(shapely.intersection(tree.geometries.take(hit), geom))
    return str(names[hit[int(np.argmax(parts))]])


def published_zones(zones: pd.DataFrame, *, threshold: int | None = None) -> pd.DataFrame:
    """The zone table with the counts the secrecy rule hides replaced by ``"secret"``.

    Per zone, the offence counts ``n_<offence>`` follow primary and secondary secrecy against
    the zone's published total ``faits`` (one hidden count could otherwise be recovered by
    subtraction). A previous-period count of 1 to ``threshold`` is hidden, and so is the
    ``evolution`` computed from it (it would give the count back).

    Parameters
    ----------
    zones : DataFrame
        From :func:`zones_from_incidents` (geometry column optional).
    threshold : int, optional
        Largest hidden count (default ``SETTINGS.privacy_threshold``).

    Returns
    -------
    DataFrame
        Same rows, columns and index; the count columns become ``object``.
    """
    threshold = SETTINGS.privacy_threshold if threshold is None else threshold
    out = zones.copy()
    offence_cols = [c for c in out.columns if c.startswith("n_")]
    if offence_cols and len(out):
        counts = out[offence_cols].to_numpy(dtype=float)
        hidden = np.vstack([secret_mask_from_counts(row, threshold=threshold) for row in counts])
        out[offence_cols] = out[offence_cols].astype(object).mask(hidden, SECRET_LABEL)
    if "faits_periode_precedente" in out.columns and len(out):
        prev = pd.to_numeric(out["faits_periode_precedente"], errors="coerce").to_numpy(dtype=float)
        small = secret_cells(prev, threshold=threshold)
        for col in ("faits_periode_precedente", "evolution"):
            if col in out.columns:
                out[col] = out[col].astype(object).mask(small, SECRET_LABEL)
    return out


#: The density surface's cell is a multiple of this many metres (the zones' own cell).
DENSITY_STEP = 100.0


@dataclass
class ZoneAnalysis:
    """Everything the Zones page shows for one period."""

    zones: gpd.GeoDataFrame
    density: np.ndarray  # (ny, nx) points per m², masked where fewer than the secrecy threshold
    density_grid: Grid
    n_incidents: int
    evaluation: dict[str, float] | None  # on the following period, when the data cover it
    truth_scores: dict[str, float] | None  # against planted hotspots (synthetic data)
    next_period: tuple[pd.Timestamp, pd.Timestamp]
    choice: MethodChoice | None = None  # the method « automatique » chose, and why


def priority_zones_for_period(
    incidents: gpd.GeoDataFrame,
    territory: gpd.GeoDataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    settings: ZoneSettings = ZoneSettings(),  # noqa: B008 - immutable dataclass
    severity: Mapping[str, float] | None = None,
    bandwidth: float | None = None,
    density_cell: float | None = None,
    truth: pd.DataFrame | None = None,
    privacy_threshold: int | None = None,
) -> ZoneAnalysis:
    """Zones of a period, with the density surface and their evaluation.

    Parameters
    ----------
    incidents : GeoDataFrame
        All incidents (metric CRS), already filtered by offence, place and force; those
        before the period are the history of the ``"recurrent"`` method.
    territory : GeoDataFrame
        Communes (same CRS).
    start, end : Timestamp
        Period analysed (inclusive days). The previous period of the same length gives
        the trend; the following one, when covered by the data, the hit rate and PAI.
    settings, severity
        See :func:`zones_from_incidents`; the method ``"automatique"`` is the share method that
        caught most of the next month over the 12 months before ``end``
        (:func:`analysis.backtest.best_share_method`), said in ``choice``.
    bandwidth : float, optional
        Density bandwidth in metres (default: :func:`analysis.density.default_bandwidth`).
    density_cell : float, optional
        Cell of the density surface in metres. Default: as fine as the bandwidth shapes it,
        :data:`DENSITY_STEP` metres at least, a quarter of the bandwidth at most (in steps of
        :data:`DENSITY_STEP`; the Nord's ~1.7 km: 400 m cells, 16 times fewer than 100 m for
        the same smooth surface, drawn and sent as an image).
    truth : DataFrame, optional
        Planted hotspots (synthetic data) active in the period, for recall and precision.
    privacy_threshold : int, optional
        Default ``SETTINGS.privacy_threshold``. The density is hidden where it is below the peak of ``threshold + 1`` coincident
        incidents: fewer than that can never show as a spot.
    """
    from analysis.density import default_bandwidth, density_on_grid

    start, end = pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1)
    length = end - start
    t = incidents[m.START]
    now = incidents[(t >= start) & (t < end)]
    # The other periods are read for their positions (and the history for its dates) only.
    slim = incidents[[m.START, incidents.geometry.name]]
    before = slim[(t >= start - length) & (t < start)]
    after = slim[(t >= end) & (t < end + length)]
    choice = None
    if settings.method == AUTOMATIC:
        choice = best_share_method(
            *xy_of_located(incidents),
            incidents[m.START].to_numpy()[located_mask(incidents)],
            territory_union(territory.geometry),
            settings,
            as_of=end,
        )
        settings = dataclasses.replace(settings, method=choice.method)
    past = slim[t < start] if settings.method in HISTORY_METHODS else None
    zones = zones_from_incidents(
        now, territory, settings=settings, severity=severity, previous=before, as_of=end, history=past
    )
    area = territory_union(territory.geometry)
    x, y = xy_of_located(now)
    h = bandwidth or max(default_bandwidth(x, y), density_cell or DENSITY_STEP)
    if density_cell is None:
        density_cell = DENSITY_STEP * max(1, int(h / 4 // DENSITY_STEP))
    grid = grid_for_territory(area, density_cell)
    density = density_on_grid(x, y, grid, bandwidth=h)
    threshold = SETTINGS.privacy_threshold if privacy_threshold is None else privacy_threshold
    floor = (threshold + 1) / (max(len(x), 1) * 2 * np.pi * h**2)
    density = np.where(density >= floor, density, 0.0)
    covered = incidents[m.START].max() >= end + length - pd.Timedelta(days=1)
    evaluation = evaluation_from_zones(zones, after, area.area) if covered and len(after) else None
    scores = recall_precision_from_truth(zones, truth) if truth is not None and len(truth) else None
    return ZoneAnalysis(
        zones, density, grid, len(x), evaluation, scores, (end, end + length - pd.Timedelta(days=1)), choice
    )
