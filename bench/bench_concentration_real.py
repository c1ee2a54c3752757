"""Is the demonstration's spatial concentration plausible? The demo beside real point data.

For each offence, one year of incidents counted on square cells (100 m, the product's default,
and 200 m, where the Toronto Police Service's snapping of every location to the nearest
intersection matters less): the share of incidents in the busiest 1 % and 5 % of the cells that
hold at least one incident, and the Gini coefficient of those cells' counts (Bernasco &
Steenbeek's « lattice » concentration restricted to occupied cells, so that the size of the
territory does not enter). Real: Toronto's Major Crime Indicators, 2019 (``scripts/toronto.py``);
demo: the embedded synthetic Mayenne data set, its last full year.

Read with care: with far fewer incidents per occupied cell (the Mayenne's 603 burglaries a year
over 5,175 km², Toronto's 8,282 over 640 km²) the shares among occupied cells are mechanically
lower; compare at equal counts per cell before calibrating on them.

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
from data.default_dataset import DEFAULT_SLUG  # noqa: E402
from data.locations import default_store  # noqa: E402
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


def main() -> None:
    real = toronto.load()
    real = real[real[m.START].dt.year == 2019]
    demo = default_store().load(DEFAULT_SLUG).to_crs(metric_crs_for_departement("53"))
    after_last = demo[m.START].max().normalize() + pd.Timedelta(days=1)
    year = after_last.year - 1  # the last whole calendar year
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
        for cell in CELLS:
            for source, frame in rows.items():
                if len(frame) == 0:
                    continue
                n, top1, top5, gini = stats(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy(), cell)
                print(
                    f"{ours[:42]:42s} {cell:6.0f}  {source:8s} {len(frame):7,d} {n:8,d} "
                    f"{top1:8.1%} {top5:8.1%} {gini:5.2f}"
                )
    distinct = len(pd.unique(real.geometry.x.round(1) + 1j * real.geometry.y.round(1)))
    print(
        f"Toronto 2019 : {distinct:,} positions distinctes pour {len(real):,} faits (déplacés au carrefour le plus proche)"
    )


if __name__ == "__main__":
    main()
