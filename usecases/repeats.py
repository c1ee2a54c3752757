"""Repeats on the Zones page: near-repeat risk (Knox test) and concentration on places.

Both are internal-view results. In the published view a Knox cell is shown only when its
observed pair count is above the secrecy threshold, the summary sentence only when every cell
it pools is; concentration figures only where the incidents they stand for are more than the
threshold; the list of repeat places never (it gives points), nor in any export.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.concentration import (
    CELL_SHARES,
    TOP_SHARES,
    cell_count_in_territory,
    concentration_from_xy,
    lorenz_from_counts,
    place_keys_from_xy,
    repeat_places_from_xy,
)
from analysis.near_repeat import (
    DEFAULT_DAYS,
    DEFAULT_DISTANCES,
    days_from_windows,
    knox_test,
    summary_from_knox,
)
from core import model as m
from core.crs import WGS84
from core.errors import DelinquanceError
from core.formatting import fmt_count, fmt_date, fmt_decimal, fmt_share
from core.model import IncidentFilter, filter_incidents, located
from core.privacy import SECRET_LABEL, Audience, is_secret, secret_cells, too_small_for_a_ratio
from core.settings import SETTINGS
from usecases.common import Metric

NEAR_REPEAT_OFFENCES = (
    "Cambriolages de logement",
    "Vols de véhicule",
    "Vols dans les véhicules",
    "Vols d'accessoires sur véhicules",
)
MIN_INCIDENTS = 30
METRICS = {"euclidean": "À vol d'oiseau (euclidienne)", "manhattan": "En suivant un quadrillage (Manhattan)"}

NEAR_REPEAT_NOTE = (
    "Test de Knox, comme le Near Repeat Calculator de Ratcliffe : chaque paire de faits est classée "
    "par distance (même lieu : moins de 1 m, puis 1 à 99 m, 100 à 199 m…) et par écart en jours "
    "(0 à 6, 7 à 13…), les tranches que compte le Near Repeat Calculator. Le "
    "nombre de paires observé est comparé à celui obtenu en redistribuant les dates au hasard entre "
    "les faits (999 permutations par défaut) : rapport observé / attendu et p = (1 + nombre de "
    "permutations au moins égales) / (1 + permutations). Un fait connu seulement entre deux dates "
    "(cambriolage découvert au retour) est placé au milieu de sa fenêtre. Quand ne pas s'y fier : "
    "peu de faits (moins de quelques centaines), des positions géocodées au centre de la commune "
    "(elles créent de faux « même lieu »), une période qui mélange des saisons très différentes."
)
CONCENTRATION_NOTE = (
    "Un lieu est une position arrondie à 10 m (une adresse, un commerce, un parking) ; les parts sont "
    "calculées sur les lieux ayant connu au moins un fait. Une maille est un carré de 100 m ; les parts "
    "sont calculées sur toutes les mailles du territoire, y compris celles sans fait. Courbe de "
    "concentration : part des faits détenue par les x % de lieux les plus touchés ; Gini : 0 si tous les "
    "lieux sont également touchés, proche de 1 si tout se concentre sur un seul. Des positions "
    "approximatives (centre de commune, de rue) gonflent la concentration."
)


class RepeatsError(DelinquanceError):
    """Too few incidents or wrong settings (French message, with the fix)."""


def bands_from_text(text: str, cast: type) -> tuple:
    """Band bounds typed by the user: « 100 200 300 » -> (100, 200, 300).

    Raises
    ------
    RepeatsError
        Unreadable, non-positive, non-increasing or repeated bounds.
    """
    try:
        values = tuple(cast(v.strip().replace(",", ".")) for v in text.replace(";", " ").split() if v.strip())
    except ValueError:
        raise RepeatsError(
            f"Bornes illisibles : « {text} ». Écrivez des nombres séparés par des espaces."
        ) from None
    if not values or any(v <= 0 for v in values) or list(values) != sorted(set(values)):
        raise RepeatsError(f"Bornes « {text} » : donnez des nombres positifs, croissants et distincts.")
    return values


def _points(sel: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    sel = located(sel)
    return sel.to_crs(crs)


@dataclass
class NearRepeatView:
    """The near-repeat heat table and its sentence, for an audience."""

    heat: (
        pd.DataFrame
    )  # distance, duree, rapport (NaN: hidden), p_valeur, observees, attendues, significatif, texte
    distance_order: list[str]
    duration_order: list[str]
    sentence: str
    metrics: list[Metric]
    notes: list[str]


def near_repeat_for_selection(
    incidents: gpd.GeoDataFrame,
    flt: IncidentFilter,
    *,
    offence: str,
    crs: str,
    audience: Audience,
    distances: tuple[float, ...] = DEFAULT_DISTANCES,
    days: tuple[int, ...] = DEFAULT_DAYS,
    permutations: int = 999,
    metric: str = "euclidean",
    seed: int = 0,
) -> NearRepeatView:
    """Knox test of one offence in the selection (period, places, forces of the sidebar).

    Raises
    ------
    RepeatsError
        Fewer than :data:`MIN_INCIDENTS` incidents with a position.
    """
    sel = _points(filter_incidents(incidents, dataclasses.replace(flt, offences=(offence,))), crs)
    if len(sel) < MIN_INCIDENTS:
        raise RepeatsError(
            # No count in the message: a small one is secret in the published view.
            f"Trop peu de faits « {offence} » localisés pour un test de répétition proche : il en faut au "
            f"moins {MIN_INCIDENTS}. Élargissez la période de la barre latérale."
        )
    day = days_from_windows(sel[m.START].to_numpy(), sel[m.END].to_numpy(), np.datetime64("2000-01-01"))
    res = knox_test(
        sel.geometry.x.to_numpy(),
        sel.geometry.y.to_numpy(),
        day,
        distances=distances,
        days=days,
        permutations=permutations,
        metric=metric,
        seed=seed,
    )
    hidden = np.zeros(res.observed.shape, dtype=bool)
    if audience.published:  # pair counts of 1 to the threshold (the product's secrecy rule)
        observed = res.observed.to_numpy()
        hidden = secret_cells(observed)
    long = []
    for i, row in enumerate(res.observed.index):
        for j, col in enumerate(res.observed.columns):
            ratio, p = float(res.ratio.iat[i, j]), float(res.p_value.iat[i, j])
            h = bool(hidden[i, j])
            long.append(
                {
                    "distance": row,
                    "duree": col,
                    "rapport": np.nan if h else ratio,
                    "p_valeur": np.nan if h else p,
                    "observees": SECRET_LABEL if h else fmt_count(int(res.observed.iat[i, j])),
                    "attendues": fmt_decimal(float(res.expected.iat[i, j]), 1),
                    "significatif": (not h) and p < 0.05 and ratio > 1,
                    "texte": SECRET_LABEL
                    if h
                    else (fmt_decimal(ratio, 2) if np.isfinite(ratio) else "—")
                    + ("*" if p < 0.05 and ratio > 1 else ""),
                }
            )
    summary = summary_from_knox(res, tuple(distances), tuple(days))
    noun = "un cambriolage" if offence == "Cambriolages de logement" else "un fait de ce type"
    if summary is None:
        sentence = f"Pas de risque de répétition proche significatif après {noun} pour cette sélection."
    else:
        rows = 1 + (list(distances).index(summary.radius_m) + 1 if summary.radius_m else 0)
        cols = list(days).index(summary.days) + 1
        if audience.published and hidden[:rows, :cols].any():
            sentence = "Répétition proche significative, mais sur trop peu de paires pour être publiée (secret statistique)."
        else:
            where = (
                f"dans un rayon de {fmt_count(int(summary.radius_m))} m"
                if summary.radius_m
                else "au même endroit"
            )
            sentence = (
                f"Après {noun}, le risque d'un autre fait est multiplié par {fmt_decimal(summary.factor, 1)} "
                f"{where} pendant {summary.days} jours."
            )
    first, last = sel[m.START].min(), sel[m.START].max()
    metrics = [
        Metric("Faits analysés", fmt_count(len(sel))),
        Metric(
            f"Paires proches (moins de {fmt_count(int(distances[-1]))} m)",
            SECRET_LABEL if audience.published and is_secret(res.n_pairs) else fmt_count(res.n_pairs),
        ),
        Metric("Permutations", fmt_count(permutations)),
    ]
    notes = [
        f"Du {fmt_date(first.date())} au {fmt_date(last.date())} ; distance {METRICS[metric].lower()}. "
        "* : significatif à 5 % (rapport supérieur à 1). Dates : milieu de la fenêtre de commission quand "
        "seule une fenêtre est connue.",
    ]
    if audience.published:
        notes.append(
            f"Vue diffusable : les cases de 1 à {SETTINGS.privacy_threshold} paires sont masquées (secret statistique)."
        )
    return NearRepeatView(
        heat=pd.DataFrame(long),
        distance_order=list(res.observed.index),
        duration_order=list(res.observed.columns),
        sentence=sentence,
        metrics=metrics,
        notes=notes,
    )


@dataclass
class ConcentrationView:
    """Concentration per offence for an audience."""

    table: pd.DataFrame  # text cells
    curves: pd.DataFrame  # infraction, unite, part_lieux, part_faits
    repeat_places: pd.DataFrame | None  # internal view only
    notes: list[str]


def _share_text(share: float, n: int, published: bool) -> str:
    if not np.isfinite(share):
        return "—"
    if published and too_small_for_a_ratio(round(share * n)):
        return SECRET_LABEL
    return fmt_share(share)


def cell_count_for_communes(communes: gpd.GeoDataFrame) -> int:
    """100 m cells covering the communes (the denominator of the concentration shares).

    Parameters
    ----------
    communes : GeoDataFrame
        Communes in a metric CRS.

    Returns
    -------
    int
        Number of cells of the territory's grid.
    """
    return cell_count_in_territory(shapely.union_all(communes.geometry.to_numpy()))


def concentration_for_selection(
    incidents: gpd.GeoDataFrame, flt: IncidentFilter, *, crs: str, n_cells: int, audience: Audience
) -> ConcentrationView:
    """Top shares, Gini and curves per offence of the selection, and the repeat places.

    Parameters
    ----------
    incidents : GeoDataFrame
        Every incident of the data set.
    flt : IncidentFilter
        The sidebar's selection.
    crs : str
        Metric CRS of the département.
    n_cells : int
        100 m cells of the territory (:func:`analysis.concentration.cell_count_in_territory`).
    audience : Audience
        Who is looking.
    """
    sel = _points(filter_incidents(incidents, flt), crs)
    if sel.empty:
        raise RepeatsError(
            "Aucun fait localisé dans la sélection : élargissez les filtres de la barre latérale."
        )
    pub = audience.published
    x, y = sel.geometry.x.to_numpy(), sel.geometry.y.to_numpy()
    groups = [("Ensemble", np.ones(len(sel), dtype=bool))]
    groups += [(o, (sel[m.OFFENCE] == o).to_numpy()) for o in sel[m.OFFENCE].value_counts().index]
    rows, curves = [], []
    for name, mask in groups:
        n = int(mask.sum())
        if pub and too_small_for_a_ratio(n):
            continue
        c = concentration_from_xy(x[mask], y[mask], n_cells)
        row = {"infraction": name, "faits": fmt_count(n), "lieux": fmt_count(c.n_places)}
        for share, value in zip(TOP_SHARES, c.places_top, strict=True):
            row[f"lieux_top_{int(share * 100)}"] = _share_text(value, n, pub)
        row["gini_lieux"] = fmt_decimal(c.places_gini, 2) if np.isfinite(c.places_gini) else "—"
        row["mailles"] = fmt_count(c.n_cells)
        for share, value in zip(CELL_SHARES, c.cells_for, strict=True):
            # A share of cells, not of incidents: no count of 1 to 5 rests on it.
            row[f"mailles_pour_{int(share * 100)}"] = fmt_share(value) if np.isfinite(value) else "—"
        row["gini_mailles"] = fmt_decimal(c.cells_gini, 2) if np.isfinite(c.cells_gini) else "—"
        row["lieux_repetes"] = fmt_count(c.repeat_places)
        row["part_lieux_repetes"] = _share_text(c.repeat_share, n, pub)
        rows.append(row)
        if not pub or c.n_places >= 100:  # a curve of few places would give single places' counts
            counts = pd.Series(place_keys_from_xy(x[mask], y[mask])).value_counts().to_numpy()
            curve = lorenz_from_counts(counts, len(counts)).assign(infraction=name, unite="lieux (10 m)")
            curves.append(curve)
    repeat = None
    if not pub:
        places = repeat_places_from_xy(x, y)
        if len(places):
            pts = gpd.GeoSeries(gpd.points_from_xy(places["x"], places["y"]), crs=crs).to_crs(WGS84)
            first = sel[m.START].to_numpy()
            repeat = pd.DataFrame(
                {
                    "commune": [sel[m.COMMUNE].iat[p[0]] for p in places["positions"]],
                    "faits": places["faits"].to_numpy(),
                    "infractions": [
                        ", ".join(sorted(set(sel[m.OFFENCE].iloc[p]))) for p in places["positions"]
                    ],
                    "premier": [fmt_date(pd.Timestamp(first[p].min()).date()) for p in places["positions"]],
                    "dernier": [fmt_date(pd.Timestamp(first[p].max()).date()) for p in places["positions"]],
                    "latitude": pts.y.round(5).to_numpy(),
                    "longitude": pts.x.round(5).to_numpy(),
                }
            )
    notes = [
        f"{fmt_count(n_cells)} mailles de 100 m couvrent le territoire. Les colonnes « mailles » portent sur les "
        "mailles qui comptent au moins un fait de la ligne : la part d'entre elles qui concentre la moitié, "
        "puis le quart, des faits (plus elle est faible, plus les faits sont concentrés), et le Gini de leurs effectifs."
    ]
    if pub:
        notes.append(
            f"Vue diffusable : parts masquées quand elles reposent sur un effectif secret (de 1 à {SETTINGS.privacy_threshold}) ; liste des lieux "
            "répétés réservée à la vue interne (elle donne des positions)."
        )
    return ConcentrationView(
        table=pd.DataFrame(rows),
        curves=pd.concat(curves, ignore_index=True)
        if curves
        else pd.DataFrame(columns=["part_lieux", "part_faits", "infraction", "unite"]),
        repeat_places=repeat,
        notes=notes,
    )
