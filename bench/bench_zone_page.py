"""The Zones page's analysis of a new selection on the Nord (what « Ouvrir Zones » waits for).

Data: the Nord's synthetic data set of ``bench/bench_interactions.py`` (~566,000 incidents over
four years, generated once under ``cache/bench-59``). The page's opening settings (« mailles
récurrentes », 36 months of history), three periods of six months, each a new selection.

- **ours**: ``usecases.zones.zone_analysis_for_selection`` on the incidents as the app now
  holds them, projected once per data set (``ui.cache.incidents_metric``);
- **anchor**: the same use case on the incidents in EPSG:4326, as the page passed them
  before: every new selection projected the months it reads.

Same run, same data; the zones of the two paths are checked equal. Goal (issue 27, point 8):
the page opened after the Diagnostic under 1.5 s — not reached by the analysis alone.

Run: ``.venv/bin/python bench/bench_zone_page.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_interactions import environment  # noqa: E402


def main() -> None:
    os.environ.update(environment("59"))
    from analysis.zones import DEFAULT_SEVERITY
    from core.crs import metric_crs_for_departement
    from core.model import IncidentFilter
    from data.default_dataset import DEFAULT_SLUG
    from data.locations import default_store
    from geo.communes import communes_for_departement
    from usecases import zones as uz

    store = default_store()
    wgs84 = store.load(DEFAULT_SLUG)
    crs = metric_crs_for_departement("59")
    t = time.perf_counter()
    metric = wgs84.to_crs(crs)
    once = time.perf_counter() - t
    communes = communes_for_departement("59").to_crs(crs)
    truth = store.planted_hotspots(DEFAULT_SLUG)
    settings = uz.default_zone_settings()

    def analysis(incidents, start: dt.date, end: dt.date):
        res, _ = uz.zone_analysis_for_selection(
            incidents,
            communes,
            IncidentFilter(start=start, end=end),
            crs=crs,
            settings=settings,
            severity=dict(DEFAULT_SEVERITY),
            bandwidth=None,
            truth=truth,
        )
        return res

    analysis(metric, dt.date(2024, 1, 1), dt.date(2024, 6, 30))  # imports, first allocations
    print(f"Nord, {len(wgs84):,} faits ; projection du jeu entier une fois : {once:.2f} s")
    print(f"{'période':<24} {'nous (s)':>9} {'ancre (s)':>10} {'rapport':>8}  zones")
    for start, end in (
        (dt.date(2025, 7, 1), dt.date(2025, 12, 31)),
        (dt.date(2025, 1, 1), dt.date(2025, 6, 30)),
        (dt.date(2024, 7, 1), dt.date(2024, 12, 31)),
    ):
        t = time.perf_counter()
        ours = analysis(metric, start, end)
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        anchor = analysis(wgs84, start, end)
        t_anchor = time.perf_counter() - t
        same = list(ours.zones["id"]) == list(anchor.zones["id"])
        print(
            f"{start:%m/%Y} – {end:%m/%Y}        {t_ours:9.2f} {t_anchor:10.2f} {t_anchor / t_ours:8.2f}  "
            f"{len(ours.zones)} ({'identiques' if same else 'DIFFÉRENTES'})"
        )


if __name__ == "__main__":
    main()
