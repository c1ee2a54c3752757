"""Near-repeat analysis: the Knox test as in Ratcliffe's Near Repeat Calculator.

Every pair of incidents closer than the largest distance band is classed by its distance
band (same location: under 1 m, then [1, 100), [100, 200)… metres) and its time band
([0, 7), [7, 14)… days, then « 56 days and more »), the intervals the Near Repeat Calculator
counts (it labels [0, 7) « 0 to 7 days »; Steenbeek's NearRepeat vignette shows it): the same
settings give the same table. The observed count of each cell is compared with the counts obtained after
permuting the dates among the incidents (Monte Carlo, 999 times by default): the ratio
observed / mean expected, and the p-value ``(1 + #{expected >= observed}) / (1 + n)``.

Pairs are found once with a k-d tree; a permutation only moves dates, so each permutation
is one vectorised pass over the pairs. Dates are whole days: an incident known only within
a window is placed at the window's midpoint (said on the page).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from core.errors import ParameterError

DEFAULT_DISTANCES = (100.0, 200.0, 300.0, 400.0, 500.0)
DEFAULT_DAYS = (7, 14, 21, 28, 35, 42, 49, 56)
#: Pairs closer than this (metres) are at the same location (geocoding gives equal points; a
#: rounding of the coordinates a few centimetres apart).
SAME_PLACE_M = 1.0


@dataclass
class KnoxResult:
    """Observed and expected pair counts by distance band (rows) and time band (columns)."""

    observed: pd.DataFrame
    expected: pd.DataFrame
    ratio: pd.DataFrame
    p_value: pd.DataFrame
    n_incidents: int
    n_pairs: int
    permutations: int


def distance_labels(distances: tuple[float, ...]) -> list[str]:
    """« même lieu », « 1 à 99 m », « 100 à 199 m »… row labels (band [low, bound))."""
    out, low = ["même lieu"], SAME_PLACE_M
    for d in distances:
        out.append(f"{low:.0f} à {np.ceil(d) - 1:.0f} m")
        low = d
    return out


def day_labels(days: tuple[int, ...]) -> list[str]:
    """« 0 à 6 j », « 7 à 13 j »…, « 56 j et plus » column labels (band [low, bound) days)."""
    out, low = [], 0
    for d in days:
        out.append(f"{low} à {d - 1} j")
        low = d
    return [*out, f"{days[-1]} j et plus"]


def _pairs(
    x: np.ndarray, y: np.ndarray, distances: tuple[float, ...], metric: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j) closer than the largest band, and each pair's distance band."""
    p = 1 if metric == "manhattan" else 2
    tree = cKDTree(np.column_stack([x, y]))
    pairs = tree.query_pairs(r=distances[-1], p=p, output_type="ndarray")
    if len(pairs) == 0:
        return pairs.reshape(0, 2), np.zeros(0, dtype=np.int64)
    d = np.abs(x[pairs[:, 0]] - x[pairs[:, 1]]) + np.abs(y[pairs[:, 0]] - y[pairs[:, 1]])
    if p == 2:
        d = np.hypot(x[pairs[:, 0]] - x[pairs[:, 1]], y[pairs[:, 0]] - y[pairs[:, 1]])
    keep = d < distances[-1]
    pairs, d = pairs[keep], d[keep]
    band = np.where(d < SAME_PLACE_M, 0, 1 + np.searchsorted(np.asarray(distances), d, side="right"))
    return pairs, band.astype(np.int64)


def _day_bands(gap: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Time band of whole-day gaps: 0–6 → 0, 7–13 → 1…, the last bound and beyond → len(days)."""
    return np.searchsorted(days, gap, side="right")


def knox_test(
    x: np.ndarray,
    y: np.ndarray,
    day: np.ndarray,
    *,
    distances: tuple[float, ...] = DEFAULT_DISTANCES,
    days: tuple[int, ...] = DEFAULT_DAYS,
    permutations: int = 999,
    metric: str = "euclidean",
    seed: int = 0,
) -> KnoxResult:
    """Knox test of space-time clustering of incidents.

    Parameters
    ----------
    x, y : ndarray
        Coordinates in metres (metric CRS).
    day : ndarray of int
        Whole day of each incident (e.g. days since an origin).
    distances : tuple of float
        Upper bounds (excluded) of the distance bands, increasing (metres).
    days : tuple of int
        Upper bounds (excluded) of the time bands, increasing (days): ``(7, 14)`` counts gaps of
        0-6 days, 7-13 days, then 14 days and more.
    permutations : int
        Monte Carlo permutations of the dates.
    metric : {"euclidean", "manhattan"}
        Distance between incidents.
    seed : int
        Seed of the permutations (same seed, same p-values).
    """
    if metric not in ("euclidean", "manhattan"):
        raise ParameterError(f"Distance inconnue : {metric!r} (euclidean ou manhattan).")
    if list(distances) != sorted(set(distances)) or list(days) != sorted(set(days)):
        raise ParameterError("Les bornes des bandes doivent être croissantes et distinctes.")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    day = np.asarray(day, dtype=np.int64)
    pairs, sband = _pairs(x, y, tuple(float(d) for d in distances), metric)
    bounds = np.asarray(days, dtype=np.int64)
    n_rows, n_cols = len(distances) + 1, len(days) + 1
    cell_base = sband * n_cols
    i, j = pairs[:, 0], pairs[:, 1]

    def table(t: np.ndarray) -> np.ndarray:
        tb = _day_bands(np.abs(t[i] - t[j]), bounds)
        return np.bincount(cell_base + tb, minlength=n_rows * n_cols).reshape(n_rows, n_cols)

    observed = table(day)
    rng = np.random.default_rng(seed)
    total = np.zeros_like(observed, dtype=np.float64)
    at_least = np.zeros_like(observed)
    for _ in range(permutations):
        sim = table(day[rng.permutation(len(day))])
        total += sim
        at_least += sim >= observed
    expected = total / max(permutations, 1)
    rows, cols = distance_labels(tuple(distances)), day_labels(tuple(days))

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=rows, columns=cols)

    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / expected, np.nan)
    return KnoxResult(
        observed=frame(observed),
        expected=frame(expected),
        ratio=frame(ratio),
        p_value=frame((1 + at_least) / (1 + permutations)),
        n_incidents=len(day),
        n_pairs=len(pairs),
        permutations=permutations,
    )


def knox_brute_force(
    x: np.ndarray,
    y: np.ndarray,
    day: np.ndarray,
    *,
    distances: tuple[float, ...] = DEFAULT_DISTANCES,
    days: tuple[int, ...] = DEFAULT_DAYS,
    permutations: int = 99,
    metric: str = "euclidean",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Reference: every pair examined one by one (small data only). Observed table and p-values,
    with the same permutations as :func:`knox_test` for the same seed."""
    n = len(x)
    n_rows, n_cols = len(distances) + 1, len(days) + 1

    def band_of(i: int, j: int) -> int | None:
        if metric == "manhattan":
            d = abs(x[i] - x[j]) + abs(y[i] - y[j])
        else:
            d = float(np.hypot(x[i] - x[j], y[i] - y[j]))
        if d >= distances[-1]:
            return None
        if d < SAME_PLACE_M:
            return 0
        return 1 + sum(1 for b in distances if d >= b)

    def time_band(gap: int) -> int:
        return sum(1 for b in days if gap >= b)

    cells = [(i, j, band_of(i, j)) for i in range(n) for j in range(i + 1, n)]
    cells = [(i, j, b) for i, j, b in cells if b is not None]

    def table(t: np.ndarray) -> np.ndarray:
        out = np.zeros((n_rows, n_cols), dtype=np.int64)
        for i, j, b in cells:
            out[b, time_band(abs(int(t[i]) - int(t[j])))] += 1
        return out

    observed = table(np.asarray(day))
    rng = np.random.default_rng(seed)
    at_least = np.zeros_like(observed)
    for _ in range(permutations):
        at_least += table(np.asarray(day)[rng.permutation(n)]) >= observed
    return observed, (1 + at_least) / (1 + permutations)


def days_from_windows(start: np.ndarray, end: np.ndarray, origin: np.datetime64) -> np.ndarray:
    """Whole day of each incident: the day of its start, or of its window's midpoint.

    An incident known only between ``start`` and ``end`` (a burglary discovered on return) is
    placed at the midpoint of its window, then at the day that contains it (the Near Repeat
    Calculator takes one date per incident).

    Parameters
    ----------
    start, end : ndarray of datetime64
        Start of each incident and end of its window (NaT: the time is known).
    origin : datetime64
        Day 0.

    Returns
    -------
    ndarray of int
        Days since ``origin``.
    """
    s = np.asarray(start, dtype="datetime64[s]")
    e = np.asarray(end, dtype="datetime64[s]")
    middle = np.where(np.isnat(e) | (e < s), s, s + (e - s) // 2)
    return (middle.astype("datetime64[D]") - np.datetime64(origin, "D")).astype(np.int64)


@dataclass(frozen=True)
class NearRepeatSummary:
    """« After one incident, the risk is multiplied by N within R metres during J days »."""

    factor: float  # pooled observed / expected over the significant area
    radius_m: float
    days: int
    observed: int
    expected: float


def summary_from_knox(
    result: KnoxResult, distances: tuple[float, ...], days: tuple[int, ...], *, alpha: float = 0.05
) -> NearRepeatSummary | None:
    """The near-repeat area: the first distance and time bands significantly above chance.

    The radius is the upper bound of the last distance band, counted from the first one
    (« même lieu » included), whose first time band is significant with a ratio above 1;
    the duration likewise along the first distance band ([1 m, first bound)): pairs less than
    ``days`` days apart. The factor is the
    pooled ratio observed / expected over the rectangle they span.

    Returns
    -------
    NearRepeatSummary or None
        None when the first cell (same location or closest band, first days) is not
        significantly above chance.
    """
    p, ratio = result.p_value.to_numpy(), result.ratio.to_numpy()
    high = (p < alpha) & (ratio > 1)
    # Rows: 0 same location, 1.. the distance bands; columns: time bands, the last is "more".
    first_row = 1 if high[1, 0] else (0 if high[0, 0] else None)
    if first_row is None:
        return None
    r = 1
    while r + 1 < high.shape[0] and high[r + 1, 0]:
        r += 1
    t = 0
    while t + 1 < high.shape[1] - 1 and high[1, t + 1]:
        t += 1
    obs = result.observed.to_numpy()[: r + 1, : t + 1].sum()
    exp = result.expected.to_numpy()[: r + 1, : t + 1].sum()
    return NearRepeatSummary(
        factor=float(obs / exp) if exp > 0 else float("inf"),
        radius_m=float(distances[r - 1]) if r >= 1 else 0.0,
        days=int(days[t]),
        observed=int(obs),
        expected=float(exp),
    )
