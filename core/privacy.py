"""The privacy gate: the one module that owns the statistical-secrecy rule.

Everything the published view shows or exports (metrics, captions, chart series, heat
tables, map properties, downloads, reports) passes through the functions below.

The rule follows the SSMSI practice:

* **primary secrecy**: a count from 1 to ``threshold`` (default 5) is never published;
  zeros are;
* **secondary secrecy**: a hidden count must not be recoverable by subtraction from what is
  shown together. In every line of a table whose margin is published, either no cell is
  hidden, or at least two are and their sum is above ``threshold`` (otherwise the sum of
  the hidden group, or the one hidden cell, would be a count of 1 to ``threshold``);
* **places**: no published place (camera site, zone, density cell) whose support holds 1 to
  ``threshold`` incidents within the published resolution
  (``SETTINGS.published_resolution_m``).

Who gets the published view is decided by the server (:class:`Audience`), never by a
widget alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from core.errors import DelinquanceError
from core.settings import SETTINGS

SECRET_LABEL = "secret"


class View(StrEnum):
    """What an audience may see."""

    INTERNAL = "interne"  # the analyst's working view: every count
    PUBLISHED = "diffusable"  # statistical secrecy applied, no incident point


@dataclass(frozen=True)
class Audience:
    """Who is looking: the view the server grants (roles and territories come next).

    Use cases take an audience and return only what it may see.
    """

    view: View = View.PUBLISHED

    @property
    def published(self) -> bool:
        """True when the secrecy rule applies."""
        return self.view is View.PUBLISHED

    @classmethod
    def internal(cls) -> Audience:
        """The analyst's internal view."""
        return cls(View.INTERNAL)

    @classmethod
    def public(cls) -> Audience:
        """The published view."""
        return cls(View.PUBLISHED)


def _threshold(threshold: int | None) -> int:
    return SETTINGS.privacy_threshold if threshold is None else int(threshold)


def is_secret(count: float, *, threshold: int | None = None) -> bool:
    """True for a count the rule hides (``0 < count <= threshold``)."""
    return bool(0 < float(count) <= _threshold(threshold))


def secret_cells(counts: np.ndarray | float, *, threshold: int | None = None) -> np.ndarray:
    """Element-wise :func:`is_secret` (the primary rule, no secondary secrecy)."""
    c = np.nan_to_num(np.asarray(counts, dtype=float), nan=0.0)
    return (c > 0) & (c <= _threshold(threshold))


def too_small_for_a_ratio(counts: np.ndarray | float, *, threshold: int | None = None) -> np.ndarray:
    """Element-wise ``count <= threshold``, zero included: a figure computed from such a count
    (a ratio, a share, a test statistic) is withheld in the published view, since it would give
    the count back or rest on nothing."""
    c = np.nan_to_num(np.asarray(counts, dtype=float), nan=0.0)
    return c <= _threshold(threshold)


def secret_mask_from_counts(
    counts: np.ndarray,
    *,
    threshold: int | None = None,
    secondary: bool = True,
    forced: np.ndarray | None = None,
) -> np.ndarray:
    """Cells to hide in a 1-D or 2-D table of counts.

    Parameters
    ----------
    counts : ndarray, 1-D or 2-D
        The table (its margins are assumed published). Fractional counts (aoristic
        shares) are hidden when in ``(0, threshold]``.
    threshold : int, optional
        Largest hidden count (default ``SETTINGS.privacy_threshold``).
    secondary : bool, default True
        Also hide cells until no line (row or column) has a single hidden cell or a group
        of hidden cells summing to 1 to ``threshold``.
    forced : ndarray of bool, optional
        Cells hidden whatever their count (a withheld place's count, say); secondary
        secrecy protects them too.

    Returns
    -------
    ndarray of bool
        Same shape as ``counts``; True where the cell must not be shown.
    """
    c = np.nan_to_num(np.asarray(counts, dtype=float), nan=0.0)
    if c.ndim not in (1, 2):
        raise DelinquanceError("Le secret statistique s'applique à un tableau à une ou deux dimensions.")
    force = (
        np.zeros(c.shape, dtype=bool) if forced is None else np.asarray(forced, dtype=bool).reshape(c.shape)
    )
    if not secondary:
        return ((c > 0) & (c <= _threshold(threshold))) | force
    c2 = c.reshape(1, -1) if c.ndim == 1 else c
    cells = np.arange(c2.size).reshape(c2.shape)
    lines = [cells[i] for i in range(c2.shape[0])]
    if c.ndim == 2:
        lines += [cells[:, j] for j in range(c2.shape[1])]
    # Margins are published but are not cells: every line is a plain sum (signs +1).
    relations = [(idx, np.ones(len(idx))) for idx in lines]
    mask = secret_mask_for_relations(c2.ravel(), relations, forced=force.ravel(), threshold=threshold)
    return mask.reshape(c.shape)


def secret_mask_for_relations(
    values: np.ndarray,
    lines: list[tuple[np.ndarray, np.ndarray]],
    *,
    protected: np.ndarray | None = None,
    forced: np.ndarray | None = None,
    threshold: int | None = None,
) -> np.ndarray:
    """Cells to hide among counts tied by additive relations (hierarchies, margins).

    Each relation says ``sum(sign * value) == 0`` over its cells (a commune group and its
    total: signs +1 for the communes, -1 for the group). Primary secrecy hides every count
    of 1 to ``threshold``; then, until no relation gives a hidden cell back, each relation
    must have no hidden cell, or at least two, and when all its hidden cells have the same
    sign (their sum is then known) that sum must be above ``threshold``.

    Parameters
    ----------
    values : ndarray (n,)
        Every published count of the page: cells, group totals, the grand total.
    lines : list of (indices, signs)
        The relations.
    protected : ndarray of bool, optional
        Cells never chosen for secondary secrecy (the headline total, say); primary secrecy
        still hides them.
    forced : ndarray of bool, optional
        Cells hidden whatever their count; the relations protect them like the others.
    threshold : int, optional
        Largest hidden count.

    Returns
    -------
    ndarray of bool
        True where the cell must not be published.
    """
    t = _threshold(threshold)
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    hidden = (v > 0) & (v <= t)
    if forced is not None:
        hidden |= np.asarray(forced, dtype=bool)
    keep = np.zeros(len(v), dtype=bool) if protected is None else np.asarray(protected, dtype=bool)
    changed = True
    while changed:
        changed = False
        for idx, sign in lines:
            while True:
                h = hidden[idx]
                n = int(h.sum())
                if n == 0:
                    break
                same_sign = len(set(np.sign(sign[h]).tolist())) == 1
                total = float(np.abs(v[idx][h]).sum())
                if not (n == 1 or (same_sign and 0 < total <= t)):
                    break
                free = ~h & (v[idx] > 0) & ~keep[idx]
                if not free.any():
                    break
                j = idx[np.flatnonzero(free)[np.argmin(v[idx][free])]]
                hidden[j] = True
                changed = True
    return hidden


def hierarchy_masks(
    counts: np.ndarray, groupings: list[np.ndarray], *, threshold: int | None = None
) -> tuple[np.ndarray, list[np.ndarray], bool]:
    """Secrecy for base units (communes) published together with their groupings and total.

    A page that can show communes, EPCIs and cantons of the same selection, with the
    département total, must not let a hidden commune be recovered from its EPCI's total
    (or the reverse).

    Parameters
    ----------
    counts : ndarray (n,)
        Count of each base unit.
    groupings : list of ndarray (n,)
        For each grouping, the group code of each base unit (NaN/None: in no group).
    threshold : int, optional
        Largest hidden count.

    Returns
    -------
    base_mask : ndarray of bool (n,)
    group_masks : list of ndarray of bool, one per grouping, in the order of
        the sorted group codes (see :func:`group_labels`)
    total_hidden : bool
        The grand total itself is secret.
    """
    c = np.asarray(counts, dtype=float)
    n = len(c)
    cells = [c]
    lines: list[tuple[np.ndarray, np.ndarray]] = []
    offsets = []
    offset = n
    for codes in groupings:
        labels, inverse = _group_inverse(codes)
        totals = np.bincount(inverse[inverse >= 0], weights=c[inverse >= 0], minlength=len(labels))
        offsets.append((offset, len(labels)))
        for g in range(len(labels)):
            members = np.flatnonzero(inverse == g)
            idx = np.concatenate([members, [offset + g]])
            sign = np.concatenate([np.ones(len(members)), [-1.0]])
            lines.append((idx, sign))
        cells.append(totals)
        offset += len(labels)
    grand = offset
    values = np.concatenate([*cells, [c.sum()]])
    lines.insert(0, (np.concatenate([np.arange(n), [grand]]), np.concatenate([np.ones(n), [-1.0]])))
    for start, size in offsets:
        idx = np.concatenate([np.arange(start, start + size), [grand]])
        lines.append((idx, np.concatenate([np.ones(size), [-1.0]])))
    protected = np.zeros(len(values), dtype=bool)
    protected[grand] = True
    mask = secret_mask_for_relations(values, lines, protected=protected, threshold=threshold)
    return mask[:n], [mask[s : s + k] for s, k in offsets], bool(mask[grand])


def _group_inverse(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = pd.Series(np.asarray(codes, dtype=object))
    valid = s.notna().to_numpy()
    labels = np.array(sorted(set(s[valid].astype(str))), dtype=object)
    pos = {k: i for i, k in enumerate(labels)}
    inverse = np.array([pos[str(x)] if ok else -1 for x, ok in zip(s, valid, strict=True)], dtype=np.int64)
    return labels, inverse


def group_labels(codes: np.ndarray) -> np.ndarray:
    """Group codes in the order :func:`hierarchy_masks` returns their masks."""
    return _group_inverse(codes)[0]


def published_counts(
    counts: pd.Series | pd.DataFrame, *, threshold: int | None = None
) -> pd.DataFrame | pd.Series:
    """A copy of a count table with secret cells replaced by ``"secret"``.

    Parameters
    ----------
    counts : Series or DataFrame
        Counts (1-D or 2-D); their margins are assumed published.
    threshold : int, optional
        Largest hidden count (default ``SETTINGS.privacy_threshold``).

    Returns
    -------
    Series or DataFrame of object
        Numbers where publishable, ``"secret"`` elsewhere.
    """
    mask = secret_mask_from_counts(counts.to_numpy(), threshold=threshold)
    out = counts.astype(object).copy()
    if isinstance(out, pd.Series):
        out[mask] = SECRET_LABEL
    else:
        out = out.mask(mask, SECRET_LABEL)
    return out


def published_series_frame(
    table: pd.DataFrame, *, total_shown: bool = True, threshold: int | None = None
) -> pd.DataFrame:
    """A time × series table (months × forces, say) with secret cells set to NaN.

    Every series of the split is kept (not only those drawn) so that a cell hidden in one
    series cannot be recovered from the total of the same month shown elsewhere on the page.

    Parameters
    ----------
    table : DataFrame
        Rows: time steps; columns: series. Counts.
    total_shown : bool, default True
        The row totals are published (the page can show the series without split).
    threshold : int, optional
        Largest hidden count.

    Returns
    -------
    DataFrame of float
        Same shape; NaN where hidden (charts leave a gap).
    """
    values = table.to_numpy(dtype=float)
    if total_shown and values.ndim == 2 and values.shape[1] > 1:
        mask = secret_mask_from_counts(values, threshold=threshold)
    else:
        mask = secret_mask_from_counts(values, threshold=threshold, secondary=False)
    return table.astype(float).mask(mask)


def published_segments(counts: np.ndarray, *, threshold: int | None = None) -> np.ndarray:
    """The street segments a published output may show: those holding more than ``threshold``
    incidents, and no other.

    The rule for lines: a segment is a place (a few dozen metres of one street), so a segment
    shown with « secret » or « 0 » beside the segments shown with their counts would say that
    the others hold 1 to ``threshold`` incidents, and where. The published view therefore
    draws and lists only the segments above the threshold, each with its own count; it shows
    no sum over a group of segments (a street, a commune's streets) that would also hold
    unpublished segments (the difference would locate their incidents); shares computed over
    every segment (the concentration of incidents on streets) are shown only when the
    incidents on the network are more than ``threshold``.

    Parameters
    ----------
    counts : ndarray
        Incidents per segment.
    threshold : int, optional
        Largest count withheld (default ``SETTINGS.privacy_threshold``).

    Returns
    -------
    ndarray of bool
        True for the segments that may be published.
    """
    c = np.nan_to_num(np.asarray(counts, dtype=float), nan=0.0)
    return c > _threshold(threshold)


def places_to_withhold(
    places_xy: np.ndarray,
    incidents_xy: np.ndarray,
    *,
    resolution: float | None = None,
    threshold: int | None = None,
) -> np.ndarray:
    """Published places (camera sites, zone centres) that would locate 1 to ``threshold`` incidents.

    A place is withheld when the incidents within ``resolution`` metres of it number from 1
    to ``threshold``: publishing it would say where those few incidents are.

    Parameters
    ----------
    places_xy : ndarray (n, 2)
        Places, metres.
    incidents_xy : ndarray (m, 2)
        Every incident of the selection the page works on, same metric CRS.
    resolution : float, optional
        Published resolution, metres (default ``SETTINGS.published_resolution_m``).
    threshold : int, optional
        Largest hidden count.

    Returns
    -------
    ndarray of bool
        True for the places to leave out of every published output.
    """
    from scipy.spatial import cKDTree

    r = SETTINGS.published_resolution_m if resolution is None else float(resolution)
    p = np.asarray(places_xy, dtype=float).reshape(-1, 2)
    q = np.asarray(incidents_xy, dtype=float).reshape(-1, 2)
    if len(p) == 0:
        return np.zeros(0, dtype=bool)
    if len(q) == 0:
        return np.zeros(len(p), dtype=bool)
    near = cKDTree(q).query_ball_point(p, r, return_length=True)
    return (near > 0) & (near <= _threshold(threshold))


# -- the granularity of the published view -------------------------------------------------
#: Below this many whole months, the published view does not tell a commune without incident
#: from one with 1 to ``privacy_threshold``: both read « 0 à 5 » (the SSMSI's communal base
#: never tells them apart either: « non diffusé » covers both).
ZEROS_PUBLISHED_FROM_MONTHS = 12


def whole_months(start, end) -> tuple:
    """The published view's period: from the first day of ``start``'s month to the last day
    of ``end``'s month (whole calendar months, at least one), as the official statistics."""
    first = pd.Timestamp(start).to_period("M").start_time.date()
    last = pd.Timestamp(end).to_period("M").end_time.date()
    return first, last


def months_in(start, end) -> int:
    """Number of calendar months from ``start``'s month to ``end``'s (both included)."""
    a, b = pd.Timestamp(start).to_period("M"), pd.Timestamp(end).to_period("M")
    return (b.year - a.year) * 12 + b.month - a.month + 1


def zeros_published(start, end) -> bool:
    """Whether the published view may show a commune's « 0 » over this period (a year or more)."""
    if start is None or end is None:
        return True
    return months_in(start, end) >= ZEROS_PUBLISHED_FROM_MONTHS


def secret_range_label(*, zeros_hidden: bool, threshold: int | None = None) -> str:
    """« 1 à 5 », or « 0 à 5 » when zeros are hidden with the small counts."""
    return f"{0 if zeros_hidden else 1} à {_threshold(threshold)}"


def masks_hiding_zeros(
    counts: np.ndarray, groupings: list[np.ndarray], base_mask: np.ndarray, group_masks: list[np.ndarray]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`hierarchy_masks`' result with every unit and group of count 0 hidden too (a
    published period under :data:`ZEROS_PUBLISHED_FROM_MONTHS`). Hiding a zero only removes
    information, so the secondary suppression already computed still holds."""
    c = np.asarray(counts, dtype=float)
    out_groups = []
    for codes, mask in zip(groupings, group_masks, strict=True):
        labels, inverse = _group_inverse(codes)
        totals = np.bincount(inverse[inverse >= 0], weights=c[inverse >= 0], minlength=len(labels))
        out_groups.append(np.asarray(mask, dtype=bool) | (totals == 0))
    return np.asarray(base_mask, dtype=bool) | (c == 0), out_groups
