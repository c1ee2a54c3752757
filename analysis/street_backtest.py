"""The zones back-test with street segments as the unit: « which streets will be hit next
month? », scored by the share of the network's **length** instead of the share of its area.

Each incident is on a segment (:func:`analysis.streets.counts_by_segment`'s snapping) or on
none. For each rolling window (:func:`analysis.backtest.rolling_windows`) every candidate scores
the segments on the incidents before the forecast only, ranks them (ties by the segment's
index), and takes the busiest ones: the method up to a share of the network's length, the baseline
as much length as the method took; the horizon scores them:

* hit rate = incidents of the horizon on the chosen segments / incidents of the horizon on the
  network; length share = their length / the network's; PAI = hit rate / length share;
* PEI = incidents caught / the most that segments of the same total length could catch, that
  most taken as the fractional-knapsack bound (segments by horizon incidents per metre, the
  last one counted in part): an upper bound, so the PEI shown is a lower bound of the exact one.

Candidates: ``troncons_recurrents`` (the product's default zones on segments: every incident of
the last ``history_months`` months, weighing half every ``half_life`` months) and
``troncons_precedents`` (the baseline: the segments with the most incidents in the training
window, ties by the whole past).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.backtest import Window
from analysis.cell_scores import ranking, recurrence_weights
from analysis.zone_detectors import ZoneSettings

#: The recurrent candidate's parameters: those of the Zones page's default method.
HALF_LIFE, HISTORY_MONTHS = ZoneSettings().half_life, ZoneSettings().history_months
#: The candidate whose length the others take (the method; the baseline at the same length).
LEAD = "troncons_recurrents"

#: Candidate -> French label.
SEGMENT_CANDIDATES: dict[str, str] = {
    "troncons_recurrents": "Tronçons récurrents (méthode)",
    "troncons_precedents": "Tronçons les plus touchés de la fenêtre (référence)",
}


def segment_scores(
    segment: np.ndarray,
    dates: np.ndarray,
    n_segments: int,
    window: Window,
    *,
    half_life: float = HALF_LIFE,
    history_months: int = HISTORY_MONTHS,
) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Each candidate's score per segment and its tie-break, from the incidents before the
    window's forecast only."""
    t = pd.to_datetime(np.asarray(dates))
    on = segment >= 0
    before = np.asarray(t < window.train_end) & on
    train = before & np.asarray(t >= window.train_start)
    weight = recurrence_weights(dates, end=window.train_end, half_life=half_life, months=history_months)
    keep = on & (weight > 0)
    recurrent = np.bincount(segment[keep], weights=weight[keep], minlength=n_segments)
    busiest = np.bincount(segment[train], minlength=n_segments).astype(float)
    past = np.bincount(segment[before], minlength=n_segments).astype(float)
    return {"troncons_recurrents": (recurrent, None), "troncons_precedents": (busiest, past)}


def first_by_length(order: np.ndarray, lengths: np.ndarray, budget: float) -> np.ndarray:
    """The first segments of ``order`` whose lengths add up to at most ``budget`` metres."""
    cum = np.cumsum(lengths[order])
    return order[: int(np.searchsorted(cum, budget, side="right"))]


def best_by_length(horizon: np.ndarray, lengths: np.ndarray, budget: float) -> float:
    """The fractional-knapsack bound of the incidents segments of ``budget`` metres can hold."""
    density = np.where(lengths > 0, horizon / np.maximum(lengths, 1e-9), 0.0)
    order = np.argsort(-density, kind="stable")
    cum_len = np.cumsum(lengths[order])
    cum_hits = np.cumsum(horizon[order])
    k = int(np.searchsorted(cum_len, budget, side="right"))
    full = float(cum_hits[k - 1]) if k else 0.0
    if k < len(order):
        used = float(cum_len[k - 1]) if k else 0.0
        full += density[order[k]] * (budget - used)
    return full


def street_backtest(
    segment: np.ndarray,
    dates: np.ndarray,
    lengths: np.ndarray,
    windows: list[Window],
    shares: tuple[float, ...],
    *,
    half_life: float = HALF_LIFE,
    history_months: int = HISTORY_MONTHS,
) -> pd.DataFrame:
    """Scores of every candidate at every length share on every window.

    Parameters
    ----------
    segment : ndarray of int
        Each incident's segment (-1: on none).
    dates : ndarray of datetime64
        Each incident's date.
    lengths : ndarray
        Each segment's length (metres).
    windows : list of Window
        The rolling windows.
    shares : tuple of float
        Shares of the network's length to choose.
    half_life, history_months : float, int
        The recurrent candidate's parameters (those of the Zones page's default method).

    Returns
    -------
    DataFrame
        ``fenetre``, ``part_visee``, ``candidat``, ``faits`` (horizon, on the network),
        ``faits_captes``, ``taux_de_reussite``, ``part_longueur``, ``pai``, ``pei``.
    """
    segment = np.asarray(segment, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=float)
    total = float(lengths.sum())
    n = len(lengths)
    t = pd.to_datetime(np.asarray(dates))
    rows = []
    for w in windows:
        in_horizon = np.asarray((t >= w.train_end) & (t < w.horizon_end)) & (segment >= 0)
        horizon = np.bincount(segment[in_horizon], minlength=n).astype(float)
        incidents = float(horizon.sum())
        scores = segment_scores(segment, dates, n, w, half_life=half_life, history_months=history_months)
        orders = {name: ranking(s, tie_break=tie) for name, (s, tie) in scores.items()}
        for share in shares:
            # The method takes its segments up to the share; the baseline as much length as it took.
            budget = share * total
            for name, order in orders.items():
                positive = order[scores[name][0][order] > 0]
                chosen = first_by_length(positive, lengths, budget)
                if name == LEAD:
                    budget = float(lengths[chosen].sum())
                    best = best_by_length(horizon, lengths, budget)
                caught = float(horizon[chosen].sum())
                part = float(lengths[chosen].sum() / total) if total else 0.0
                rate = caught / incidents if incidents else np.nan
                rows.append(
                    {
                        "fenetre": w.label,
                        "part_visee": share,
                        "candidat": name,
                        "faits": int(incidents),
                        "faits_captes": int(caught),
                        "taux_de_reussite": rate,
                        "part_longueur": part,
                        "pai": rate / part if part and incidents else np.nan,
                        "pei": caught / best if best > 0 else np.nan,
                    }
                )
    return pd.DataFrame(rows)
