"""Did an action work? Before/after counts with displacement: WDD, WDQ and relative changes.

Three areas are counted over two windows of equal length, before and after the start of the
action: the **target** (where the action took place), the **buffer** (a ring around it, where
offences could move to, or where the benefits could spread) and a **control** area (elsewhere,
to tell the action from the general trend).

- The **weighted displacement difference** (WDD, Wheeler & Ratcliffe 2018, *Crime Science* 7:7)
  adds the difference-in-differences of the target and of the buffer against their controls,
  ``WDD = (T1 - T0) - (Ct1 - Ct0) + (D1 - D0) - (Cd1 - Cd0)``; with Poisson counts its variance
  is the sum of the counts. With one control area for both (the usual case here) the control
  counts twice: ``WDD = ΔT + ΔD - 2 ΔC`` and ``Var = T0 + T1 + D0 + D1 + 4 (C0 + C1)``. A negative
  WDD is a fall of crime net of the trend and of displacement; ``z = WDD / sqrt(Var)``, p
  two-sided, 95 % interval ``WDD ± 1.96 sqrt(Var)``. The test assumes the same change *in
  counts* in every area without the action: a control area much busier than the target breaks
  that (read the relative changes then).
- The **weighted displacement quotient** (WDQ, Bowers & Johnson 2003) relates the change of the
  buffer to that of the target, both relative to the control:
  ``WDQ = (D1/C1 - D0/C0) / (T1/C1 - T0/C0)``. It reads only when the target fell relative to
  the control (denominator < 0): WDQ > 0 is a diffusion of benefits (> 1: larger than the
  direct effect), WDQ < 0 a displacement (< -1: larger than the direct effect, a net loss).
- **Relative changes**: each area's after/before ratio with the exact conditional test of the
  Suivi page (:func:`analysis.rate_tests.rate_ratio_test`), and the target against the control
  (ratio of ratios) with Fisher's exact test, conditional on the margins of the 2 x 2 table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.rate_tests import rate_ratio_test

#: The buffer's change relative to the control below which there is neither displacement nor
#: diffusion (± 5 %).
NEUTRAL_BAND = 0.05

AREAS = ("cible", "tampon", "temoin")
AREA_LABELS = {"cible": "Zone cible", "tampon": "Zone tampon", "temoin": "Zone témoin"}


@dataclass(frozen=True)
class WddResult:
    """The weighted displacement difference and its test (arrays for vectorised use)."""

    wdd: np.ndarray
    variance: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


def wdd_from_counts(
    target: tuple[np.ndarray, np.ndarray],
    buffer: tuple[np.ndarray, np.ndarray],
    control: tuple[np.ndarray, np.ndarray],
    buffer_control: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    level: float = 0.95,
) -> WddResult:
    """Weighted displacement difference test (Wheeler & Ratcliffe 2018), vectorised.

    Parameters
    ----------
    target, buffer, control : tuple of (before, after)
        Counts (scalars or arrays of the same shape) of the target, of its buffer and of the
        control area of the target.
    buffer_control : tuple of (before, after), optional
        A separate control area for the buffer; without it the target's control serves both
        and counts twice in the estimate and four times in the variance.
    level : float, default 0.95
        Level of the interval.

    Returns
    -------
    WddResult
        ``wdd`` (negative: a net fall), its Poisson ``variance``, ``z``, the two-sided
        ``p_value`` and the interval (NaN where every count is 0).
    """
    t0, t1 = (np.asarray(v, dtype=float) for v in target)
    d0, d1 = (np.asarray(v, dtype=float) for v in buffer)
    c0, c1 = (np.asarray(v, dtype=float) for v in control)
    if buffer_control is None:
        wdd = (t1 - t0) + (d1 - d0) - 2 * (c1 - c0)
        var = t0 + t1 + d0 + d1 + 4 * (c0 + c1)
    else:
        e0, e1 = (np.asarray(v, dtype=float) for v in buffer_control)
        wdd = (t1 - t0) - (c1 - c0) + (d1 - d0) - (e1 - e0)
        var = t0 + t1 + d0 + d1 + c0 + c1 + e0 + e1
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(var)
        z = np.where(var > 0, wdd / se, np.nan)
    p = np.where(np.isfinite(z), 2 * stats.norm.sf(np.abs(z)), np.nan)
    q = stats.norm.ppf(0.5 + level / 2)
    return WddResult(wdd=wdd, variance=var, z=z, p_value=p, ci_low=wdd - q * se, ci_high=wdd + q * se)


@dataclass(frozen=True)
class WdqResult:
    """The weighted displacement quotient and its reading."""

    success: float  # T1/C1 - T0/C0: negative when the target fell relative to the control
    buffer_change: float  # D1/C1 - D0/C0
    wdq: float  # NaN when it does not read
    reading: str  # "deplacement", "diffusion", "neutre", "sans_baisse", "indetermine"


WDQ_READINGS = {
    "deplacement": "déplacement : la zone tampon a augmenté par rapport à la zone témoin",
    "deplacement_net": "déplacement plus fort que la baisse obtenue dans la cible (perte nette)",
    "diffusion": "diffusion des bénéfices : la zone tampon a baissé elle aussi",
    "diffusion_forte": "diffusion des bénéfices plus forte que l'effet direct",
    "neutre": "ni déplacement ni diffusion : la zone tampon a suivi la zone témoin (± 5 %)",
    "sans_baisse": "pas de baisse de la cible par rapport à la zone témoin : le quotient ne se lit pas",
    "indetermine": "effectifs nuls dans la zone témoin ou la zone tampon : le quotient ne se calcule pas",
}


def wdq_from_counts(target: tuple[int, int], buffer: tuple[int, int], control: tuple[int, int]) -> WdqResult:
    """Weighted displacement quotient (Bowers & Johnson 2003) and its reading.

    Parameters
    ----------
    target, buffer, control : tuple of (before, after)
        Counts of the three areas.

    Returns
    -------
    WdqResult
        The reading is a key of :data:`WDQ_READINGS`.
    """
    (t0, t1), (d0, d1), (c0, c1) = target, buffer, control
    if min(c0, c1) <= 0 or d0 <= 0:
        return WdqResult(np.nan, np.nan, np.nan, "indetermine")
    success = t1 / c1 - t0 / c0
    change = d1 / c1 - d0 / c0
    if success >= 0:
        return WdqResult(success, change, np.nan, "sans_baisse")
    wdq = change / success
    relative = (d1 / c1) / (d0 / c0) - 1.0
    if abs(relative) <= NEUTRAL_BAND:
        reading = "neutre"
    elif wdq < 0:
        reading = "deplacement_net" if wdq < -1 else "deplacement"
    else:
        reading = "diffusion_forte" if wdq > 1 else "diffusion"
    return WdqResult(success, change, wdq, reading)


def relative_changes_from_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """After/before ratio of each area with the exact conditional test, and target vs control.

    Parameters
    ----------
    counts : DataFrame
        Indexed by area (``cible``, ``tampon``, ``temoin``), columns ``avant`` and ``apres``.

    Returns
    -------
    DataFrame
        One row per area plus ``cible_vs_temoin``: ``rapport`` (after/before; for the last row,
        the ratio of the target's ratio to the control's), ``ic_bas``, ``ic_haut``, ``p_valeur``.
    """
    tests = rate_ratio_test(counts["apres"].to_numpy(), counts["avant"].to_numpy())
    tests.index = counts.index
    t0, t1 = counts.loc["cible", ["avant", "apres"]].astype(int)
    c0, c1 = counts.loc["temoin", ["avant", "apres"]].astype(int)
    table = np.array([[t1, t0], [c1, c0]])
    if table.sum(axis=1).min() > 0 and table.sum(axis=0).min() > 0:
        odds = stats.contingency.odds_ratio(table, kind="sample")
        ci = stats.contingency.odds_ratio(table, kind="conditional").confidence_interval(0.95)
        p = stats.fisher_exact(table).pvalue
        tests.loc["cible_vs_temoin"] = [odds.statistic, ci.low, ci.high, p]
    else:
        tests.loc["cible_vs_temoin"] = [np.nan] * 4
    return tests


@dataclass
class Evaluation:
    """Counts and tests of one evaluation."""

    counts: pd.DataFrame  # index AREAS; avant, apres
    wdd: WddResult
    wdq: WdqResult
    changes: pd.DataFrame  # from relative_changes_from_counts


def evaluation_from_counts(counts: pd.DataFrame) -> Evaluation:
    """All the figures of an evaluation from the 3 x 2 table of counts.

    Parameters
    ----------
    counts : DataFrame
        Indexed by ``cible``, ``tampon``, ``temoin``; columns ``avant``, ``apres`` (ints).
    """
    pair = {a: (int(counts.loc[a, "avant"]), int(counts.loc[a, "apres"])) for a in AREAS}
    return Evaluation(
        counts=counts,
        wdd=wdd_from_counts(pair["cible"], pair["tampon"], pair["temoin"]),
        wdq=wdq_from_counts(pair["cible"], pair["tampon"], pair["temoin"]),
        changes=relative_changes_from_counts(counts),
    )
