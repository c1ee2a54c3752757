"""Statistical secrecy: small counts are never published.

The rule follows the SSMSI practice: a count from 1 to ``threshold`` (default 5) is
hidden (primary secrecy). When a table's total is published, a single hidden cell could
be recovered by subtraction, so the smallest other positive cell of that row or column is
hidden too (secondary secrecy). Zeros are published.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from settings import SETTINGS

SECRET_LABEL = "secret"


def secret_mask_from_counts(
    counts: np.ndarray, *, threshold: int | None = None, secondary: bool = True
) -> np.ndarray:
    """Cells to hide in a 1-D or 2-D table of counts.

    Parameters
    ----------
    counts : ndarray of int, 1-D or 2-D
        The table (its margins are assumed published).
    threshold : int, optional
        Largest hidden count (default ``SETTINGS.privacy_threshold``).
    secondary : bool, default True
        Also hide cells that would let a hidden one be recovered from a margin.

    Returns
    -------
    ndarray of bool
        Same shape as ``counts``; True where the cell must not be shown.
    """
    threshold = SETTINGS.privacy_threshold if threshold is None else threshold
    c = np.asarray(counts, dtype=float)
    if c.ndim not in (1, 2):
        raise ValueError("secret_mask_from_counts attend un tableau à 1 ou 2 dimensions.")
    hidden = (c > 0) & (c <= threshold)
    if not secondary or not hidden.any():
        return hidden
    c2 = c.reshape(1, -1) if c.ndim == 1 else c
    h2 = hidden.reshape(c2.shape).copy()
    changed = True
    while changed:
        changed = False
        for axis in (1, 0) if c.ndim == 2 else (1,):
            lines = h2 if axis == 1 else h2.T
            values = c2 if axis == 1 else c2.T
            for i in range(lines.shape[0]):
                if lines[i].sum() == 1:
                    candidates = np.where(~lines[i] & (values[i] > 0), values[i], np.inf)
                    j = int(np.argmin(candidates))
                    if np.isfinite(candidates[j]):
                        lines[i, j] = True
                        changed = True
    return h2.reshape(c.shape)


def published_counts(
    counts: pd.Series | pd.DataFrame, *, threshold: int | None = None
) -> pd.DataFrame | pd.Series:
    """Return a copy of a count table with secret cells replaced by ``"secret"``.

    Parameters
    ----------
    counts : Series or DataFrame of int
        Counts (1-D or 2-D).
    threshold : int, optional
        Largest hidden count (default ``SETTINGS.privacy_threshold``).

    Returns
    -------
    Series or DataFrame of object
        Integers where publishable, ``"secret"`` elsewhere.
    """
    mask = secret_mask_from_counts(counts.to_numpy(), threshold=threshold)
    out = counts.astype(object).copy()
    if isinstance(out, pd.Series):
        out[mask] = SECRET_LABEL
    else:
        out = out.mask(mask, SECRET_LABEL)
    return out
