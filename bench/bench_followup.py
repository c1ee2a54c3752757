"""Follow-up (Suivi) on a whole département: 1,000,000 incidents, every dimension, both references.

Incidents: the embedded Mayenne data resampled to 1,000,000 rows (dates and places kept,
30 m jitter), zones detected on the 12 months before the period. Ours: the vectorised exact
test (beta/binomial quantiles for every unit at once) inside ``followup_from_incidents``.
Anchor, same run, same counts: ``scipy.stats.binomtest`` and its exact (Clopper-Pearson)
interval unit by unit, the straightforward way. Then the report: PDF and HTML with the map.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.followup import followup_from_incidents  # noqa: E402
from analysis.periods import Period, default_periods  # noqa: E402
from analysis.rate_tests import change_classes_from_comparison  # noqa: E402
from analysis.zones import zones_from_incidents  # noqa: E402
from bench.bench_zones import sample  # noqa: E402
from data.default_dataset import DEFAULT_SLUG
from data.locations import default_store
from geo.communes import communes_for_departement  # noqa: E402
from rendering.report import (
    ReportContent,
    html_report_from_followup,
    pdf_report_from_followup,
    static_map_png,
)


def main() -> None:
    rng = np.random.default_rng(0)
    g = default_store().load(DEFAULT_SLUG).to_crs(2154)
    communes = communes_for_departement("53")
    com_m = communes.to_crs(2154)
    inc = sample(g, 1_000_000, rng)
    current, year, before = default_periods(inc["date_debut"].max())
    refs = {"annee": year, "precedente": before}
    zp = Period(current.start - pd.DateOffset(years=1), current.start - pd.Timedelta(days=1))
    t = time.perf_counter()
    zones = zones_from_incidents(inc[zp.mask(inc["date_debut"])], com_m)
    t_zones = time.perf_counter() - t
    t = time.perf_counter()
    fu = followup_from_incidents(
        inc, current=current, references=refs, communes=communes, zones=zones, zones_period=zp
    )
    ours = time.perf_counter() - t
    n_units = sum(len(tb) for tb in fu.tables.values())
    print(f"1 000 000 faits, {len(zones)} zones (détection sur 12 mois : {t_zones:.2f} s)")
    print(f"nous : suivi complet ({n_units} unités, 5 dimensions x 2 références) : {ours:.2f} s")
    # Anchor: the same tests unit by unit with scipy.stats.binomtest.
    t = time.perf_counter()
    worst = 0.0
    for (ref, _dim), tb in fu.tables.items():
        pi0 = current.days / (current.days + refs[ref].days)
        for k1, k0, p, lo in zip(
            tb["faits"], tb["faits_reference"], tb["p_valeur"], tb["ic_bas"], strict=True
        ):
            if k1 + k0 == 0:
                continue
            bt = stats.binomtest(int(k1), int(k1 + k0), pi0)
            ci = bt.proportion_ci(0.95, method="exact")
            p_central = min(
                1.0, 2 * min(stats.binom.cdf(k1, k1 + k0, pi0), stats.binom.sf(k1 - 1, k1 + k0, pi0))
            )
            worst = max(
                worst, abs(p_central - p), abs(ci.low / (1 - ci.low) * refs[ref].days / current.days - lo)
            )
    anchor = time.perf_counter() - t
    print(
        f"ancre scipy.stats.binomtest unité par unité (tests seuls)  : {anchor:.2f} s ; écart max {worst:.1e}"
    )
    # Ours includes the counting by unit, the anchor only the tests: the ratio is conservative.
    print(f"ratio ancre / nous : {anchor / ours:.1f}x")
    t = time.perf_counter()
    classes = change_classes_from_comparison(fu.tables[("annee", "commune")], com_m["code"])
    png = static_map_png(com_m, classes, zones=zones)
    content = ReportContent("Mayenne (53)", "banc d'essai", True, "annee", png, sources=("SSMSI",))
    pdf = pdf_report_from_followup(fu, content)
    html = html_report_from_followup(fu, content)
    print(
        f"rapport (carte statique + PDF {len(pdf) / 1e3:.0f} ko + HTML {len(html) / 1e3:.0f} ko) : "
        f"{time.perf_counter() - t:.2f} s"
    )


if __name__ == "__main__":
    main()
