"""Priority zones: hot cells or dense clusters merged into ranked polygons, and their evaluation.

Four detectors, all bounded in memory (they work on grid cells, never on an n x n
matrix of incidents):

* ``"local"`` (default): a scan of local excess: the incidents within ``local_inner``
  metres of each cell against those of the surrounding ring out to ``local_outer``
  (scaled by area), Poisson test with FDR, and an effect size of at least ``min_ratio``.
  Broad urban density (a town centre) is its own background and is not flagged; a
  concentrated spot within it is. This is the detector that meets the planted-hotspot
  recall and precision goals on the synthetic data;

* ``"gi"``: Getis-Ord Gi* hot cells at the chosen confidence (FDR-corrected), merged by
  8-connectivity;
* ``"hdbscan"``: scikit-learn's HDBSCAN on the occupied cells of the same fine grid, each
  cell repeated up to ``hdbscan_cap`` times by its incidents (HDBSCAN has no sample
  weights); memory bounded by cells x cap;
* ``"dbscan"``: DBSCAN in metres on the occupied cells of a fine grid (cell = eps / 4),
  each cell weighted by its incidents (``sample_weight``): the same clusters as DBSCAN on
  the points up to the cell resolution, at the cost of the number of occupied cells.

Zones are then described (counts by offence, severity-weighted score, concentration,
trend against the previous period, forces and communes) and ranked by score.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from analysis.hotspots import (
    MIN_INCIDENTS,
    Grid,
    TooFewIncidentsError,
    band_kernel,
    counts_on_grid,
    fdr_bins,
    gi_star_from_raster,
    grid_for_territory,
)
from core import model as m
from core.crs import require_metric
from core.errors import ParameterError
from core.model import located
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


@dataclass(frozen=True)
class ZoneSettings:
    """Parameters of the zone detection (metres), with their defaults."""

    method: str = "local"
    cell: float = 100.0
    band: float = 450.0
    confidence: int = 3  # 1: 90 %, 2: 95 %, 3: 99 %
    eps: float = 200.0
    min_samples: int = 25
    min_incidents: int = 20
    local_inner: float = 250.0
    local_outer: float = 1000.0
    min_ratio: float = 2.0
    min_cluster_size: int = 40
    hdbscan_cap: int = 20
    min_local_count: int = 15


def _zone_labels_gi(x: np.ndarray, y: np.ndarray, territory: shapely.Geometry, s: ZoneSettings):
    grid = grid_for_territory(territory, s.cell)
    counts = counts_on_grid(x, y, grid)
    z = gi_star_from_raster(counts, grid.active, band_kernel(s.cell, s.band))
    bins = np.zeros(grid.active.shape, dtype=np.int8)
    bins[grid.active] = fdr_bins(z)
    hot = bins >= s.confidence
    labels, n = ndimage.label(hot, structure=np.ones((3, 3)))
    return grid, labels, n


def _zone_labels_local(x: np.ndarray, y: np.ndarray, territory: shapely.Geometry, s: ZoneSettings):
    from scipy import stats
    from scipy.signal import fftconvolve

    grid = grid_for_territory(territory, s.cell)
    counts = counts_on_grid(x, y, grid)
    active = grid.active.astype(float)
    inner = band_kernel(s.cell, s.local_inner)
    outer = band_kernel(s.cell, s.local_outer)
    pad = (outer.shape[0] - inner.shape[0]) // 2
    ring = outer - np.pad(inner, pad)
    # Sums over discs of up to a few hundred cells: by FFT (the kernels are symmetric, so
    # convolution is correlation), rounded back to the integers they are.
    observed, around = (np.rint(fftconvolve(counts, k, mode="same")) for k in (inner, ring))
    n_inner, n_ring = (np.rint(fftconvolve(active, k, mode="same")) for k in (inner, ring))
    expected = np.maximum(np.where(n_ring > 0, around / np.maximum(n_ring, 1) * n_inner, 0.0), 0.5)
    p = stats.poisson.sf(observed - 1, expected)
    z = stats.norm.isf(np.clip(p[grid.active], 1e-300, 1.0))
    bins = np.zeros(grid.active.shape, dtype=np.int8)
    bins[grid.active] = fdr_bins(z)
    hot = (bins >= s.confidence) & (observed >= s.min_local_count) & (observed >= s.min_ratio * expected)
    labels, n = ndimage.label(hot, structure=np.ones((3, 3)))
    return grid, labels, n


def _zone_labels_dbscan(x: np.ndarray, y: np.ndarray, territory: shapely.Geometry, s: ZoneSettings):
    from sklearn.cluster import DBSCAN

    cell = s.eps / 4.0
    minx, miny, maxx, maxy = territory.bounds
    nx, ny = int(np.ceil((maxx - minx) / cell)) or 1, int(np.ceil((maxy - miny) / cell)) or 1
    grid = Grid(minx, miny, cell, nx, ny, np.ones((ny, nx), dtype=bool))  # no mask needed: points only
    counts = counts_on_grid(x, y, grid)
    iy, ix = np.nonzero(counts)
    cx = grid.x0 + (ix + 0.5) * grid.cell
    cy = grid.y0 + (iy + 0.5) * grid.cell
    db = DBSCAN(eps=s.eps, min_samples=s.min_samples).fit(
        np.column_stack([cx, cy]), sample_weight=counts[iy, ix]
    )
    labels = np.zeros(counts.shape, dtype=np.int64)
    labels[iy, ix] = db.labels_ + 1  # noise (-1) -> 0
    # Clusters are drawn as the cells within eps/2 of their core cells, so that a zone is a
    # surface rather than scattered cells.
    n = int(labels.max())
    filled = ndimage.grey_dilation(labels, footprint=band_kernel(grid.cell, s.eps / 2.0).astype(bool))
    filled = np.where(labels > 0, labels, filled)
    return grid, filled, n


def _zone_labels_hdbscan(x: np.ndarray, y: np.ndarray, territory: shapely.Geometry, s: ZoneSettings):
    from sklearn.cluster import HDBSCAN

    cell = s.eps / 4.0
    minx, miny, maxx, maxy = territory.bounds
    nx, ny = int(np.ceil((maxx - minx) / cell)) or 1, int(np.ceil((maxy - miny) / cell)) or 1
    grid = Grid(minx, miny, cell, nx, ny, np.ones((ny, nx), dtype=bool))
    counts = counts_on_grid(x, y, grid)
    iy, ix = np.nonzero(counts)
    reps = np.minimum(counts[iy, ix], s.hdbscan_cap).astype(np.int64)
    cx = np.repeat(grid.x0 + (ix + 0.5) * cell, reps)
    cy = np.repeat(grid.y0 + (iy + 0.5) * cell, reps)
    jitter = np.random.default_rng(0).uniform(-cell / 2, cell / 2, (len(cx), 2))  # distinct points
    db = HDBSCAN(min_cluster_size=s.min_cluster_size).fit(np.column_stack([cx, cy]) + jitter)
    owner = np.repeat(np.arange(len(iy)), reps)
    cell_label = np.full(len(iy), -1)
    np.maximum.at(cell_label, owner, db.labels_)
    labels = np.zeros(counts.shape, dtype=np.int64)
    labels[iy, ix] = cell_label + 1
    n = int(labels.max())
    filled = ndimage.grey_dilation(labels, footprint=band_kernel(cell, s.eps / 2.0).astype(bool))
    return grid, np.where(labels > 0, labels, filled), n


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
    area = shapely.union_all(territory.geometry.to_numpy())
    x, y = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    if settings.method == "local":
        grid, labels, n = _zone_labels_local(x, y, area, settings)
    elif settings.method == "gi":
        grid, labels, n = _zone_labels_gi(x, y, area, settings)
    elif settings.method == "dbscan":
        grid, labels, n = _zone_labels_dbscan(x, y, area, settings)
    elif settings.method == "hdbscan":
        grid, labels, n = _zone_labels_hdbscan(x, y, area, settings)
    else:
        raise ParameterError(f"Méthode inconnue : {settings.method!r} (local, gi, dbscan ou hdbscan).")
    columns = [
        "rang",
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
    # Zone of each incident: the label of its cell.
    iy, ix = grid.cell_index(x, y, clip=True)
    zone_of = labels[iy, ix]
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
    offence_weight = pts[m.OFFENCE].astype(object).map(weights).fillna(1.0).to_numpy(dtype=float)
    prev_zone = None
    if previous is not None and len(previous):
        pv = located(previous)
        py, px = grid.cell_index(pv.geometry.x.to_numpy(), pv.geometry.y.to_numpy(), clip=True)
        inside = (pv.geometry.x.to_numpy() >= grid.x0) & (pv.geometry.y.to_numpy() >= grid.y0)
        prev_zone = np.where(inside, labels[py, px], 0)
    total_area = area.area
    rows = []
    offences = sorted(pts[m.OFFENCE].dropna().unique())
    # Everything per zone is computed from sorted indices (no pass over all points per zone).
    sizes = np.bincount(zone_of, minlength=n + 1)
    scores = np.bincount(zone_of, weights=offence_weight, minlength=n + 1)
    off_codes = pd.Categorical(pts[m.OFFENCE].astype(object), categories=offences).codes
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
    for z in np.flatnonzero(sizes >= settings.min_incidents):
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
    return out.reset_index(drop=True)


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
    hits = shapely.contains_xy(union, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()).sum()
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


def priority_zones_for_period(
    incidents: gpd.GeoDataFrame,
    territory: gpd.GeoDataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    settings: ZoneSettings = ZoneSettings(),  # noqa: B008 - immutable dataclass
    severity: Mapping[str, float] | None = None,
    bandwidth: float | None = None,
    density_cell: float = 100.0,
    truth: pd.DataFrame | None = None,
    privacy_threshold: int | None = None,
) -> ZoneAnalysis:
    """Zones of a period, with the density surface and their evaluation.

    Parameters
    ----------
    incidents : GeoDataFrame
        All incidents (metric CRS), already filtered by offence, place and force.
    territory : GeoDataFrame
        Communes (same CRS).
    start, end : Timestamp
        Period analysed (inclusive days). The previous period of the same length gives
        the trend; the following one, when covered by the data, the hit rate and PAI.
    settings, severity
        See :func:`zones_from_incidents`.
    bandwidth : float, optional
        Density bandwidth in metres (default: :func:`analysis.density.default_bandwidth`).
    density_cell : float, default 100
        Cell of the density surface in metres.
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
    before = incidents[(t >= start - length) & (t < start)]
    after = incidents[(t >= end) & (t < end + length)]
    zones = zones_from_incidents(now, territory, settings=settings, severity=severity, previous=before)
    area = shapely.union_all(territory.geometry.to_numpy())
    grid = grid_for_territory(area, density_cell)
    pts = located(now)
    x, y = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    h = bandwidth or max(default_bandwidth(x, y), density_cell)
    density = density_on_grid(x, y, grid, bandwidth=h)
    threshold = SETTINGS.privacy_threshold if privacy_threshold is None else privacy_threshold
    floor = (threshold + 1) / (max(len(x), 1) * 2 * np.pi * h**2)
    density = np.where(density >= floor, density, 0.0)
    covered = incidents[m.START].max() >= end + length - pd.Timedelta(days=1)
    evaluation = evaluation_from_zones(zones, after, area.area) if covered and len(after) else None
    scores = recall_precision_from_truth(zones, truth) if truth is not None and len(truth) else None
    return ZoneAnalysis(
        zones, density, grid, len(pts), evaluation, scores, (end, end + length - pd.Timedelta(days=1))
    )


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
