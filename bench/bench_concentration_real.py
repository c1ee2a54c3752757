"""Is the demonstration's spatial concentration plausible? The demo beside real point data.

For each offence, one year of incidents counted on square cells (100 m, the product's default,
and 200 m, where the Toronto Police Service's snapping of every location to the nearest
intersection matters less): the share of incidents in the busiest 1 % and 5 % of the cells that
hold at least one incident, and the Gini coefficient of those cells' counts (Bernasco &
Steenbeek's « lattice » concentration restricted to occupied cells, so that the size of the
territory does not enter). Real: Toronto's Major Crime Indicators, 2019 (``scripts/toronto.py``);
demo: the synthetic Mayenne data set as the current generator makes it (settings' years and
seed), its last full year.

With far fewer incidents per occupied cell (the Mayenne's ~600 burglaries a year over 5,175 km²,
Toronto's 8,282 over 640 km²) the shares among occupied cells are mechanically lower: Toronto is
also shown subsampled to the demo's count (« Toronto n = démo », mean of 20 draws), the
comparison at equal counts per occupied cell.

Then the demo's commune rates against the bound of ``data.synthetic_bounds.RATE_BOUND`` (k times the
highest departmental rate of the offence in the SSMSI base, 2016-2022): the worst commune of
each offence, all communes and those of at least 1,000 inhabitants (a village's rate swings with
a handful of incidents, as real ones do), and how many communes exceed the bound.

Last, the recall and precision of each zone method against the planted hot spots (the check the
Zones page no longer shows: it measures the synthetic data, not the method).

Run: ``.venv/bin/python bench/bench_concentration_real.py``. Figures, not asserts: issue 25
calibrates the generator on them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.concentration import gini_from_counts, top_shares_from_counts  # noqa: E402
from core import model as m  # noqa: E402
from core.crs import metric_crs_for_departement  # noqa: E402
from core.settings import SETTINGS  # noqa: E402
from data.synthetic import synthetic_incidents_for_departement  # noqa: E402
from data.synthetic_bounds import RATE_BOUND, commune_rate_bounds, highest_departmental_rates  # noqa: E402
from geo.communes import communes_for_departement  # noqa: E402
from scripts import toronto  # noqa: E402

CELLS = (100.0, 200.0)
#: Toronto category -> the demo's offence it is compared with.
PAIRS = {
    "Break and Enter": "Cambriolages de logement",
    "Robbery": "Vols violents sans arme",
    "Auto Theft": "Vols de véhicule",
    "Assault": "Violences physiques hors cadre familial",
}


def stats(x: np.ndarray, y: np.ndarray, cell: float) -> tuple[int, float, float, float]:
    """Occupied cells, share in the top 1 % and 5 % of them, Gini of their counts."""
    keys = np.floor(x / cell).astype(np.int64) * 1_000_003 + np.floor(y / cell).astype(np.int64)
    counts = np.unique(keys, return_counts=True)[1]
    top1, top5 = top_shares_from_counts(counts, len(counts), (0.01, 0.05))
    return len(counts), float(top1), float(top5), gini_from_counts(counts, len(counts))


def _subsampled(tor: pd.DataFrame, n: int, cell: float) -> np.ndarray:
    """:func:`stats` of ``n`` incidents drawn from ``tor`` without replacement, mean of 20 draws."""
    rng = np.random.default_rng(0)
    x, y = tor.geometry.x.to_numpy(), tor.geometry.y.to_numpy()
    draws = []
    for _ in range(20):
        pick = rng.choice(len(tor), n, replace=False)
        draws.append(stats(x[pick], y[pick], cell))
    return np.mean(draws, axis=0)


def main() -> None:
    real = toronto.load()
    real = real[real[m.START].dt.year == 2019]
    communes = communes_for_departement("53")
    generated = synthetic_incidents_for_departement(
        communes, years=SETTINGS.default_years, seed=SETTINGS.default_seed
    )
    demo = generated.incidents.to_crs(metric_crs_for_departement("53"))
    everything = demo
    after_last = demo[m.START].max().normalize() + pd.Timedelta(days=1)
    year = after_last.year - 1  # the last whole calendar year
    years = sorted(y for y in everything[m.START].dt.year.unique() if y <= year)
    demo = demo[demo[m.START].dt.year == year]
    print(f"Source : {toronto.ATTRIBUTION}")
    print(f"Toronto 2019 : {len(real):,} faits ; démo Mayenne {year} : {len(demo):,} faits (synthétiques)")
    print(
        f"{'infraction':42s} {'maille':>6s}  {'source':8s} {'faits':>7s} {'mailles':>8s} {'top 1 %':>8s} {'top 5 %':>8s} {'Gini':>5s}"
    )
    for tps, ours in PAIRS.items():
        rows = {
            "Toronto": real[real["mci"] == tps],
            "démo": demo[demo[m.OFFENCE].astype(str) == ours],
        }
        n_demo = len(rows["démo"])
        for cell in CELLS:
            for source, frame in rows.items():
                if len(frame) == 0:
                    continue
                n, top1, top5, gini = stats(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy(), cell)
                print(
                    f"{ours[:42]:42s} {cell:6.0f}  {source:8s} {len(frame):7,d} {n:8,d} "
                    f"{top1:8.1%} {top5:8.1%} {gini:5.2f}"
                )
            tor = rows["Toronto"]
            if 0 < n_demo < len(tor):
                n, top1, top5, gini = _subsampled(tor, n_demo, cell)
                print(
                    f"{ours[:42]:42s} {cell:6.0f}  {'Toronto n = démo':8s} {n_demo:7,d} {n:8,.0f} "
                    f"{top1:8.1%} {top5:8.1%} {gini:5.2f}"
                )
    # A hot spot lasts 6 to 18 months: one year may hold none of an offence's. The mean over
    # the demo's years, each beside Toronto subsampled to that year's count, at 100 m.
    print(
        f"\nMoyenne des années {years[0]}-{years[-1]} de la démo, mailles de 100 m (Toronto 2019 à effectif égal)"
    )
    print(
        f"{'infraction':42s} {'top 1 % démo':>13s} {'Toronto':>8s} {'top 5 % démo':>13s} {'Toronto':>8s} {'Gini démo':>10s} {'Toronto':>8s}"
    )
    for tps, ours in PAIRS.items():
        tor = real[real["mci"] == tps]
        pairs = []
        for y in years:
            frame = everything[
                (everything[m.START].dt.year == y) & (everything[m.OFFENCE].astype(str) == ours)
            ]
            if 0 < len(frame) < len(tor):
                ours_stats = stats(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy(), 100.0)
                pairs.append((ours_stats, _subsampled(tor, len(frame), 100.0)))
        if not pairs:
            continue
        d, t = (np.mean([p[i] for p in pairs], axis=0) for i in (0, 1))
        print(f"{ours[:42]:42s} {d[1]:13.1%} {t[1]:8.1%} {d[2]:13.1%} {t[2]:8.1%} {d[3]:10.2f} {t[3]:8.2f}")
    distinct = len(pd.unique(real.geometry.x.round(1) + 1j * real.geometry.y.round(1)))
    print(
        f"Toronto 2019 : {distinct:,} positions distinctes pour {len(real):,} faits (déplacés au carrefour le plus proche)"
    )
    commune_rates(demo, communes, year)
    planted_check(everything, communes, generated.hotspots_frame(), year)


def planted_check(demo, communes, truth, year: int) -> None:
    """Recall and precision of each zone method against the hot spots the generator planted
    (the check the Zones page showed before issue 25: a property of the synthetic data)."""
    import dataclasses
    import datetime as dt

    from analysis.zone_evaluation import truth_active_in_period
    from analysis.zones import priority_zones_for_period
    from usecases.zones import default_zone_settings

    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    active = truth_active_in_period(truth, start, end)
    territory = communes.to_crs(demo.crs)
    print(f"\nContrôle sur les points chauds plantés dans la démo ({year}, {len(active)} actifs)")
    for method in ("recurrent", "local", "gi", "prospectif", "densite"):
        settings = dataclasses.replace(default_zone_settings(), method=method)
        res = priority_zones_for_period(
            demo, territory, start=start, end=end, settings=settings, truth=active
        )
        scores = res.truth_scores or {}
        print(
            f"  {method:10s} {len(res.zones):5d} zones   rappel {scores.get('rappel', float('nan')):6.1%}   "
            f"précision {scores.get('precision', float('nan')):6.1%}"
        )


def commune_rates(demo, communes, year: int) -> None:
    """The demo's worst commune of each offence beside the bound."""
    pop = communes.set_index("code")["population"].astype(float)
    top = highest_departmental_rates()
    print(
        f"\nTaux communaux de la démo ({year}, pour 1 000 habitants) et borne = {RATE_BOUND:g} x le plus "
        "haut taux départemental SSMSI 2016-2022"
    )
    print(
        f"{'infraction':42s} {'max dép.':>8s} {'borne':>6s}  {'pire commune (pop.)':34s} {'taux':>6s}  "
        f"{'pire, 1 000 hab. et plus':34s} {'taux':>6s} {'au-dessus':>9s}"
    )
    names = communes.set_index("code")["nom"]
    for offence, group in demo.groupby(demo[m.OFFENCE].astype(str)):
        counts = group[m.COMMUNE].astype(str).value_counts().reindex(pop.index, fill_value=0)
        rate = counts / pop.clip(lower=1) * 1000.0
        bound = commune_rate_bounds(np.array([1000.0]), offence)[0]
        worst = rate.idxmax()
        big = rate[pop >= 1000].idxmax()
        above = int((counts > commune_rate_bounds(pop.to_numpy(), offence)).sum())
        print(
            f"{offence[:42]:42s} {top.get(offence, np.nan):8.1f} {bound:6.1f}  "
            f"{(names[worst] + f' ({pop[worst]:,.0f})')[:34]:34s} {rate[worst]:6.1f}  "
            f"{(names[big] + f' ({pop[big]:,.0f})')[:34]:34s} {rate[big]:6.1f} {above:9d}"
        )


if __name__ == "__main__":
    main()
