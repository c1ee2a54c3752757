"""Knox near-repeat test: 20,000 burglaries × 999 permutations (goal < 10 s).

The burglaries are drawn by the synthetic generator over the Mayenne (its spatial density:
communes weighted by population, points around the town halls, the planted near-repeat
pattern and repeat places), four years at nine times the calibrated volume, then 20,000 of
them sampled. The number of pairs closer than the largest band is printed beside the time:
the cost grows with it. Anchor, in the same run: the brute-force reference (every pair, one
by one) timed on a subsample and scaled to the same size by its cost (pairs × permutations).

Run: ``.venv/bin/python bench/bench_near_repeat.py``.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from analysis.near_repeat import days_from_windows, knox_brute_force, knox_test  # noqa: E402
from core import model as m  # noqa: E402
from core.crs import metric_crs_for_departement  # noqa: E402
from data.synthetic import synthetic_incidents_for_departement  # noqa: E402
from geo.communes import communes_for_departement  # noqa: E402

GOAL_S = 10.0
N = 20_000


def main() -> None:
    communes = communes_for_departement("53")
    t = time.perf_counter()
    inc = synthetic_incidents_for_departement(
        communes, years=(2022, 2025), seed=4, scale=9.0, today=dt.date(2026, 1, 1)
    ).incidents
    print(f"génération ({len(inc):,} faits synthétiques) : {time.perf_counter() - t:.1f} s")
    burg = inc[(inc[m.OFFENCE] == "Cambriolages de logement") & inc.geometry.notna()].to_crs(
        metric_crs_for_departement("53")
    )
    burg = burg.sample(min(N, len(burg)), random_state=0)
    x, y = burg.geometry.x.to_numpy(), burg.geometry.y.to_numpy()
    day = days_from_windows(burg[m.START].to_numpy(), burg[m.END].to_numpy(), np.datetime64("2000-01-01"))
    t = time.perf_counter()
    res = knox_test(x, y, day, permutations=999)
    ours = time.perf_counter() - t
    sub = 300
    t = time.perf_counter()
    knox_brute_force(x[:sub], y[:sub], day[:sub], permutations=9)
    brute = (time.perf_counter() - t) * (len(x) / sub) ** 2 * (1000 / 10)
    print(f"{len(x)} cambriolages (Mayenne), {res.n_pairs:,} paires à moins de 500 m, 999 permutations")
    print(f"notre test de Knox                     : {ours:8.2f} s")
    print(f"ancre (force brute, extrapolée de {sub}) : {brute:8.0f} s")
    print(
        f"objectif {GOAL_S:.0f} s ; ratio notre temps / objectif : {ours / GOAL_S:.2f} ; accélération : {brute / ours:,.0f}×"
    )
    print("rapport observé / attendu (1 à 99 m) :", np.round(res.ratio.iloc[1, :4].to_numpy(), 2))


if __name__ == "__main__":
    main()
