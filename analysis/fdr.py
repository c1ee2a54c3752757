"""The Benjamini-Hochberg false discovery rate, once for the product.

Used by the follow-up (changes flagged when significant after correction) and by the hot-spot
bins (ArcGIS's « False Discovery Rate correction »: a cell is significant at a confidence level
``c`` when its q-value is at most ``1 - c``, which is the BH step-up procedure at that level).
"""

from __future__ import annotations

import numpy as np


def fdr_from_pvalues(p: np.ndarray, *, below: float | None = None) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN stays NaN.

    Parameters
    ----------
    p : ndarray
        p-values (NaN: no test).
    below : float, optional
        Only q-values up to ``below`` are wanted (the bins compare them with 0.10 at most):
        only the p-values up to ``below`` are sorted, the others get q = 1. Exact for every
        threshold up to ``below``, since ``q_(i) >= p_(i)`` and a term ``p_(j) m / j`` with
        ``p_(j) > below`` exceeds ``below``.

    Returns
    -------
    ndarray
        Same shape: ``q_(i) = min_{j >= i} p_(j) m / j`` on the sorted finite p-values, capped
        at 1. The BH procedure at level ``alpha`` rejects exactly the tests with ``q <= alpha``.
    """
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if ok.size == 0:
        return q
    m = ok.size
    if below is not None:
        q[ok] = 1.0
        ok = ok[p[ok] <= below]  # the smallest p-values: their ranks are 1, 2, ...
        if ok.size == 0:
            return q
    order = ok[np.argsort(p[ok])]
    ranked = p[order] * m / np.arange(1, ok.size + 1)
    q[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return q
