"""Server-side cost of the Diagnostic and Suivi use cases, published view, embedded default data.

- Diagnostic, switching Commune -> EPCI -> Canton: ours computes the diagnostic once and each
  level's ranking on its own (``ranking_for_level``); the anchor is what the page did before,
  the whole diagnostic recomputed for every level (the level was part of its cache key).
- Suivi: the one secrecy computation over everything the page shows, against the follow-up it
  gates (the cost it adds).

Same run, same data; the results of the two Diagnostic paths are checked equal.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from core.model import IncidentFilter  # noqa: E402
from core.privacy import Audience  # noqa: E402
from data.default_dataset import DEFAULT_SLUG, ensure_default_dataset  # noqa: E402
from data.locations import default_store  # noqa: E402
from geo.communes import cantons_for_departement, communes_for_departement  # noqa: E402
from geo.organisation import area_keys_from_communes  # noqa: E402
from usecases import diagnostic as uc_diag  # noqa: E402
from usecases import suivi as uc_suivi  # noqa: E402
from usecases.suivi import _gate_followup  # noqa: E402


def timed(fn, repeat: int = 3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ensure_default_dataset()
    incidents = default_store().load(DEFAULT_SLUG)
    communes = communes_for_departement("53")
    keys = area_keys_from_communes(communes, cantons_for_departement("53"))
    last = incidents["date_debut"].max().date()
    flt = IncidentFilter(start=last - dt.timedelta(days=364), end=last)
    public = Audience.public()
    n = int(
        ((incidents["date_debut"].dt.date >= flt.start) & (incidents["date_debut"].dt.date <= flt.end)).sum()
    )
    print(f"Mayenne, {len(incidents):,} faits, période affichée : {n:,} faits (12 mois)")

    def ours():
        view = uc_diag.diagnostic_for_selection(incidents, communes, flt, keys=keys, audience=public)
        return [
            uc_diag.ranking_for_level(view, communes, keys, lvl, audience=public) for lvl in uc_diag.LEVELS
        ]

    def anchor():
        out = []
        for lvl in uc_diag.LEVELS:
            view = uc_diag.diagnostic_for_selection(incidents, communes, flt, keys=keys, audience=public)
            out.append(uc_diag.ranking_for_level(view, communes, keys, lvl, audience=public))
        return out

    t_ours, r_ours = timed(ours)
    t_anchor, r_anchor = timed(anchor)
    same = all(a.export_csv == b.export_csv for a, b in zip(r_ours, r_anchor, strict=True))
    print(
        f"Diagnostic + 3 échelons : nous {t_ours:.2f} s ; ancre (diagnostic recalculé à chaque échelon) "
        f"{t_anchor:.2f} s ; ratio {t_anchor / t_ours:.1f}x ; mêmes exports : {same}"
    )
    view = uc_diag.diagnostic_for_selection(incidents, communes, flt, keys=keys, audience=public)
    t_level, _ = timed(lambda: uc_diag.ranking_for_level(view, communes, keys, "epci", audience=public))
    print(f"changement d'échelon seul (diagnostic en cache) : {t_level:.3f} s")

    start, end = dt.date(last.year, 9, 1), dt.date(last.year, 10, 31)
    t_fu, data = timed(
        lambda: uc_suivi.followup_for_selection(
            incidents, communes, IncidentFilter(), start=start, end=end, crs="EPSG:2154"
        ),
        repeat=1,
    )
    t_gate, _ = timed(lambda: _gate_followup(data.followup, data.monthly, communes))
    print(f"Suivi : suivi complet {t_fu:.2f} s, dont secret statistique de la page {t_gate:.3f} s")


if __name__ == "__main__":
    main()
