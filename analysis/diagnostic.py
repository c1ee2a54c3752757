"""The territorial diagnostic: rates per commune, breakdowns, trends, hour profiles.

Pure computation on incident tables (see :mod:`core.model`); no Streamlit here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from core import model as m
from core.errors import ParameterError
from core.formatting import cell_decimal
from core.model import IncidentFilter, filter_incidents
from core.privacy import secret_mask_from_counts
from core.vocabulary import AGE_CLASSES, SEXES

WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
HOURS_PER_WEEK = 168
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def rates_by_commune(
    incidents: pd.DataFrame, communes: gpd.GeoDataFrame, *, threshold: int | None = None
) -> gpd.GeoDataFrame:
    """Count incidents per commune and the rate per 1,000 inhabitants.

    Parameters
    ----------
    incidents : DataFrame
        Incidents (column ``code_commune``).
    communes : GeoDataFrame
        Communes (``code``, ``nom``, ``population``, geometry).
    threshold : int, optional
        Statistical-secrecy threshold (default from settings).

    Returns
    -------
    GeoDataFrame
        Indexed like ``communes``: ``code``, ``nom``, ``population``, ``faits``,
        ``taux_pour_mille`` (NaN without population) and ``secret`` (True where the
        count must not be published), plus the geometry.
    """
    counts = incidents[m.COMMUNE].value_counts()
    faits = communes["code"].map(counts).fillna(0).astype("int64")
    pop = communes["population"].astype(float)
    rate = np.where(pop > 0, faits / pop.where(pop > 0) * 1000.0, np.nan)
    out = communes[["code", "nom", "population"]].copy()
    out["faits"] = faits.to_numpy()
    out["taux_pour_mille"] = rate
    out["secret"] = secret_mask_from_counts(out["faits"].to_numpy(), threshold=threshold)
    return gpd.GeoDataFrame(out, geometry=communes.geometry, crs=communes.crs)


CLASS_METHODS: tuple[str, ...] = ("fisher_jenks", "quantiles", "equal", "headtail")


def fisher_jenks_bins(values: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of the Fisher-Jenks natural-breaks classes (exact, vectorised).

    The classes minimise the total within-class sum of squared deviations (Fisher 1958, Jenks
    1977), by dynamic programming over the sorted values as ``mapclassify.FisherJenks`` does,
    with one numpy operation per class instead of a Python double loop (mapclassify without
    numba takes about a second on the Nord's 648 communes; this takes milliseconds).

    Parameters
    ----------
    values : ndarray of float
        Finite values (at least ``k`` distinct ones).
    k : int
        Number of classes.

    Returns
    -------
    ndarray
        The ``k`` class upper bounds, the last one the maximum (mapclassify's ``bins``).
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = x.size
    s1 = np.concatenate([[0.0], np.cumsum(x)])
    s2 = np.concatenate([[0.0], np.cumsum(x * x)])
    i = np.arange(n)[:, None]  # first value of the last class
    j = np.arange(n)[None, :]  # last value of the last class
    with np.errstate(invalid="ignore", divide="ignore"):
        ssd = (s2[j + 1] - s2[i]) - (s1[j + 1] - s1[i]) ** 2 / (j - i + 1)
    ssd = np.where(i <= j, ssd, np.inf)
    cost = ssd[0].copy()  # one class: values 0..j
    starts = []
    for _ in range(1, k):
        previous = np.concatenate([[np.inf], cost[:-1]])  # best cost of values 0..i-1
        total = previous[:, None] + ssd
        start = np.argmin(total, axis=0)  # first minimum: the smallest start, as mapclassify
        cost = total[start, np.arange(n)]
        starts.append(start)
    bounds = [n - 1]
    end = n - 1
    for start in reversed(starts):
        s = int(start[end])
        bounds.append(s - 1)
        end = s - 1
    return x[np.array(bounds[::-1])]


def class_breaks_from_values(
    values: Sequence[float] | np.ndarray, *, k: int = 5, method: str = "fisher_jenks"
) -> np.ndarray:
    """Class boundaries for a choropleth, from mapclassify's classifiers.

    Parameters
    ----------
    values : array-like of float
        Values to classify (NaN ignored). In the published view, only published values:
        every boundary is then a published value or derives from published values only.
    k : int, default 5
        Number of classes wanted (fewer when values have fewer distinct levels; head/tail
        breaks choose their own number).
    method : {"fisher_jenks", "quantiles", "equal", "headtail"}
        Natural breaks (Fisher-Jenks, the desktop tools' default), quantiles (same number of
        communes per class), equal intervals, or head/tail breaks (for heavy-tailed rates:
        the values above the mean are split again and again).

    Returns
    -------
    ndarray
        Increasing boundaries ``b0 < b1 < ... < bk`` (``b0`` the minimum, ``bk`` the maximum);
        a value ``v`` is in class ``i`` when ``b_i < v <= b_(i+1)`` (the first class includes
        ``b0``), mapclassify's rule.
    """
    import mapclassify

    if method not in CLASS_METHODS:
        raise ParameterError(
            f"Méthode de classification inconnue : {method!r}. Choisissez parmi : {', '.join(CLASS_METHODS)}."
        )
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.array([0.0, 1.0])
    distinct = np.unique(v).size
    kk = min(k, distinct)
    if kk < 2:
        bins = np.array([v.max()])
    elif method == "fisher_jenks":
        bins = fisher_jenks_bins(v, kk)
    elif method == "quantiles":
        bins = mapclassify.Quantiles(v, k=kk).bins
    elif method == "equal":
        bins = mapclassify.EqualInterval(v, k=kk).bins
    else:
        bins = mapclassify.HeadTailBreaks(v).bins
    breaks = np.unique(np.concatenate([[v.min()], np.asarray(bins, dtype=float)]))
    if breaks.size == 1:
        breaks = np.array([breaks[0], breaks[0] + 1.0])
    return breaks


def classes_from_values(values: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """Class index (0..k-1) of each value (mapclassify's rule, upper bounds included); -1 for NaN."""
    v = np.asarray(values, dtype=float)
    idx = np.clip(np.searchsorted(breaks[1:], v, side="left"), 0, len(breaks) - 2)
    return np.where(np.isfinite(v), idx, -1)


def counts_by_category(
    incidents: pd.DataFrame, column: str, *, order: Iterable[str] | None = None
) -> pd.DataFrame:
    """Counts and shares of one categorical column.

    Returns
    -------
    DataFrame
        Columns ``categorie``, ``faits``, ``part`` (0..1), sorted by decreasing count
        unless ``order`` is given (categories of ``order`` first, zeros included).
    """
    counts = incidents[column].astype(object).fillna("non renseigné").value_counts()
    if order is not None:
        order = list(order)
        extra = [c for c in counts.index if c not in order]
        counts = counts.reindex(order + extra, fill_value=0)
    total = counts.sum()
    return pd.DataFrame(
        {
            "categorie": counts.index.astype(str),
            "faits": counts.to_numpy().astype("int64"),
            "part": counts.to_numpy() / total if total else 0.0,
        }
    )


def monthly_counts(incidents: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Incidents per month (by start date), optionally split by a column.

    Returns
    -------
    DataFrame
        Index: first day of each month, every month between the first and last one
        present (missing months are zeros); one column ``faits`` or one per category.
    """
    if incidents.empty:
        return pd.DataFrame({"faits": []}, index=pd.DatetimeIndex([], name="mois"))
    month = incidents[m.START].dt.to_period("M").dt.to_timestamp()
    full = pd.date_range(month.min(), month.max(), freq="MS", name="mois")
    if by is None:
        return month.value_counts().reindex(full, fill_value=0).rename("faits").to_frame()
    table = pd.crosstab(month, incidents[by].astype(object).fillna("non renseigné"))
    table.index.name = "mois"
    return table.reindex(full, fill_value=0)


def hour_weekday_from_windows(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Aoristic weekday x hour table: each incident spread over its time window.

    An incident with a known time adds 1 to its hour; an incident known only between
    ``start`` and ``end`` adds to each hour of its window the share of the window that
    falls in it (Ratcliffe's aoristic method). Windows of a week or more are spread
    uniformly over the 168 hours of the week. Each incident weighs 1 in total.

    Parameters
    ----------
    start : ndarray of datetime64
        Start of each incident.
    end : ndarray of datetime64
        End of the window (NaT: the time is known; an end before the start is ignored).

    Returns
    -------
    ndarray, shape (7, 24)
        Expected number of incidents per weekday (Monday first) and hour.
    """
    s = np.asarray(start, dtype="datetime64[s]").astype("int64") / 3600.0
    e_raw = np.asarray(end, dtype="datetime64[s]")
    e = np.where(np.isnat(e_raw), np.nan, e_raw.astype("int64") / 3600.0)
    valid_s = ~np.isnat(np.asarray(start, dtype="datetime64[s]"))
    s, e = s[valid_s], e[valid_s]
    duration = e - s
    out = np.zeros(HOURS_PER_WEEK)

    def how(hour_index: np.ndarray) -> np.ndarray:
        return (hour_index.astype(np.int64) + _EPOCH_WEEKDAY * 24) % HOURS_PER_WEEK

    point = ~(duration > 0)  # NaN or non-positive
    out += np.bincount(how(np.floor(s[point])), minlength=HOURS_PER_WEEK)
    long = duration >= HOURS_PER_WEEK
    out += long.sum() / HOURS_PER_WEEK
    win = (duration > 0) & ~long
    ws, we, wd = s[win], e[win], duration[win]
    first = np.floor(ws)
    n_bins = (np.ceil(we) - first).astype(np.int64)
    for k in range(int(n_bins.max()) if n_bins.size else 0):
        active = n_bins > k
        b0 = first[active] + k
        overlap = np.minimum(we[active], b0 + 1) - np.maximum(ws[active], b0)
        out += np.bincount(how(b0), weights=np.clip(overlap, 0, 1) / wd[active], minlength=HOURS_PER_WEEK)
    return out.reshape(7, 24)


def hour_weekday_from_incidents(incidents: pd.DataFrame) -> pd.DataFrame:
    """Aoristic weekday x hour table of an incident table (see :func:`hour_weekday_from_windows`).

    Returns
    -------
    DataFrame
        Index: French weekday names (lundi..dimanche); columns: hours 0..23.
    """
    table = hour_weekday_from_windows(incidents[m.START].to_numpy(), incidents[m.END].to_numpy())
    return pd.DataFrame(table, index=list(WEEKDAYS_FR), columns=list(range(24)))


def offender_profile_table(
    incidents: pd.DataFrame, *, threshold: int | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """Offender profile: age class x sex counts, with their secrecy mask.

    Only incidents with a known profile count. Cells are never shown individually
    elsewhere: the caller must hide the cells flagged in the mask.

    Returns
    -------
    table : DataFrame of int
        Rows: age classes; columns: sexes.
    mask : ndarray of bool
        True where a cell must be hidden (primary and secondary secrecy).
    """
    known = incidents[incidents[m.AGE].notna() & incidents[m.SEX].notna()]
    table = pd.crosstab(known[m.AGE].astype(object), known[m.SEX].astype(object))
    table = table.reindex(index=list(AGE_CLASSES), columns=list(SEXES), fill_value=0).astype("int64")
    table.index.name = "classe d'âge"
    table.columns.name = "sexe"
    return table, secret_mask_from_counts(table.to_numpy(), threshold=threshold)


def key_figures(incidents: pd.DataFrame, communes: pd.DataFrame) -> dict[str, float]:
    """Headline figures of the current selection."""
    pop = float(communes["population"].sum())
    n = len(incidents)
    return {
        "faits": n,
        "taux_pour_mille": n / pop * 1000 if pop else float("nan"),
        "communes_touchees": int(incidents[m.COMMUNE].nunique()),
        "part_fenetre": float(incidents[m.END].notna().mean()) if n else 0.0,
    }


@dataclass
class Diagnostic:
    """Everything the Diagnostic page shows for one selection."""

    incidents: pd.DataFrame
    rates: gpd.GeoDataFrame
    breaks: np.ndarray
    classes: np.ndarray
    by_offence: pd.DataFrame
    by_place: pd.DataFrame
    monthly: pd.DataFrame
    hour_weekday: pd.DataFrame
    profile: pd.DataFrame
    profile_mask: np.ndarray
    figures: dict[str, float]


def diagnostic_from_incidents(
    incidents: pd.DataFrame,
    communes: gpd.GeoDataFrame,
    flt: IncidentFilter,
    *,
    threshold: int | None = None,
    k: int = 5,
    method: str = "fisher_jenks",
) -> Diagnostic:
    """Compute the territorial diagnostic of a selection.

    Parameters
    ----------
    incidents : DataFrame
        All incidents of the data set.
    communes : GeoDataFrame
        Communes of the département.
    flt : IncidentFilter
        Period, offences, place types, forces.
    threshold : int, optional
        Statistical-secrecy threshold.
    k, method
        Choropleth classes (see :func:`class_breaks_from_values`).

    Returns
    -------
    Diagnostic
    """
    from core.vocabulary import OFFENCES, PLACE_TYPES

    sel = filter_incidents(incidents, flt)
    rates = rates_by_commune(sel, communes, threshold=threshold)
    positive = rates["taux_pour_mille"].where(rates["faits"] > 0)
    breaks = class_breaks_from_values(positive.to_numpy(), k=k, method=method)
    classes = classes_from_values(rates["taux_pour_mille"].to_numpy(), breaks)
    profile, mask = offender_profile_table(sel, threshold=threshold)
    by_offence = counts_by_category(sel, m.OFFENCE)
    by_offence = by_offence[by_offence["faits"] > 0].reset_index(drop=True)
    by_offence["ordre"] = by_offence["categorie"].map({o: i for i, o in enumerate(OFFENCES)})
    return Diagnostic(
        incidents=sel,
        rates=rates,
        breaks=breaks,
        classes=classes,
        by_offence=by_offence,
        by_place=counts_by_category(sel, m.PLACE, order=PLACE_TYPES),
        monthly=monthly_counts(sel),
        hour_weekday=hour_weekday_from_incidents(sel),
        profile=profile,
        profile_mask=mask,
        figures=key_figures(sel, communes),
    )


def published_commune_table(
    rates: pd.DataFrame, *, hide_secret: bool = True, order: str = "taux_pour_mille"
) -> pd.DataFrame:
    """Units ranked by rate, with secret counts masked, and how far each rate can be trusted.

    Parameters
    ----------
    rates : DataFrame
        From :func:`rates_by_commune` (or :func:`analysis.organisation.counts_by_area`), with
        optionally ``ic_bas``, ``ic_haut``, ``peu_fiable`` and ``taux_lisse`` (see
        :func:`analysis.smoothing.smoothed_rates_from_counts`).
    hide_secret : bool, default True
        Replace secret counts and rates by "secret" (always True for exports).
    order : {"taux_pour_mille", "taux_lisse"}
        The rate the ranking follows.

    Returns
    -------
    DataFrame
        ``rang``, ``code``, ``commune``, ``population``, ``faits``, ``taux_pour_mille``, then
        when known ``ic_95`` (exact Poisson interval of the rate), ``fiabilite`` (« peu fiable »
        when the interval is wider than the rate) and ``taux_lisse``; units with incidents (or a
        smoothed rate) ranked by decreasing rate, secret ones last (unranked).
    """
    df = pd.DataFrame(
        rates.drop(columns=rates.geometry.name) if isinstance(rates, gpd.GeoDataFrame) else rates
    )
    secret = df["secret"].to_numpy(dtype=bool) & hide_secret
    df = df.assign(_secret=secret).sort_values(["_secret", order, "faits"], ascending=[True, False, False])
    hidden = df["_secret"].to_numpy()

    def shown(values: pd.Series) -> np.ndarray:
        return values.astype(object).where(~hidden, "secret").to_numpy()

    out = pd.DataFrame(
        {
            "code": df["code"].astype(str).to_numpy(),
            "commune": df["nom"].astype(str).to_numpy(),
            "population": df["population"].to_numpy(),
            "faits": shown(df["faits"]),
            "taux_pour_mille": shown(df["taux_pour_mille"].round(2)),
        }
    )
    if "ic_bas" in df:
        interval = [
            f"{cell_decimal(lo, 2)} – {cell_decimal(hi, 2)}" if np.isfinite(hi) else "—"
            for lo, hi in zip(df["ic_bas"].to_numpy(float), df["ic_haut"].to_numpy(float), strict=True)
        ]
        out["ic_95"] = shown(pd.Series(interval, index=df.index))
        out["fiabilite"] = shown(df["peu_fiable"].map({True: "peu fiable", False: ""}).fillna(""))
    if "taux_lisse" in df:
        out["taux_lisse"] = shown(df["taux_lisse"].round(2))
    rank = np.where(hidden, None, np.arange(1, len(df) + 1))
    out.insert(0, "rang", rank)
    return out
