"""Exact comparison of counts between two periods.

For each unit the counts are compared by the exact conditional test of a Poisson rate
ratio: given the total ``n = k1 + k0``, ``k1`` follows a binomial law
``B(n, t1·RR / (t1·RR + t0))`` where ``t1, t0`` are the period lengths in days. The
two-sided p-value is twice the smaller tail, the confidence interval of the ratio the
Clopper-Pearson interval transformed: the interval excludes 1 exactly when ``p < alpha``.
With many units compared at once, changes are flagged only when significant after the
Benjamini-Hochberg correction (false discovery rate ``alpha``); small counts follow the
privacy rule.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from analysis.fdr import fdr_from_pvalues
from core.privacy import secret_mask_from_counts


def rate_ratio_test(
    current: np.ndarray,
    reference: np.ndarray,
    *,
    days_current: float = 1.0,
    days_reference: float = 1.0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Exact conditional test of the ratio of two Poisson rates, vectorised.

    Parameters
    ----------
    current, reference : array of int
        Counts of the current and of the reference period.
    days_current, days_reference : float
        Exposures (period lengths); the ratio is of counts per day.
    alpha : float, default 0.05
        The interval is at level ``1 - alpha``.

    Returns
    -------
    DataFrame
        ``rapport`` (rate ratio, inf when the reference count is 0), ``ic_bas``,
        ``ic_haut`` (Clopper-Pearson, transformed) and ``p_valeur`` (two-sided, twice
        the smaller tail, capped at 1); NaN where both counts are 0.
    """
    k1 = np.asarray(current, dtype=float)
    k0 = np.asarray(reference, dtype=float)
    n = k1 + k0
    scale = days_reference / days_current
    pi0 = days_current / (days_current + days_reference)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(k0 > 0, k1 / k0 * scale, np.where(k1 > 0, np.inf, np.nan))
        lo_pi = np.where(k1 > 0, stats.beta.ppf(alpha / 2, k1, k0 + 1), 0.0)
        hi_pi = np.where(k0 > 0, stats.beta.ppf(1 - alpha / 2, k1 + 1, k0), 1.0)
        low = lo_pi / (1 - lo_pi) * scale
        high = np.where(hi_pi < 1, hi_pi / (1 - hi_pi) * scale, np.inf)
        lower_tail = stats.binom.cdf(k1, n, pi0)
        upper_tail = stats.binom.sf(k1 - 1, n, pi0)
        p = np.minimum(1.0, 2 * np.minimum(lower_tail, upper_tail))
    empty = n == 0
    return pd.DataFrame(
        {
            "rapport": ratio,
            "ic_bas": np.where(empty, np.nan, low),
            "ic_haut": np.where(empty, np.nan, high),
            "p_valeur": np.where(empty, np.nan, p),
        }
    )


def comparison_from_counts(
    current: pd.Series,
    reference: pd.Series,
    *,
    days_current: float,
    days_reference: float,
    labels: Mapping[str, str] | None = None,
    universe: pd.Index | None = None,
    alpha: float = 0.05,
    threshold: int | None = None,
) -> pd.DataFrame:
    """Compare counts per unit between two periods.

    Parameters
    ----------
    current, reference : Series of int
        Counts indexed by unit key.
    days_current, days_reference : float
        Period lengths in days.
    labels : mapping, optional
        Unit key to display name.
    universe : Index, optional
        Units to report (default: every key present in either period).
    alpha : float, default 0.05
        Level of the intervals and false discovery rate of the flags.
    threshold : int, optional
        Counts from 1 to ``threshold`` (default ``SETTINGS.privacy_threshold``) are secret (with secondary suppression across the
        two columns and the units, whose totals are published).

    Returns
    -------
    DataFrame
        One row per unit, largest significant changes first: ``cle``, ``libelle``,
        ``faits``, ``faits_reference``, ``evolution`` (relative change of the daily
        rate), the test columns of :func:`rate_ratio_test`, ``q_valeur`` (FDR),
        ``significatif``, ``sens`` (``hausse``, ``baisse`` or ``stable``) and ``secret``.
    """
    keys = universe if universe is not None else current.index.union(reference.index)
    k1 = current.reindex(keys, fill_value=0).fillna(0).astype("int64").to_numpy()
    k0 = reference.reindex(keys, fill_value=0).fillna(0).astype("int64").to_numpy()
    test = rate_ratio_test(k1, k0, days_current=days_current, days_reference=days_reference, alpha=alpha)
    out = pd.DataFrame(
        {
            "cle": np.asarray(keys, dtype=object),
            "libelle": [str(labels.get(k, k)) if labels else str(k) for k in keys],
            "faits": k1,
            "faits_reference": k0,
        }
    )
    out["evolution"] = test["rapport"].to_numpy() - 1.0
    out = pd.concat([out, test], axis=1)
    out["q_valeur"] = fdr_from_pvalues(test["p_valeur"].to_numpy())
    secret = secret_mask_from_counts(np.column_stack([k1, k0]), threshold=threshold).any(axis=1)
    sig = (out["q_valeur"] < alpha).to_numpy() & ~secret
    out["significatif"] = sig
    out["sens"] = np.where(sig & (out["rapport"] > 1), "hausse", np.where(sig, "baisse", "stable"))
    out["secret"] = secret
    strength = np.where(sig, -np.log10(np.maximum(out["p_valeur"].fillna(1.0), 1e-300)), 0.0)
    order = np.lexsort((-(k1 + k0), -strength))
    return out.iloc[order].reset_index(drop=True)


def published_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """A comparison table fit for publication: secret rows show "secret", not their figures."""
    out = table.drop(columns=["cle"]).astype(object)
    cols = ["faits", "faits_reference", "evolution", "rapport", "ic_bas", "ic_haut", "p_valeur", "q_valeur"]
    out.loc[table["secret"].to_numpy(), cols] = "secret"
    return out.drop(columns=["secret"])


def change_classes_from_comparison(
    table: pd.DataFrame, keys: pd.Series | pd.Index, *, hide_secret: bool = True
) -> np.ndarray:
    """Class of each unit for maps: ``hausse``, ``baisse``, ``stable`` or ``secret``.

    Parameters
    ----------
    table : DataFrame
        A comparison from :func:`comparison_from_counts`.
    keys : Series or Index
        Unit keys in the order wanted (units missing from ``table`` are ``stable``).
    hide_secret : bool, default True
        Secret units get the class ``secret`` (otherwise ``stable``: a secret unit is never
        flagged as a change).
    """
    t = table.set_index("cle")
    keys = pd.Series(np.asarray(keys, dtype=object))
    sens = keys.map(t["sens"]).fillna("stable").to_numpy(dtype=object)
    secret = keys.map(t["secret"]).fillna(False).to_numpy(dtype=bool) & hide_secret
    return np.where(secret, "secret", sens)
