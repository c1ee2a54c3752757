"""Back-test of priority zones: drawn on a training window, scored on the horizon that follows.

Everything is counted on one grid of the study area (the product's 100 m cells by default),
so that every method and every baseline is scored on the same cells and compared at the
**same area**: a zone method's zones are the cells whose centre they contain; a baseline
ranks the cells by its score and takes as many as the zones hold.

Measures (Chainey, Tompson & Uhlig 2008; Levine 2008; Hunt 2016), for a set of cells ``Z``
of ``k`` cells among the ``K`` cells of the study area, with ``n`` of the horizon's ``N``
incidents inside:

* hit rate ``h = n / N``; area share ``a = k / K``; PAI ``= h / a``;
* PEI ``= n / n*`` where ``n*`` is the most incidents any ``k`` cells held over the horizon
  (its ``k`` busiest cells): 1 is the best a map of that area could have done;
* RRI (Levine's recapture rate index) ``= PAI(horizon) / PAI(training)`` for the same cells
  (``= h(horizon) / h(training)``): below 1, the zones caught less than they were drawn on.

Baselines, each a score per cell of :mod:`analysis.cell_scores` (higher first): the training
window's counts (ties by the whole past), KDE, prospective hotspotting (:data:`BASELINES`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from analysis.cell_scores import busiest_cells_score, kde_score, prospective_score, ranking
from analysis.hotspots import MIN_INCIDENTS, Grid, grid_for_territory
from analysis.zone_detectors import (
    HISTORY_METHODS,
    SHARE_METHODS,
    ZoneSettings,
    labels_from_score,
    labels_from_xy,
)
from core.errors import ParameterError

#: A zone method in the back-test: ``draw(in_train, before, window)`` (see :func:`backtest`).
Drawer = Callable[[np.ndarray, np.ndarray, "Window"], "shapely.Geometry | np.ndarray | Future | None"]
#: A share method's score per active cell: ``score(in_train, before, window)``.
Scorer = Callable[[np.ndarray, np.ndarray, "Window"], np.ndarray]


@dataclass(frozen=True)
class Window:
    """One back-test step: zones drawn on ``[train_start, train_end)``, scored on
    ``[train_end, horizon_end)`` (timestamps, ends excluded)."""

    train_start: pd.Timestamp
    train_end: pd.Timestamp
    horizon_end: pd.Timestamp

    @property
    def label(self) -> str:
        """The horizon's first month, ``2021-03``."""
        return f"{self.train_end:%Y-%m}"


def rolling_windows(
    first: pd.Timestamp,
    last: pd.Timestamp,
    *,
    train_months: int = 3,
    horizon_months: int = 1,
    count: int = 12,
) -> list[Window]:
    """The last ``count`` whole-month windows whose training and horizon lie in ``[first, last]``.

    Parameters
    ----------
    first, last : Timestamp
        First and last day the data cover.
    train_months, horizon_months : int
        Lengths of the training window and of the horizon, in whole months.
    count : int
        Number of windows wanted (fewer when the data are short); consecutive windows move by
        one month.

    Returns
    -------
    list of Window
        Oldest first; empty when the data do not hold one window.
    """
    if train_months < 1 or horizon_months < 1:
        raise ParameterError("La fenêtre d'apprentissage et l'horizon durent au moins un mois.")
    first = pd.Timestamp(first).normalize()
    start = first if first.day == 1 else first + pd.offsets.MonthBegin(1)
    after_last = pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
    end = after_last if after_last.day == 1 else after_last - pd.offsets.MonthBegin(1)
    out = []
    horizon_end = end
    while len(out) < count:
        train_end = horizon_end - pd.DateOffset(months=horizon_months)
        train_start = train_end - pd.DateOffset(months=train_months)
        if train_start < start:
            break
        out.append(Window(train_start, train_end, horizon_end))
        horizon_end = horizon_end - pd.DateOffset(months=1)
    return out[::-1]


def cells_in_zones(grid: Grid, zones: shapely.Geometry | None) -> np.ndarray:
    """Active cells of ``grid`` whose centre lies in ``zones`` (flat bool, active cells only,
    row-major as :meth:`Grid.centres`)."""
    x, y = grid.centres()
    if zones is None or shapely.is_empty(zones):
        return np.zeros(len(x), dtype=bool)
    shapely.prepare(zones)
    return shapely.contains_xy(zones, x, y)


@dataclass(frozen=True)
class Scores:
    """The measures of one set of cells on one window."""

    cells: int
    area_share: float
    hits: int
    incidents: int
    hit_rate: float
    pai: float
    pei: float
    rri: float

    def as_dict(self) -> dict[str, float]:
        """The measures as a row (French column names of the page's table)."""
        return {
            "mailles": self.cells,
            "part_superficie": self.area_share,
            "faits_captes": self.hits,
            "faits": self.incidents,
            "taux_de_reussite": self.hit_rate,
            "pai": self.pai,
            "pei": self.pei,
            "rri": self.rri,
        }


def best_counts(horizon: np.ndarray) -> np.ndarray:
    """The most incidents any ``k`` cells held, for ``k`` = 0, 1, … (PEI's denominator)."""
    return np.concatenate([[0.0], np.cumsum(np.sort(np.asarray(horizon, dtype=float))[::-1])])


def scores_from_mask(
    mask: np.ndarray, train: np.ndarray, horizon: np.ndarray, *, best: np.ndarray | None = None
) -> Scores:
    """Hit rate, area share, PAI, PEI and RRI of a set of cells.

    Parameters
    ----------
    mask : ndarray of bool
        The cells chosen (active cells, flat).
    train, horizon : ndarray
        Incidents per active cell in the training window and in the horizon.
    best : ndarray, optional
        :func:`best_counts` of ``horizon``, when several masks are scored on one window.

    Returns
    -------
    Scores
        NaN where a measure is undefined (no incident, no cell).
    """
    mask = np.asarray(mask, dtype=bool)
    return _scores_of_cells(np.flatnonzero(mask), len(mask), train, horizon, best=best)


def _scores_of_cells(
    cells: np.ndarray,
    n_cells: int,
    train: np.ndarray,
    horizon: np.ndarray,
    *,
    best: np.ndarray | None = None,
    totals: tuple[float, float] | None = None,
) -> Scores:
    """:func:`scores_from_mask` of the cells at indices ``cells`` (distinct) among ``n_cells``;
    ``totals``: the training and horizon sums, when several sets are scored on one window."""
    k = len(cells)
    train_total, total = totals if totals is not None else (float(train.sum()), float(horizon.sum()))
    hits = float(horizon[cells].sum())
    share = k / n_cells if n_cells else np.nan
    hit_rate = hits / total if total else np.nan
    best_k = float((best if best is not None else best_counts(horizon))[k])
    train_rate = float(train[cells].sum()) / train_total if train_total else np.nan
    return Scores(
        cells=k,
        area_share=share,
        hits=int(hits),
        incidents=int(total),
        hit_rate=hit_rate,
        pai=hit_rate / share if k and total else np.nan,
        pei=hits / best_k if best_k else np.nan,
        rri=hit_rate / train_rate if train_rate else np.nan,
    )


#: Baseline name -> French label.
BASELINES: dict[str, str] = {
    "precedente": "mailles les plus touchées de la fenêtre",
    "kde": "densité (KDE), mailles les plus denses",
    "prospectif_ref": "points chauds prospectifs (Bowers et al.)",
}


def baseline_scores(
    x: np.ndarray,
    y: np.ndarray,
    dates: np.ndarray,
    grid: Grid,
    train: np.ndarray,
    history: np.ndarray,
    end: pd.Timestamp,
    *,
    known: dict[str, np.ndarray] | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Each baseline's score per cell and its tie-break (see :data:`BASELINES`); ``known``
    gives scores already computed (baseline -> score)."""
    known = known or {}

    def score(name: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        return known[name] if name in known else compute()

    return {
        "precedente": (busiest_cells_score(train), history),
        "kde": (score("kde", lambda: kde_score(x, y, grid)), None),
        "prospectif_ref": (
            score("prospectif_ref", lambda: prospective_score(x, y, dates, grid, end=end)),
            train,
        ),
    }


def backtest(
    x: np.ndarray,
    y: np.ndarray,
    dates: np.ndarray,
    grid: Grid,
    windows: list[Window],
    methods: dict[str, Drawer],
) -> pd.DataFrame:
    """Score each zone method and each baseline at the same area, window by window.

    Parameters
    ----------
    x, y, dates : ndarray
        Every incident of the selection (metres, dates).
    grid : Grid
        The study grid (the selection's territory).
    windows : list of Window
        From :func:`rolling_windows`.
    methods : dict
        Method name -> function ``draw(in_train, before, window)`` of the training incidents
        and of all the incidents before the forecast (two bool arrays over the incidents) and
        of the window (its ``train_end`` is the time of the forecast), returning the zones as
        one geometry (None or empty: no zone). Neither array ever selects an incident of the
        horizon: a method that reads the history (``"recurrent"``) takes ``before``, the
        others ``in_train``. It may return the zones' cells instead (a bool array over the
        grid's active cells, as :func:`zone_cells` gives), or a Future of either when it has a
        true ``concurrent`` attribute (its work runs elsewhere: such drawers are called first
        in each window, their results awaited after the others').

    Returns
    -------
    DataFrame
        One row per window x method x candidate (``methode``, ``candidat``: the method itself
        or a baseline at its area), with :meth:`Scores.as_dict` columns.
    """
    return backtest_and_curves(x, y, dates, grid, windows, methods, ())[0]


def baselines_at_shares(
    x: np.ndarray,
    y: np.ndarray,
    dates: np.ndarray,
    grid: Grid,
    windows: list[Window],
    shares: tuple[float, ...],
) -> pd.DataFrame:
    """Each baseline at fixed area shares, window by window (the hit rate–area curves).

    Parameters
    ----------
    x, y, dates : ndarray
        Every incident (metres, dates).
    grid : Grid
        The study grid.
    windows : list of Window
        From :func:`rolling_windows`.
    shares : tuple of float
        Area shares (0-1) at which each baseline takes its best cells.

    Returns
    -------
    DataFrame
        One row per window x share x baseline (``fenetre``, ``part_visee``, ``candidat``) with
        :meth:`Scores.as_dict` columns.
    """
    return backtest_and_curves(x, y, dates, grid, windows, {}, shares)[1]


def backtest_and_curves(
    x: np.ndarray,
    y: np.ndarray,
    dates: np.ndarray,
    grid: Grid,
    windows: list[Window],
    methods: dict[str, Drawer],
    shares: tuple[float, ...],
    scorers: dict[str, Scorer] | None = None,
    *,
    workers: int | None = None,
    same_as: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`backtest` and :func:`baselines_at_shares` in one pass: each window's counts and
    baselines are computed once and each baseline's cells sorted once.

    ``scorers`` adds curves of share methods: name -> ``score(in_train, before, window)``, a
    score per active cell whose best cells at each share are scored like a baseline's (the
    method's zones at that share, gaps not closed). ``workers`` threads (default: up to four,
    one per core) take the windows. ``same_as`` names the baselines whose score is a scorer's
    (baseline -> scorer: the same computation on the same incidents), taken from it."""
    clash = (set(methods) | set(scorers or {})) & set(BASELINES)
    if clash:  # a method's rows would be averaged with a baseline's
        raise ValueError(f"Method names shared with baselines: {sorted(clash)}")
    t = pd.to_datetime(np.asarray(dates))
    n_cells = len(grid.active_index)
    share_k = [int(round(share * n_cells)) for share in shares]
    where = _active_cells_of(x, y, grid)

    def one(w: Window) -> tuple[list[dict], list[dict]]:
        rows: list[dict] = []
        curve_rows: list[dict] = []
        in_train, before, train, horizon, history = _window_counts(t, where, n_cells, w)
        best = best_counts(horizon)
        totals = (float(train.sum()), float(horizon.sum()))

        def scored(cells: np.ndarray) -> dict[str, float]:
            return _scores_of_cells(cells, n_cells, train, horizon, best=best, totals=totals).as_dict()

        # A drawer computed elsewhere (``concurrent``: its clustering in a process pool) is
        # started first and returns a Future, awaited once the others have drawn here.
        started = sorted(methods, key=lambda name: not getattr(methods[name], "concurrent", False))
        drawn = {name: methods[name](in_train, before, w) for name in started}
        masks = {}
        for name in methods:
            got = drawn[name].result() if isinstance(drawn[name], Future) else drawn[name]
            masks[name] = got if isinstance(got, np.ndarray) else cells_in_zones(grid, got)
        method_scores = {name: score(in_train, before, w) for name, score in (scorers or {}).items()}
        # Each baseline's best cells, as many as the largest area asked for (sorted once).
        limit = max([int(v.sum()) for v in masks.values()] + share_k + [0])
        shared = {
            base: method_scores[name] for base, name in (same_as or {}).items() if name in method_scores
        }
        bases = baseline_scores(
            x[in_train], y[in_train], t[in_train], grid, train, history, w.train_end, known=shared
        )
        orders = {base: ranking(score, tie_break=tie, limit=limit) for base, (score, tie) in bases.items()}
        for name, mask in masks.items():
            row = {"fenetre": w.label, "methode": name}
            cells = np.flatnonzero(mask)
            rows.append({**row, "candidat": name, **scored(cells)})
            for base, order in orders.items():
                rows.append({**row, "candidat": base, **scored(order[: len(cells)])})
        curve_orders = dict(orders)
        if shares:
            for name, values in method_scores.items():
                curve_orders[name] = ranking(np.where(values > 0, values, 0.0), limit=max(share_k))
        for share, k in zip(shares, share_k, strict=True):
            for base, order in curve_orders.items():
                curve_rows.append(
                    {
                        "fenetre": w.label,
                        "part_visee": share,
                        "candidat": base,
                        **scored(_first(order, k)),
                    }
                )
        return rows, curve_rows

    # Windows are independent: threads overlap them (the FFTs, sorts and clusterings release
    # the GIL); results are gathered in window order.
    workers = workers or min(4, os.cpu_count() or 1)
    if workers > 1 and len(windows) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done = list(pool.map(one, windows))
    else:
        done = [one(w) for w in windows]
    rows = [r for window_rows, _ in done for r in window_rows]
    curve_rows = [r for _, window_curves in done for r in window_curves]
    return pd.DataFrame(rows), pd.DataFrame(curve_rows)


def _first(order: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` cells of a ranking (as :func:`first_cells`, as indices)."""
    if k > len(order):
        raise ValueError(f"The ranking holds {len(order)} cells, {k} asked for")
    return order[: max(int(k), 0)]


def _active_cells_of(x: np.ndarray, y: np.ndarray, grid: Grid) -> np.ndarray:
    """The position of each incident's cell among the grid's active cells (-1 outside them):
    found once, every window's counts are then a bincount."""
    return grid.active_positions(x, y)


def _window_counts(t, where: np.ndarray, n_cells: int, w: Window):
    """A window's incidents (training, everything before the forecast) and its counts per
    active cell (training, horizon, everything before the forecast); ``where`` from
    :func:`_active_cells_of`."""
    in_train = np.asarray((t >= w.train_start) & (t < w.train_end))
    in_horizon = np.asarray((t >= w.train_end) & (t < w.horizon_end))
    before = np.asarray(t < w.train_end)

    def counted(rows: np.ndarray) -> np.ndarray:
        cells = where[rows]
        return np.bincount(cells[cells >= 0], minlength=n_cells).astype(float)

    return in_train, before, counted(in_train), counted(in_horizon), counted(before)


def zone_cells(
    x: np.ndarray,
    y: np.ndarray,
    dates: np.ndarray,
    territory: shapely.Geometry,
    grid: Grid,
    settings: ZoneSettings,
    *,
    in_train: np.ndarray,
    before: np.ndarray,
    as_of: pd.Timestamp,
    score: np.ndarray | None = None,
    executor: Executor | None = None,
) -> np.ndarray:
    """The cells of ``grid`` inside the zones a method draws, without drawing polygons.

    The same zones as :func:`analysis.zones.zones_from_incidents` on the training incidents
    (and the history before them for the methods of ``HISTORY_METHODS``), with the same
    minimum count per zone (none for the share methods): a cell is in a zone when its centre
    is in a labelled cell of the detector's grid.

    Parameters
    ----------
    x, y, dates : ndarray
        Every incident (metres, dates).
    territory : shapely.Geometry
        The study area.
    grid : Grid
        The study grid (its active cells are scored).
    settings : ZoneSettings
        The method and its parameters.
    in_train, before : ndarray of bool
        The training incidents and every incident before the forecast.
    as_of : Timestamp
        Time of the forecast.
    score : ndarray, optional
        A share method's :func:`analysis.zone_detectors.share_score` on ``grid`` for this
        window, when already computed (``grid`` must then be the method's grid).
    executor : Executor, optional
        A process pool for the detectors that hold the GIL
        (:func:`analysis.zone_detectors.labels_from_xy`).

    Returns
    -------
    ndarray of bool
        Over the grid's active cells; none when the window holds too few incidents.
    """
    n_cells = len(grid.active_index)
    if int(np.count_nonzero(in_train)) < MIN_INCIDENTS:
        return np.zeros(n_cells, dtype=bool)
    drawn = before if settings.method in HISTORY_METHODS else in_train
    if score is not None and settings.method in SHARE_METHODS:
        lgrid, labels, n = labels_from_score(grid, score, settings)
    else:
        lgrid, labels, n = labels_from_xy(
            x[drawn],
            y[drawn],
            territory,
            settings,
            dates=np.asarray(dates)[drawn],
            as_of=as_of,
            executor=executor,
        )
    if n == 0:
        return np.zeros(n_cells, dtype=bool)
    floor = 0 if settings.method in SHARE_METHODS else settings.min_incidents
    iy, ix = lgrid.cell_index(x[in_train], y[in_train], clip=True)
    sizes = np.bincount(labels[iy, ix].ravel(), minlength=n + 1)
    kept = sizes >= floor
    kept[0] = False
    if (lgrid.x0, lgrid.y0, lgrid.cell, lgrid.nx, lgrid.ny) == (
        grid.x0,
        grid.y0,
        grid.cell,
        grid.nx,
        grid.ny,
    ):
        return kept[grid.on_active(labels)]  # the detector labelled the study grid itself
    cx, cy = grid.centres()
    jy, jx = lgrid.cell_index(cx, cy)
    inside = (jx >= 0) & (jx < lgrid.nx) & (jy >= 0) & (jy < lgrid.ny)
    out = np.zeros(n_cells, dtype=bool)
    out[inside] = kept[labels[jy[inside], jx[inside]]]
    return out


@dataclass(frozen=True)
class MethodChoice:
    """The share method that caught most over the last windows (« automatique »)."""

    method: str
    hit_rates: dict[str, float]  # mean hit rate of each candidate
    windows: int


def best_share_method(
    x: np.ndarray,
    y: np.ndarray,
    dates: np.ndarray,
    territory: shapely.Geometry,
    settings: ZoneSettings,
    *,
    as_of: pd.Timestamp,
    candidates: tuple[str, ...] = ("recurrent", "prospectif", "densite"),
    windows: int = 12,
    train_months: int = 3,
) -> MethodChoice:
    """The candidate whose zones, at ``settings.area_share``, caught the most of the next month
    on average over the ``windows`` months before ``as_of`` (« automatique »).

    Parameters
    ----------
    x, y, dates : ndarray
        The incidents (metres, dates); only those before ``as_of`` are read.
    territory : shapely.Geometry
        The study area.
    settings : ZoneSettings
        The share and the methods' parameters.
    as_of : Timestamp
        Time of the forecast: the last horizon ends there.
    candidates : tuple of str
        Share methods (:data:`analysis.zone_detectors.SHARE_METHODS`): they all draw the same area.
    windows, train_months : int
        Windows of ``train_months`` months -> one month.

    Returns
    -------
    MethodChoice
        The first candidate when no window fits (too short a history).
    """
    t = pd.to_datetime(np.asarray(dates))
    past = np.asarray(t < pd.Timestamp(as_of))
    rates: dict[str, list[float]] = {c: [] for c in candidates}
    chosen = []
    if past.any():
        chosen = rolling_windows(
            t[past].min(),
            pd.Timestamp(as_of) - pd.Timedelta(days=1),
            train_months=train_months,
            count=windows,
        )
    grid = grid_for_territory(territory, settings.cell) if chosen else None
    where = _active_cells_of(x, y, grid) if chosen else None
    for w in chosen:
        in_train, before, _, horizon, _ = _window_counts(t, where, len(grid.active_index), w)
        if not horizon.sum():
            continue
        for name in candidates:
            own = dataclasses.replace(settings, method=name)
            mask = zone_cells(
                x, y, dates, territory, grid, own, in_train=in_train, before=before, as_of=w.train_end
            )
            rates[name].append(float(horizon[mask].sum() / horizon.sum()))
    means = {c: float(np.mean(v)) if v else float("nan") for c, v in rates.items()}
    scored = {c: v for c, v in means.items() if np.isfinite(v)}
    best = max(scored, key=scored.get) if scored else candidates[0]
    return MethodChoice(best, means, len(chosen))
