"""The Zones page's back-test on a whole département: 12 windows (3 months -> 1 month) x every
zone method, with the three baselines and the hit rate–area curves (goals: Mayenne < 2 s,
Nord < 10 s, cold; the page caches the result). Cold: the back-test's caches empty, asked for
from the Zones page (whose analysis of the last year has run, untimed: the modules it imports and
the territory's grid are loaded, as in the app), the clustering processes started (the app starts
them while the Zones page is read; their start is printed apart).

Data: the synthetic incidents of the current generator (settings' years and seed), Mayenne
(~36,000) and Nord (~566,000; generated once per generator version into ``cache/bench-59/incidents-<version>.parquet``). Ours: the
use case (:func:`usecases.backtest.backtest_table`: cells of the zones from the detectors'
labels, baselines sorted once per window). Anchor, same run (Mayenne): the same back-test with
each method's zones drawn as polygons by ``zones_from_incidents`` and their cells found by a
point-in-polygon test (the path of ``bench/bench_backtest.py``). Time per method: the run with
that method alone minus the run with none (baselines and curves only).

Run: ``.venv/bin/python bench/bench_backtest_departement.py [53] [59]``.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.backtest import backtest  # noqa: E402
from analysis.hotspots import TooFewIncidentsError, grid_for_territory  # noqa: E402
from analysis.zone_detectors import HISTORY_METHODS  # noqa: E402
from analysis.zones import zones_from_incidents  # noqa: E402
from core import model as m  # noqa: E402
from core.crs import metric_crs_for_departement  # noqa: E402
from core.model import IncidentFilter  # noqa: E402
from core.settings import SETTINGS  # noqa: E402
from data.national import GENERATOR  # noqa: E402
from data.synthetic import synthetic_incidents_for_departement  # noqa: E402
from geo.communes import communes_for_departement  # noqa: E402
from usecases.backtest import METHOD_LABELS, BacktestRequest, backtest_table, start_clustering_pool  # noqa: E402
from usecases.zones import default_zone_settings, default_zones_for_selection  # noqa: E402

NAMES = {"53": "Mayenne", "59": "Nord"}
GOALS = {"53": 2.0, "59": 10.0}


def incidents_for(dep: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    communes = communes_for_departement(dep)
    crs = metric_crs_for_departement(dep)
    cached = ROOT / "cache" / f"bench-{dep}" / f"incidents-{GENERATOR}.parquet"  # per generator version
    if dep != "53" and cached.exists():
        inc = gpd.read_parquet(cached)
    else:
        t = time.perf_counter()
        inc = synthetic_incidents_for_departement(
            communes, years=SETTINGS.default_years, seed=SETTINGS.default_seed
        ).incidents
        print(f"  {NAMES[dep]} : {len(inc):,} faits générés en {time.perf_counter() - t:.0f} s")
        if dep != "53":
            cached.parent.mkdir(parents=True, exist_ok=True)
            inc.to_parquet(cached)
    return inc.to_crs(crs), communes.to_crs(crs)


def timed(incidents, communes, request) -> float:
    t = time.perf_counter()
    backtest_table(incidents, communes, settings=default_zone_settings(), request=request)
    return time.perf_counter() - t


def polygon_anchor(incidents, communes, request) -> float:
    """The same back-test, zones drawn as polygons and their cells found by point in polygon."""
    from analysis.backtest import rolling_windows

    pts = incidents.dropna(subset=[m.START]).reset_index(drop=True)
    dates = pts[m.START].to_numpy()
    x, y = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    windows = rolling_windows(pts[m.START].min(), pts[m.START].max(), count=request.windows)
    area = shapely.union_all(communes.geometry.to_numpy())
    grid = grid_for_territory(area, 100.0)

    def make(method):
        settings = dataclasses.replace(default_zone_settings(), method=method)

        def draw(in_train, before, window):
            try:
                zones = zones_from_incidents(
                    pts[in_train],
                    communes,
                    settings=settings,
                    as_of=window.train_end,
                    history=pts[before & ~in_train] if method in HISTORY_METHODS else None,
                )
            except TooFewIncidentsError:
                return None
            return shapely.union_all(zones.geometry.to_numpy()) if len(zones) else None

        return draw

    t = time.perf_counter()
    backtest(x, y, dates, grid, windows, {name: make(name) for name in request.methods})
    return time.perf_counter() - t


def main() -> None:
    deps = sys.argv[1:] or ["53", "59"]
    request = BacktestRequest()
    # The clustering processes (DBSCAN, HDBSCAN hold the GIL): the app starts them while the
    # analyst reads the Zones page (ui.prefetch.warm_clustering), before any back-test.
    t = time.perf_counter()
    start_clustering_pool()
    print(
        f"démarrage des processus de regroupement (avant, pendant la lecture de la page) : {time.perf_counter() - t:.1f} s"
    )
    for dep in deps:
        inc, communes = incidents_for(dep)
        print(
            f"\n== {NAMES[dep]} : {len(inc):,} faits, {len(request.methods)} méthodes x {request.windows} fenêtres"
        )
        # The back-test is asked for from the Zones page: its analysis has run (the modules it
        # imports, the territory's grid are there), the back-test's own results are not.
        t = time.perf_counter()
        last = inc[m.START].max()
        page = IncidentFilter(start=(last - pd.DateOffset(years=1)).date(), end=last.date())
        default_zones_for_selection(inc, communes, page, crs=str(inc.crs))
        print(f"  page Zones (non comptée) : {time.perf_counter() - t:.1f} s")
        total = timed(inc, communes, request)
        print(
            f"  tout (à froid) : {total:.1f} s   objectif {GOALS[dep]:.0f} s   rapport {total / GOALS[dep]:.1f}"
        )
        base = timed(inc, communes, dataclasses.replace(request, methods=()))
        print(f"  références et courbes seules : {base:.1f} s")
        for method in request.methods:
            alone = timed(inc, communes, dataclasses.replace(request, methods=(method,)))
            print(f"  {METHOD_LABELS[method]:22s} {max(alone - base, 0.0):5.1f} s")
        if dep == "53":
            anchor = polygon_anchor(inc, communes, request)
            print(
                f"  ancre (zones en polygones puis point dans polygone) : {anchor:.1f} s ; "
                f"nous : {total:.1f} s ; rapport {anchor / total:.1f}"
            )


if __name__ == "__main__":
    main()
