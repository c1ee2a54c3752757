"""What may be published of a siting: the site table and the coverage curve with the counts
the secrecy rule hides replaced by ``"secret"`` (or cut where a step would give one back)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.siting_base import EXISTING_SITE
from core.privacy import SECRET_LABEL, secret_mask_from_counts


def published_sites(
    sites: pd.DataFrame, *, withheld: np.ndarray | None = None, threshold: int | None = None
) -> pd.DataFrame:
    """The site table with the counts the secrecy rule hides replaced by ``"secret"``.

    The cells are the incidents covered by the existing cameras (one cell) and those each new
    site adds; their total is published (« n faits sur N »). A count from 1 to ``threshold``
    is hidden, with secondary secrecy against that total. Its weighted ``gain`` goes with it,
    and so does every cumulative share from the first hidden cell on (two consecutive
    shares would give the cell back).

    Parameters
    ----------
    sites : DataFrame
        From :func:`analysis.siting_adapter.sites_from_geodataframes` (``statut``, ``faits``, ``gain``,
        ``part_cumulee``; geometry optional).
    withheld : ndarray of bool, optional
        Rows left out of the publication (a site that would locate incidents): their counts
        are hidden like secret ones, so the published total minus the shown sites cannot
        give them back. The caller drops these rows.
    threshold : int, optional
        Largest hidden count (default ``SETTINGS.privacy_threshold``).

    Returns
    -------
    DataFrame
        Same rows, columns and index; ``faits``, ``gain`` and ``part_cumulee`` become ``object``.
    """
    out = sites.copy()
    if out.empty:
        return out
    existing = (out["statut"] == EXISTING_SITE).to_numpy()
    cells = np.concatenate(
        [out.loc[existing, "faits"].to_numpy()[:1], out.loc[~existing, "faits"].to_numpy()]
    ).astype(float)
    # Row -> cell: every existing row is cell 0 when there are existing cameras.
    offset = 1 if existing.any() else 0
    row_cell = np.where(existing, 0, offset + np.cumsum(~existing) - 1)
    forced = np.zeros(len(cells), dtype=bool)
    if withheld is not None:
        forced[row_cell[np.asarray(withheld, dtype=bool)]] = True
    hidden = secret_mask_from_counts(cells, threshold=threshold, forced=forced)
    row_hidden = hidden[row_cell]
    from_first = np.zeros(len(out), dtype=bool)
    if hidden.any():
        from_first = row_cell >= int(np.flatnonzero(hidden)[0])
    for col, mask in (("faits", row_hidden), ("gain", row_hidden), ("part_cumulee", from_first)):
        if col in out.columns:
            out[col] = out[col].astype(object).mask(mask, SECRET_LABEL)
    return out


def published_curve(curve: pd.DataFrame, *, threshold: int | None = None) -> pd.DataFrame:
    """The coverage curve up to the step before the first one adding 1 to ``threshold`` incidents.

    Two neighbouring points give the incidents a step adds (the first point, those the
    existing cameras cover), so the curve stops there.

    Parameters
    ----------
    curve : DataFrame
        From :func:`analysis.siting_adapter.sites_from_geodataframes` (``faits``: incidents each step adds).
    threshold : int, optional
        Largest hidden count (default ``SETTINGS.privacy_threshold``).

    Returns
    -------
    DataFrame
        The first rows of ``curve`` (all of them when no step is secret).
    """
    small = secret_mask_from_counts(curve["faits"].to_numpy(), threshold=threshold, secondary=False)
    return curve.iloc[: int(np.flatnonzero(small)[0])] if small.any() else curve
