"""Follow-up every two months: a period against a reference period, with exact tests.

For each unit (commune, EPCI, priority zone, force, offence) the counts of the two periods
are compared by the exact conditional test of a Poisson rate ratio: given the total
``n = k1 + k0``, ``k1`` follows a binomial law ``B(n, t1·RR / (t1·RR + t0))`` where
``t1, t0`` are the period lengths in days. The two-sided p-value is twice the smaller
tail, the confidence interval of the ratio the Clopper-Pearson interval transformed:
the interval excludes 1 exactly when ``p < alpha``. With many units compared at once,
changes are flagged only when significant after the Benjamini-Hochberg correction
(false discovery rate ``alpha``); small counts follow the privacy rule.

Pure computation: no Streamlit here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats

from analysis.fdr import fdr_from_pvalues
from core import model as m
from core.errors import DelinquanceError, ParameterError
from core.formatting import fmt_date, fmt_month_name, fmt_period
from core.model import has_position
from core.privacy import is_secret, secret_mask_from_counts
from core.vocabulary import FORCE_LABELS

#: Dimensions a comparison can be split by (key -> French label).
DIMENSIONS = {
    "commune": "Commune",
    "epci": "EPCI",
    "zone": "Zone prioritaire",
    "force": "Force",
    "infraction": "Infraction",
}


class PeriodError(DelinquanceError):
    """A period that cannot be used (reversed dates)."""


class PeriodNotCoveredError(PeriodError):
    """The data do not cover a period asked for."""


@dataclass(frozen=True)
class Period:
    """A period of whole days, ``start`` and ``end`` included."""

    start: pd.Timestamp
    end: pd.Timestamp

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", pd.Timestamp(self.start).normalize())
        object.__setattr__(self, "end", pd.Timestamp(self.end).normalize())
        if self.end < self.start:
            raise PeriodError("La fin de la période précède son début : inversez les deux dates.")

    @property
    def days(self) -> int:
        """Length in days."""
        return int((self.end - self.start).days) + 1

    @property
    def whole_months(self) -> bool:
        """True when the period starts on a first of month and ends on a last."""
        return self.start.day == 1 and (self.end + pd.Timedelta(days=1)).day == 1

    @property
    def label(self) -> str:
        """French label: ``novembre – décembre 2025`` for whole months, else the dates."""
        if not self.whole_months:
            return fmt_period(self.start, self.end)
        a, b = fmt_month_name(self.start), fmt_month_name(self.end)
        if (self.start.year, self.start.month) == (self.end.year, self.end.month):
            return f"{a} {self.start.year}"
        if self.start.year == self.end.year:
            return f"{a} – {b} {self.end.year}"
        return f"{a} {self.start.year} – {b} {self.end.year}"

    def shifted(self, *, years: int = 0, months: int = 0) -> Period:
        """The same calendar period moved by whole years or months (month ends kept)."""
        offset = pd.DateOffset(years=years, months=months)
        start = self.start + offset
        end = self.end + pd.Timedelta(days=1) + offset - pd.Timedelta(days=1)
        return Period(start, end)

    def mask(self, dates: pd.Series) -> np.ndarray:
        """Which dates fall in the period."""
        return ((dates >= self.start) & (dates < self.end + pd.Timedelta(days=1))).to_numpy(dtype=bool)


def default_periods(last_day: dt.date | pd.Timestamp, *, months: int = 2) -> tuple[Period, Period, Period]:
    """The last ``months`` full months up to ``last_day``, the same months a year earlier,
    and the ``months`` months before.

    Parameters
    ----------
    last_day : date
        Last day covered by the data.
    months : int, default 2
        Length of the follow-up period in months (two for the bimonthly review).

    Returns
    -------
    current, year_before, previous : Period
    """
    last = pd.Timestamp(last_day).normalize()
    month_end = last + pd.offsets.MonthEnd(0)
    end = last if last == month_end else last.replace(day=1) - pd.Timedelta(days=1)
    start = (end.replace(day=1) - pd.DateOffset(months=months - 1)).normalize()
    current = Period(start, end)
    refs = reference_periods(current)
    return current, refs["annee"], refs["precedente"]


def reference_periods(current: Period) -> dict[str, Period]:
    """The references of a period: the same days a year earlier and the period just before.

    When ``current`` is made of whole months, "just before" is the same number of whole
    months (two months before November–December is September–October); otherwise the
    same number of days.
    """
    if current.whole_months:
        n = (current.end.year - current.start.year) * 12 + current.end.month - current.start.month + 1
        before = current.shifted(months=-n)
    else:
        before = Period(current.start - pd.Timedelta(days=current.days), current.start - pd.Timedelta(days=1))
    return {"annee": current.shifted(years=-1), "precedente": before}


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


def keys_for_incidents(
    incidents: gpd.GeoDataFrame,
    dimension: str,
    *,
    communes: pd.DataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
) -> pd.Series:
    """The unit of each incident for a dimension of :data:`DIMENSIONS`.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents (for ``zone``: in the CRS of ``zones``).
    dimension : str
        ``commune``, ``epci``, ``zone``, ``force`` or ``infraction``.
    communes : DataFrame, optional
        Communes with ``code`` and ``epci_code`` (for ``epci``).
    zones : GeoDataFrame, optional
        Priority zones with their ``id`` (for ``zone``); incidents outside every zone get NaN.

    Returns
    -------
    Series
        Indexed like ``incidents``.
    """
    if dimension == "commune":
        return incidents[m.COMMUNE].astype(object)
    if dimension == "force":
        return incidents[m.FORCE].astype(object)
    if dimension == "infraction":
        return incidents[m.OFFENCE].astype(object)
    if dimension == "epci":
        if communes is None:
            raise ParameterError("Les communes sont nécessaires pour comparer par EPCI.")
        epci = dict(zip(communes["code"], communes["epci_code"], strict=True))
        return incidents[m.COMMUNE].astype(object).map(epci)
    if dimension == "zone":
        out = pd.Series(np.nan, index=incidents.index, dtype=object)
        if zones is None or zones.empty or incidents.empty:
            return out
        pts = incidents.geometry
        ok = has_position(pts).to_numpy()
        tree_idx = zones.sindex.query(pts[ok].to_numpy(), predicate="within")
        ids = zones["id"].to_numpy()
        pos = np.flatnonzero(ok)[tree_idx[0]]
        out.iloc[pos] = ids[tree_idx[1]]
        return out
    raise ParameterError(f"Dimension inconnue : {dimension!r} (attendu : {', '.join(DIMENSIONS)}).")


@dataclass
class Followup:
    """Everything the "Suivi" page and the report show for one pair of periods."""

    current: Period
    references: dict[str, Period]  # "annee" (a year earlier), "precedente" (the period before)
    totals: pd.DataFrame  # one row per reference: the overall comparison
    tables: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)  # (reference, dimension)
    zones_period: Period | None = None
    n_zones: int = 0
    skipped: dict[str, Period] = field(default_factory=dict)  # references the data do not cover


REFERENCE_LABELS = {"annee": "même période un an plus tôt", "precedente": "période précédente"}


def followup_from_incidents(
    incidents: gpd.GeoDataFrame,
    *,
    current: Period,
    references: Mapping[str, Period],
    communes: pd.DataFrame,
    zones: gpd.GeoDataFrame | None = None,
    zones_period: Period | None = None,
    epci_names: Mapping[str, str] | None = None,
    covered: Period | None = None,
    alpha: float = 0.05,
    threshold: int | None = None,
) -> Followup:
    """Compare the current period with each reference, overall and by every dimension.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents already filtered by offence, place and force (all dates; for zones, in
        the CRS of ``zones``).
    current : Period
        Period followed.
    references : mapping of str to Period
        Reference periods by key (see :data:`REFERENCE_LABELS`). A reference the data do
        not cover is left out and listed in ``skipped``: zeros there would mean "no data",
        not "no incident".
    communes : DataFrame
        Communes of the territory (``code``, ``nom``, ``epci_code``); every commune is
        reported, with zeros.
    zones : GeoDataFrame, optional
        Priority zones (``id``, ``rang``, ``communes``) fixed before the periods compared.
    zones_period : Period, optional
        Period the zones were detected on (reported).
    epci_names : mapping, optional
        EPCI code to name.
    covered : Period, optional
        Dates the data set covers, before any filter (default: first to last incident of
        ``incidents``). Pass it when ``incidents`` are filtered: an offence first recorded
        late is a real zero before, not missing data.
    alpha, threshold
        See :func:`comparison_from_counts`.

    Raises
    ------
    PeriodNotCoveredError
        No incident, the current period outside the data, or no reference covered.
    """
    dates = incidents[m.START]
    if dates.empty:
        raise PeriodNotCoveredError(
            "Aucun fait sélectionné : élargissez les filtres (infractions, lieux, forces)."
        )
    span = covered if covered is not None else Period(dates.min(), dates.max())
    first, last = span.start, span.end
    if current.start < first or current.start > last:
        raise PeriodNotCoveredError(
            f"Les données couvrent du {fmt_date(first)} au {fmt_date(last)} : la période suivie "
            f"({current.label}) doit être comprise entre ces dates."
        )
    skipped = {k: p for k, p in references.items() if p.start < first or p.end > last}
    references = {k: p for k, p in references.items() if k not in skipped}
    if not references:
        raise PeriodNotCoveredError(
            f"Les données commencent le {fmt_date(first)} : aucune période de référence "
            f"({', '.join(p.label for p in skipped.values())}) n'est couverte. Choisissez une période "
            "suivie plus récente ou importez un historique plus long."
        )
    masks = {"courante": current.mask(dates)} | {k: p.mask(dates) for k, p in references.items()}
    labels = {
        "commune": dict(zip(communes["code"], communes["nom"], strict=True)),
        "epci": dict(epci_names or {}),
        "zone": {}
        if zones is None
        else {z.id: f"Zone {z.rang} – {z.communes}" for z in zones[["id", "rang", "communes"]].itertuples()},
        "force": dict(FORCE_LABELS),
        "infraction": {},
    }
    universes = {"commune": pd.Index(communes["code"].astype(object))}
    if zones is not None and not zones.empty:
        universes["zone"] = pd.Index(zones["id"].astype(object))
    rows = []
    tables: dict[tuple[str, str], pd.DataFrame] = {}
    n_cur = int(masks["courante"].sum())
    for ref_key, ref in references.items():
        n_ref = int(masks[ref_key].sum())
        t = rate_ratio_test([n_cur], [n_ref], days_current=current.days, days_reference=ref.days, alpha=alpha)
        rows.append(
            {
                "reference": ref_key,
                "libelle": REFERENCE_LABELS.get(ref_key, ref_key),
                "periode_reference": ref.label,
                "faits": n_cur,
                "faits_reference": n_ref,
                "evolution": float(t["rapport"].iloc[0]) - 1.0,
                **{c: float(t[c].iloc[0]) for c in ("rapport", "ic_bas", "ic_haut", "p_valeur")},
                "significatif": bool(t["p_valeur"].iloc[0] < alpha),
                "secret": bool(
                    is_secret(n_cur, threshold=threshold) or is_secret(n_ref, threshold=threshold)
                ),
            }
        )
    for dim in DIMENSIONS:
        if dim == "zone" and (zones is None or zones.empty):
            continue
        keys = keys_for_incidents(incidents, dim, communes=communes, zones=zones)
        cur = keys[masks["courante"]].value_counts()
        for ref_key, ref in references.items():
            tables[(ref_key, dim)] = comparison_from_counts(
                cur,
                keys[masks[ref_key]].value_counts(),
                days_current=current.days,
                days_reference=ref.days,
                labels=labels[dim],
                universe=universes.get(dim),
                alpha=alpha,
                threshold=threshold,
            )
    return Followup(
        current=current,
        references=dict(references),
        totals=pd.DataFrame(rows),
        tables=tables,
        zones_period=zones_period,
        n_zones=0 if zones is None else len(zones),
        skipped=skipped,
    )
