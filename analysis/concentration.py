"""Concentration of incidents on places: top shares, Lorenz curves and Gini coefficients.

A *place* is an incident's location rounded to 10 m (one address, one shop, one car park);
the shares are computed over the places that had at least one incident. A *cell* is a square
of the 100 m grid covering the territory; the shares are computed over **every** cell whose
centre lies in the territory, including those without incidents (Weisburd's « law of crime
concentration » is about that share of the whole territory).

Pure numpy; coordinates in metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

PLACE_ROUNDING_M = 10.0
CELL_M = 100.0
TOP_SHARES = (0.01, 0.05, 0.10)


def place_keys_from_xy(x: np.ndarray, y: np.ndarray, *, size: float = PLACE_ROUNDING_M) -> np.ndarray:
    """One integer key per place: coordinates rounded to ``size`` metres (vectorised)."""
    ix = np.round(np.asarray(x, dtype=float) / size).astype(np.int64)
    iy = np.round(np.asarray(y, dtype=float) / size).astype(np.int64)
    return ix * 4_000_003 + iy  # 4,000,003 x 10 m > 40,000 km: no collision in France


def cell_count_in_territory(territory: shapely.Geometry, *, size: float = CELL_M) -> int:
    """Number of grid cells whose centre lies in the territory."""
    minx, miny, maxx, maxy = territory.bounds
    xs = np.arange(np.floor(minx / size) * size + size / 2, maxx, size)
    ys = np.arange(np.floor(miny / size) * size + size / 2, maxy, size)
    shapely.prepare(territory)
    total = 0
    for chunk in np.array_split(ys, max(1, len(ys) // 200)):  # rows by blocks: bounded memory
        gx, gy = np.meshgrid(xs, chunk)
        total += int(shapely.contains_xy(territory, gx.ravel(), gy.ravel()).sum())
    return total


def top_shares_from_counts(
    counts: np.ndarray, n_units: int, shares: tuple[float, ...] = TOP_SHARES
) -> np.ndarray:
    """Share of incidents held by the top ``share`` of ``n_units`` units.

    Parameters
    ----------
    counts : ndarray of int
        Counts of the units that have incidents (zeros may be left out).
    n_units : int
        Number of units in all (units without incidents included).
    shares : tuple of float
        Fractions of units (0.01 = the top 1 %).

    Returns
    -------
    ndarray
        One share of incidents (0..1) per fraction; the number of top units is
        ``ceil(share * n_units)``.
    """
    c = np.sort(np.asarray(counts, dtype=float))[::-1]
    total = c.sum()
    cum = np.concatenate([[0.0], np.cumsum(c)])
    out = []
    for s in shares:
        k = min(int(np.ceil(s * n_units)), len(c))
        out.append(cum[k] / total if total else np.nan)
    return np.array(out)


def lorenz_from_counts(counts: np.ndarray, n_units: int, *, points: int = 101) -> pd.DataFrame:
    """Concentration curve: share of incidents held by the top x % of units.

    Returns
    -------
    DataFrame
        ``part_lieux`` (0..1, ``points`` steps) and ``part_faits`` (0..1), the busiest units first.
    """
    c = np.sort(np.asarray(counts, dtype=float))[::-1]
    total = c.sum()
    cum = np.concatenate([[0.0], np.cumsum(c), np.full(max(n_units - len(c), 0), c.sum())])
    frac = np.linspace(0, 1, points)
    k = np.round(frac * n_units).astype(np.int64)
    return pd.DataFrame(
        {"part_lieux": frac, "part_faits": cum[np.minimum(k, len(cum) - 1)] / total if total else np.nan}
    )


def gini_from_counts(counts: np.ndarray, n_units: int) -> float:
    """Gini coefficient of the counts over ``n_units`` units (missing units count 0).

    0: every unit has the same count; close to 1: everything on one unit.
    """
    c = np.sort(np.asarray(counts, dtype=float))
    n = int(n_units)
    total = c.sum()
    if n <= 1 or total == 0:
        return float("nan")
    full = np.concatenate([np.zeros(max(n - len(c), 0)), c])  # increasing
    i = np.arange(1, n + 1)
    return float((2 * (i * full).sum()) / (n * total) - (n + 1) / n)


@dataclass
class Concentration:
    """Concentration of one set of incidents."""

    n_incidents: int
    n_places: int
    places_top: np.ndarray  # shares of incidents held by the top 1/5/10 % of places
    places_gini: float
    n_cells: int  # 100 m cells with at least one incident
    cells_for: np.ndarray  # share of those cells holding half, a quarter of the incidents (CELL_SHARES)
    cells_gini: float  # over those cells
    repeat_places: int  # places with two incidents or more
    repeat_share: float  # share of incidents at such places


#: Shares of the incidents for which the share of cells that hold them is given (half, a quarter).
CELL_SHARES = (0.5, 0.25)


def cells_holding_from_counts(counts: np.ndarray, shares: tuple[float, ...] = CELL_SHARES) -> np.ndarray:
    """The share of the cells (those with at least one incident) that hold each share of the
    incidents: the fewest busiest cells whose incidents reach it, over the cells counted.

    Over the occupied cells, not every cell of the territory: divided by a territory's
    hundreds of thousands of cells, a small selection's « 1 % of the cells » holds all of it.
    """
    c = np.sort(np.asarray(counts, dtype=float))[::-1]
    total = c.sum()
    if len(c) == 0 or total == 0:
        return np.full(len(shares), np.nan)
    cumulative = np.cumsum(c)
    return np.array([(np.searchsorted(cumulative, s * total - 1e-9) + 1) / len(c) for s in shares])


def concentration_from_xy(x: np.ndarray, y: np.ndarray, n_cells: int) -> Concentration:
    """Concentration on places (10 m) and on 100 m cells of a set of incidents.

    Parameters
    ----------
    x, y : ndarray
        Coordinates in metres.
    n_cells : int
        Cells of the territory (:func:`cell_count_in_territory`; the cell measures are over the
        cells with at least one incident, see :func:`cells_holding_from_counts`).
    """
    places = pd.Series(place_keys_from_xy(x, y)).value_counts().to_numpy()
    cells = pd.Series(place_keys_from_xy(x, y, size=CELL_M)).value_counts().to_numpy()
    repeat = places[places >= 2]
    return Concentration(
        n_incidents=len(x),
        n_places=len(places),
        places_top=top_shares_from_counts(places, len(places)),
        places_gini=gini_from_counts(places, len(places)),
        n_cells=len(cells),
        cells_for=cells_holding_from_counts(cells),
        cells_gini=gini_from_counts(cells, len(cells)),
        repeat_places=len(repeat),
        repeat_share=float(repeat.sum() / len(x)) if len(x) else float("nan"),
    )


def repeat_places_from_xy(x: np.ndarray, y: np.ndarray, *, minimum: int = 2) -> pd.DataFrame:
    """Places hit ``minimum`` times or more: their rounded location and their incidents.

    Returns
    -------
    DataFrame
        ``lieu`` (key), ``x``, ``y`` (the place's rounded coordinates), ``faits``, and
        ``positions`` (the row positions of its incidents), busiest first.
    """
    keys = place_keys_from_xy(x, y)
    frame = pd.DataFrame({"lieu": keys, "pos": np.arange(len(keys))})
    grouped = frame.groupby("lieu")["pos"].agg(list)
    counts = grouped.map(len)
    grouped = grouped[counts >= minimum]
    out = pd.DataFrame({"lieu": grouped.index, "positions": grouped.to_numpy()})
    out["faits"] = out["positions"].map(len)
    first = out["positions"].map(lambda p: p[0]).to_numpy(dtype=np.int64)
    out["x"] = np.round(np.asarray(x, dtype=float)[first] / PLACE_ROUNDING_M) * PLACE_ROUNDING_M
    out["y"] = np.round(np.asarray(y, dtype=float)[first] / PLACE_ROUNDING_M) * PLACE_ROUNDING_M
    return out.sort_values("faits", ascending=False, kind="stable").reset_index(drop=True)
