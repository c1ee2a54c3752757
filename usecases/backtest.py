"""Back-test of the priority zones on the selection's own history (Zones page, préfet's report).

Rolling origin in whole months: for each of the last ``windows`` months, every zone method
draws its zones on the training window before it (the « mailles récurrentes » method on the
months before the forecast) and is scored on the horizon that follows, beside the three
baselines of :mod:`analysis.backtest` at the same area. Figures are means over the windows.

In the published view no count of 1 to 5 (``SETTINGS.privacy_threshold``) is shown and no ratio
rests on one: a window whose horizon holds at most 5 incidents, or where a method or a baseline
caught 1 to 5, is left out of
that method's table and means (the means would otherwise give its counts back).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.backtest import (
    BASELINES,
    Window,
    backtest_and_curves,
    rolling_windows,
    zone_cells,
)
from analysis.hotspots import MIN_INCIDENTS, grid_for_territory, territory_union
from analysis.zone_detectors import HISTORY_METHODS, POOLED_METHODS, SHARE_METHODS, ZoneSettings, share_score
from core import model as m
from core.errors import ParameterError
from core.formatting import fmt_count, fmt_month, fmt_number, fmt_share
from core.model import IncidentFilter, filter_incidents, located
from core.privacy import Audience, secret_cells, too_small_for_a_ratio
from core.settings import SETTINGS

#: Zone method -> short French label (the Zones page's methods).
METHOD_LABELS: dict[str, str] = {
    "recurrent": "Mailles récurrentes",
    "local": "Excès local",
    "gi": "Gi*",
    "dbscan": "DBSCAN",
    "hdbscan": "HDBSCAN",
    "prospectif": "Prospectif",
    "densite": "Densité",
}
#: Area shares of the hit rate–area curves.
CURVE_SHARES: tuple[float, ...] = (0.0025, 0.005, 0.01, 0.02, 0.05)
MEASURES = ["part_superficie", "taux_de_reussite", "pai", "pei", "rri"]


@dataclass(frozen=True)
class BacktestRequest:
    """What to back-test: window lengths in whole months, number of windows, methods."""

    train_months: int = 3
    horizon_months: int = 1
    windows: int = 12
    methods: tuple[str, ...] = tuple(METHOD_LABELS)


#: The préfet's report: the Suivi's two months, scored on the next two, computed when the report
#: is asked for. DBSCAN and HDBSCAN are left out there: they never caught more than the best
#: baseline on real data, and HDBSCAN alone takes about 5 s a window on the Nord.
REPORT_REQUEST = BacktestRequest(
    train_months=2, horizon_months=2, windows=6, methods=("recurrent", "local", "gi", "prospectif", "densite")
)


@dataclass
class BacktestView:
    """What the page shows of a back-test (every figure already written in French)."""

    summary: pd.DataFrame  # one row per method: its means and the best baseline's
    monthly: pd.DataFrame  # one row per window x method
    curves: pd.DataFrame  # hit rate by area share (rows) and candidate (columns), in %
    sentence: str
    windows: list[Window]
    captions: list[str] = field(default_factory=list)


def settings_of_the_table(settings: ZoneSettings) -> ZoneSettings:
    """The page's settings as the back-test reads them: every method is run, so the method the
    page shows does not change the table (one cached table for every choice of method)."""
    return dataclasses.replace(settings, method=ZoneSettings().method)


_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def clustering_pool() -> ProcessPoolExecutor | None:
    """The process pool of the clusterings that hold the GIL (DBSCAN, HDBSCAN), one per server.

    The back-test runs its windows in threads; HDBSCAN's and DBSCAN's compiled loops hold the
    GIL, so their windows ran one after the other (the Nord: 9.7 s of 17.5 for HDBSCAN). Their
    clusterings go to processes,
    one per core, started once (``spawn``: a fork of a server full of threads is unsafe) and
    kept. None on one core.
    """
    global _POOL
    cores = os.cpu_count() or 1
    if cores < 2:
        return None
    with _POOL_LOCK:
        if _POOL is None or getattr(_POOL, "_broken", False):  # a worker died: a new pool
            _POOL = ProcessPoolExecutor(
                max_workers=cores,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_import_clusterings,
            )
        return _POOL


def _import_clusterings() -> None:
    """A pool worker's start: the clustering modules imported once (seconds of a cold start)."""
    import hdbscan  # noqa: F401
    import sklearn.cluster  # noqa: F401

    import analysis.zone_detectors  # noqa: F401


def start_clustering_pool() -> None:
    """Start the clustering pool's workers and wait until they are ready (run it ahead, while
    the analyst reads the Zones page: a cold pool was 4 to 5 s of the Nord's first back-test)."""
    pool = clustering_pool()
    if pool is not None:
        for future in [pool.submit(_import_clusterings) for _ in range(os.cpu_count() or 1)]:
            future.result()


def backtest_table(
    incidents: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    *,
    settings: ZoneSettings,
    request: BacktestRequest,
) -> tuple[pd.DataFrame, pd.DataFrame, list[Window]]:
    """Raw back-test of every requested method (see :func:`analysis.backtest.backtest`).

    Parameters
    ----------
    incidents : GeoDataFrame
        Every incident of the selection, whatever its date (metric CRS).
    communes : GeoDataFrame
        The selection's communes (same CRS): the study area, the same for every method.
    settings : ZoneSettings
        The page's settings; each method is run with them.
    request : BacktestRequest
        Windows and methods.

    Returns
    -------
    table, curves, windows
        The per-window scores, the baselines' hit rate–area curves, the windows.

    Raises
    ------
    ParameterError
        The data do not cover one training window and its horizon.
    """
    pts = located(incidents).dropna(subset=[m.START])
    if pts.empty:
        raise ParameterError("Aucun fait daté et localisé : la rétro-évaluation est impossible.")
    dates = pd.to_datetime(pts[m.START]).dt.tz_localize(None).to_numpy()
    windows = rolling_windows(
        pd.Timestamp(dates.min()),
        pd.Timestamp(dates.max()),
        train_months=request.train_months,
        horizon_months=request.horizon_months,
        count=request.windows,
    )
    if not windows:
        raise ParameterError(
            f"Les données couvrent moins de {request.train_months + request.horizon_months} mois entiers : "
            "raccourcissez la fenêtre d'apprentissage ou l'horizon, ou importez un historique plus long."
        )
    area = territory_union(communes.geometry)
    grid = grid_for_territory(area, settings.cell)
    x, y = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    # A share method's score per window serves its zones and its curve: computed once (its
    # zones are drawn first, then its curve takes the score back; one window per thread).
    known: dict[tuple[str, pd.Timestamp], np.ndarray] = {}

    def share_of(method: str, in_train: np.ndarray, before: np.ndarray, window: Window) -> np.ndarray:
        rows = before if method in HISTORY_METHODS else in_train
        return share_score(
            method, x[rows], y[rows], grid, settings, dates=dates[rows], as_of=window.train_end
        )

    pooled = POOLED_METHODS & set(request.methods)
    pool = clustering_pool() if pooled and len(windows) > 1 else None
    # Threads that only wait for the pool: a window's clusterings are under way in the other
    # processes while its thread draws the other methods (a clustering waited for in turn left
    # the processes idle, then the threads).
    waiting = (
        ThreadPoolExecutor(max_workers=len(pooled) * (os.cpu_count() or 1), thread_name_prefix="regroupement")
        if pool
        else None
    )

    def drawer(method: str):
        own = dataclasses.replace(settings, method=method)

        def cells(in_train: np.ndarray, before: np.ndarray, window: Window) -> np.ndarray:
            score = None
            if method in SHARE_METHODS and np.count_nonzero(in_train) >= MIN_INCIDENTS:
                score = known[(method, window.train_end)] = share_of(method, in_train, before, window)
            return zone_cells(
                x,
                y,
                dates,
                area,
                grid,
                own,
                in_train=in_train,
                before=before,
                as_of=window.train_end,
                score=score,
                executor=pool if method in POOLED_METHODS else None,
            )

        if waiting is None or method not in POOLED_METHODS:
            return cells

        def started(in_train: np.ndarray, before: np.ndarray, window: Window) -> Future:
            return waiting.submit(cells, in_train, before, window)

        started.concurrent = True  # analysis.backtest starts it first and awaits it
        return started

    def scorer(method: str):
        def score(in_train: np.ndarray, before: np.ndarray, window: Window) -> np.ndarray:
            found = known.pop((method, window.train_end), None)
            return found if found is not None else share_of(method, in_train, before, window)

        return score

    methods = {name: drawer(name) for name in request.methods}
    scorers = {name: scorer(name) for name in request.methods if name in SHARE_METHODS}
    # The prospective baseline is the « prospectif » method's score at its default bandwidths.
    base = ZoneSettings()
    same = (settings.prospective_radius, settings.prospective_weeks) == (
        base.prospective_radius,
        base.prospective_weeks,
    )
    same_as = {"prospectif_ref": "prospectif"} if same and "prospectif" in scorers else None
    try:
        table, curves = backtest_and_curves(
            x, y, dates, grid, windows, methods, CURVE_SHARES, scorers, same_as=same_as
        )
    finally:
        if waiting is not None:
            waiting.shutdown(wait=True)
    return table, curves, windows


def _published_rows(table: pd.DataFrame, audience: Audience) -> pd.DataFrame:
    """The rows of the windows x methods the audience may see (all in the internal view)."""
    if not audience.published:
        return table
    small = too_small_for_a_ratio(table["faits"].to_numpy()) | secret_cells(table["faits_captes"].to_numpy())
    bad = table.assign(_bad=small).groupby(["fenetre", "methode"])["_bad"].transform("any")
    return table[~bad.to_numpy()]


def _best_baseline(means: pd.DataFrame, method: str) -> str:
    return max(BASELINES, key=lambda b: np.nan_to_num(means.loc[(method, b), "taux_de_reussite"], nan=-1.0))


def backtest_view(
    table: pd.DataFrame,
    curves: pd.DataFrame,
    windows: list[Window],
    *,
    request: BacktestRequest,
    audience: Audience,
) -> BacktestView:
    """The page's tables, curve and sentence of a back-test for an audience.

    Parameters
    ----------
    table, curves, windows
        From :func:`backtest_table`.
    request : BacktestRequest
        The windows' lengths (for the texts).
    audience : Audience
        Who is looking (see the module's note on the published view).
    """
    if not windows:
        months = request.train_months + request.horizon_months
        sentence = (
            f"Pas de rétro-évaluation : il faut au moins {months} mois entiers de faits datés et localisés "
            "pour une fenêtre. Raccourcissez la fenêtre d'apprentissage ou l'horizon, ou importez un "
            "historique plus long."
        )
        return BacktestView(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), sentence, [])
    shown = _published_rows(table, audience)
    withheld = (
        table[["fenetre", "methode"]].drop_duplicates().shape[0]
        - (shown[["fenetre", "methode"]].drop_duplicates().shape[0])
    )
    means = shown.groupby(["methode", "candidat"], sort=False)[MEASURES].mean()
    counted = shown[shown["methode"] == shown["candidat"]].groupby("methode")["fenetre"].nunique()
    rows, best_method, best_ratio = [], None, -np.inf
    for method in request.methods:
        label = METHOD_LABELS.get(method, method)
        if method not in counted.index:
            rows.append({"Méthode": label, "Fenêtres": "0", "Part du territoire": "–"})
            continue
        own = means.loc[(method, method)]
        base = _best_baseline(means, method)
        ref = means.loc[(method, base)]
        drew = own.part_superficie > 0
        ratio = own.taux_de_reussite / ref.taux_de_reussite if drew and ref.taux_de_reussite > 0 else np.nan
        if np.isfinite(ratio) and ratio > best_ratio:
            best_method, best_ratio = method, ratio
        rows.append(
            {
                "Méthode": label,
                "Fenêtres": fmt_count(int(counted[method])),
                "Part du territoire": fmt_share(own.part_superficie),
                "Taux de réussite": fmt_share(own.taux_de_reussite) if drew else "aucune zone",
                "PAI": fmt_number(own.pai, 1) if drew else "–",
                "PEI": fmt_number(own.pei, 2) if drew else "–",
                "RRI": fmt_number(own.rri, 2) if drew else "–",
                "Meilleure référence à même superficie": BASELINES[base] if drew else "–",
                "Taux de réussite de la référence": fmt_share(ref.taux_de_reussite) if drew else "–",
                "Rapport à la référence": fmt_number(ratio, 2) if np.isfinite(ratio) else "–",
            }
        )
    summary = pd.DataFrame(rows)
    monthly = _monthly(shown, request)
    curve = _curves(curves, shown, request, audience)
    sentence = _sentence(means, best_method, best_ratio, request)
    if best_method is None and withheld:
        sentence = (
            "Cette rétro-évaluation n'est pas publiable : sur chaque fenêtre, l'horizon ou les faits captés "
            f"ont un effectif de 1 à {SETTINGS.privacy_threshold} (secret statistique). Élargissez les "
            "infractions ou consultez la vue interne."
        )
    captions = [
        f"{len(windows)} fenêtres glissantes de {request.train_months} mois d'apprentissage suivies de "
        f"{request.horizon_months} mois d'horizon, de {fmt_month(windows[0].train_end)} à "
        f"{fmt_month(windows[-1].horizon_end - pd.Timedelta(days=1))} ; zones de chaque méthode avec les "
        "paramètres ci-dessus ; les mailles récurrentes lisent aussi les mois antérieurs à la fenêtre "
        "(jamais ceux de l'horizon).",
        "Taux de réussite : part des faits de l'horizon tombés dans les zones. PAI : taux de réussite / part "
        "du territoire. PEI : faits captés / le maximum qu'une carte de même superficie pouvait capter. "
        "RRI : taux de réussite sur l'horizon / sur la fenêtre d'apprentissage, mêmes zones. Références "
        "à même superficie : les mailles les plus touchées de la fenêtre (égalités départagées par "
        "l'historique), les mailles les plus denses (KDE), les points chauds prospectifs (Bowers et al.).",
    ]
    if withheld:
        captions.append(
            f"{withheld} couple(s) fenêtre × méthode non publié(s) : effectif de 1 à "
            f"{SETTINGS.privacy_threshold} sur l'horizon ou parmi les faits captés (secret statistique) ; "
            "les moyennes portent sur les autres."
        )
    return BacktestView(summary, monthly, curve, sentence, windows, captions)


def _monthly(shown: pd.DataFrame, request: BacktestRequest) -> pd.DataFrame:
    """One row per method (in the request's order) and window (oldest first)."""
    own = shown[shown["methode"] == shown["candidat"]]
    out = []
    for method in request.methods:
        for _, r in own[own["methode"] == method].iterrows():
            drew = r.part_superficie > 0
            out.append(
                {
                    "Méthode": METHOD_LABELS.get(method, method),
                    "Horizon": r.fenetre,
                    "Faits de l'horizon": fmt_count(r.faits),
                    "Faits captés": fmt_count(r.faits_captes),
                    "Part du territoire": fmt_share(r.part_superficie),
                    "Taux de réussite": fmt_share(r.taux_de_reussite) if drew else "aucune zone",
                    "PAI": fmt_number(r.pai, 1) if drew else "–",
                    "PEI": fmt_number(r.pei, 2) if drew else "–",
                    "RRI": fmt_number(r.rri, 2) if drew else "–",
                }
            )
    columns = ["Méthode", "Horizon", "Faits de l'horizon", "Faits captés", "Part du territoire"]
    return pd.DataFrame(out, columns=[*columns, "Taux de réussite", "PAI", "PEI", "RRI"])


def _curves(
    curves: pd.DataFrame, shown: pd.DataFrame, request: BacktestRequest, audience: Audience
) -> pd.DataFrame:
    """Hit rate (%) by area share (%) for each baseline and each share method, windows of the
    published rows only."""
    keep = set(shown["fenetre"]) if audience.published else set(curves["fenetre"])
    part = curves[curves["fenetre"].isin(keep)]
    if audience.published:
        small = too_small_for_a_ratio(part["faits"].to_numpy()) | secret_cells(
            part["faits_captes"].to_numpy()
        )
        part = part[~small]
    pivot = part.groupby(["part_visee", "candidat"])["taux_de_reussite"].mean().unstack()
    labels = {**BASELINES, **{k: f"{v} (méthode)" for k, v in METHOD_LABELS.items()}}
    pivot = pivot.rename(columns=labels) * 100.0
    pivot.index = pd.Index(np.asarray(pivot.index, dtype=float) * 100.0, name="Part du territoire (%)")
    return pivot


def _sentence(means: pd.DataFrame, best: str | None, ratio: float, request: BacktestRequest) -> str:
    """Which method caught most here, at the same area as the best baseline, and by how much."""
    if best is None:
        return (
            "Aucune méthode n'a dessiné de zone évaluable sur ces fenêtres : élargissez les infractions ou "
            "la période couverte."
        )
    own = means.loc[(best, best)]
    base = BASELINES[_best_baseline(means, best)]
    horizon = (
        "du mois suivant" if request.horizon_months == 1 else f"des {request.horizon_months} mois suivants"
    )
    text = (
        f"Ici, la méthode qui a le mieux prédit est « {METHOD_LABELS.get(best, best)} » : sur "
        f"{fmt_share(own.part_superficie)} du territoire, ses zones ont capté en moyenne "
        f"{fmt_share(own.taux_de_reussite)} des faits {horizon}, {fmt_number(ratio, 2)} fois ce que capte "
        f"la meilleure référence de même superficie ({base})."
    )
    if ratio < 0.995:
        text += " Aucune méthode ne fait mieux que cette référence sur ces données."
    return text


def backtest_table_for_selection(
    incidents: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    flt: IncidentFilter,
    *,
    crs: str,
    settings: ZoneSettings,
    request: BacktestRequest,
) -> tuple[pd.DataFrame, pd.DataFrame, list[Window]]:
    """The back-test of the sidebar selection (its offences, places, forces; every date):
    :func:`backtest_table` on it, for :func:`backtest_view`.

    Parameters
    ----------
    incidents, communes : GeoDataFrame
        The data set and its communes.
    flt : IncidentFilter
        The sidebar filter; its dates are ignored (the windows run over the whole history).
    crs : str
        Metric CRS of the département.
    settings : ZoneSettings
        The Zones page's settings.
    request : BacktestRequest
        Windows and methods.

    Returns
    -------
    table, curves, windows
        As :func:`backtest_table`; empty when the history holds no window (then
        :func:`backtest_view` says how long it must be).
    """
    sel = filter_incidents(incidents, flt.undated()).to_crs(crs)
    territory = communes if communes.crs is not None and communes.crs.equals(crs) else communes.to_crs(crs)
    try:
        return backtest_table(sel, territory, settings=settings, request=request)
    except ParameterError:  # too short a history: the view says so (the page goes on)
        return pd.DataFrame(), pd.DataFrame(), []


def report_sentence(view: BacktestView, request: BacktestRequest = REPORT_REQUEST) -> str:
    """The report's sentence: the windows, then :attr:`BacktestView.sentence`."""
    if not view.windows:
        return view.sentence
    first, last = view.windows[0], view.windows[-1]
    return (
        f"Rétro-évaluation sur {len(view.windows)} fenêtres glissantes ({request.train_months} mois pour "
        f"tracer les zones, les {request.horizon_months} mois suivants pour les évaluer ; horizons de "
        f"{fmt_month(first.train_end)} à {fmt_month(last.horizon_end - pd.Timedelta(days=1))}). {view.sentence}"
    )
