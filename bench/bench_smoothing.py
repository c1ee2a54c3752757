"""Honest rates: empirical Bayes smoothing and Fisher-Jenks classes against PySAL, same run.

For the Mayenne (240 communes), the Finistère (277, islands) and the Nord (648): queen
neighbours, global and spatial EB rates. Ours: :mod:`analysis.smoothing` (vertex hashing with
sparse matrices, one vectorised pass). Anchor: ``libpysal.weights.Queen.from_dataframe`` and
``esda.smoothing.Empirical_Bayes`` / ``Spatial_Empirical_Bayes``. Then the natural-breaks classes:
ours (:func:`analysis.diagnostic.fisher_jenks_bins`) against ``mapclassify.FisherJenks`` (pure
Python here: numba is not installed). Counts: a gamma-Poisson draw (rates that truly vary).

Run: ``.venv/bin/python bench/bench_smoothing.py``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from analysis.diagnostic import fisher_jenks_bins  # noqa: E402
from analysis.smoothing import global_eb_from_counts, queen_neighbours_from_geometry, spatial_eb_from_counts  # noqa: E402
from bench.bench_usecases import timed  # noqa: E402
from geo.communes import communes_for_departement  # noqa: E402


def main() -> None:
    import libpysal
    import mapclassify
    from esda.smoothing import Empirical_Bayes, Spatial_Empirical_Bayes

    warnings.simplefilter("ignore")
    print(
        f"{'département':<12} {'communes':>8} {'nous (ms)':>10} {'PySAL (ms)':>11} {'ratio':>7} {'écart max':>10}"
    )
    for dep in ("53", "29", "59"):
        c = communes_for_departement(dep).reset_index(drop=True)
        pop = c["population"].to_numpy(float)
        rng = np.random.default_rng(1)
        e = rng.poisson(pop * rng.gamma(4.0, 0.008, len(pop)))

        def ours(c=c, e=e, pop=pop):
            w = queen_neighbours_from_geometry(c.geometry)
            return global_eb_from_counts(e, pop), spatial_eb_from_counts(e, pop, w), w

        def anchor(c=c, e=e, pop=pop):
            q = libpysal.weights.Queen.from_dataframe(c, use_index=False)
            q.id_order = list(range(len(c)))
            return Empirical_Bayes(e, pop).r.ravel(), Spatial_Empirical_Bayes(e, pop, q).r.ravel()

        t_ours, (g, s, w) = timed(ours)
        t_anchor, (ga, sa) = timed(anchor)
        island = np.asarray(w.sum(axis=1)).ravel() == 0
        diff = max(np.max(np.abs(g - ga) / ga), np.max(np.abs(s[~island] - sa[~island]) / sa[~island]))
        print(
            f"{dep:<12} {len(c):>8} {t_ours * 1000:>10.1f} {t_anchor * 1000:>11.1f} {t_anchor / t_ours:>6.1f}× {diff:>10.1e}"
        )
    rates = e / pop * 1000
    t_ours, bins = timed(lambda: fisher_jenks_bins(rates, 5))
    t_anchor, anchor_bins = timed(lambda: mapclassify.FisherJenks(rates, k=5).bins, repeat=1)
    same = np.allclose(bins, anchor_bins)
    print(
        f"Fisher-Jenks, 5 classes, {len(rates)} communes du Nord : nous {t_ours * 1000:.1f} ms, "
        f"mapclassify {t_anchor * 1000:.0f} ms ({t_anchor / t_ours:.0f}×), bornes identiques : {'oui' if same else 'NON'}"
    )
    print(
        "(écart max : relatif, îles exclues du spatial : esda ne les lisse pas, nous les lissons globalement)"
    )


if __name__ == "__main__":
    main()
