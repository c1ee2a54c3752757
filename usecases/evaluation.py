"""« Évaluer une action »: target, buffer and control areas, before/after windows, WDD and WDQ.

The page picks a target (a priority zone, the coverage of existing cameras, a commune or an area
drawn on the map), the date the action started, the window length, an optional implementation
period left out, the buffer width and the control area; this module counts the incidents of the
selection in each area and window and computes the figures of :mod:`analysis.evaluation`.

Privacy: an evaluation is an internal-view result. In the published view its figures are shown
only when every count involved (three areas, two windows) is above the secrecy threshold; the
monthly chart hides months of 1 to ``privacy_threshold`` in any area.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.evaluation import AREA_LABELS, AREAS, WDQ_READINGS, Evaluation, evaluation_from_counts
from core import model as m
from core.crs import WGS84
from core.errors import DelinquanceError
from core.formatting import (
    filter_description,
    fmt_change,
    fmt_count,
    fmt_date,
    fmt_decimal,
    fmt_interval,
    fmt_pvalue,
)
from core.model import IncidentFilter, filter_incidents
from core.privacy import SECRET_LABEL, Audience, secret_mask_from_counts, too_small_for_a_ratio
from core.settings import SETTINGS
from usecases.selection import Selection

TARGET_KINDS = {
    "zone": "Une zone prioritaire",
    "cameras": "La couverture de caméras existantes",
    "commune": "Une commune",
    "dessin": "Un secteur dessiné sur la carte",
}
CONTROL_KINDS = {
    "epci": "Le reste de l'EPCI",
    "commune": "Le reste de la commune",
    "departement": "Le reste du département",
    "dessin": "Un secteur dessiné sur la carte",
}

METHOD_NOTE = (
    "Trois secteurs sont comptés sur deux fenêtres de même durée, avant et après le début de "
    "l'action : la zone cible, une zone tampon (anneau autour de la cible, où les faits pourraient "
    "se déplacer ou les bénéfices se diffuser) et une zone témoin (ailleurs, pour distinguer l'effet "
    "de l'action de la tendance générale). Une période de mise en place peut être exclue. "
    "Différence de déplacement pondérée (WDD, Wheeler et Ratcliffe 2018) : évolution de la cible "
    "et de la tampon, chacune diminuée de celle de la zone témoin ; négative = baisse nette, "
    "déplacement compris ; variance de Poisson (somme des effectifs, la zone témoin comptée quatre "
    "fois puisqu'elle sert deux fois), test z et intervalle à 95 %. Quotient de déplacement pondéré "
    "(WDQ, Bowers et Johnson 2003) : évolution de la tampon rapportée à celle de la cible, toutes "
    "deux relatives à la zone témoin ; il ne se lit que si la cible a baissé. Rapports après/avant : "
    "test exact conditionnel de la page Suivi ; cible contre témoin : test exact de Fisher. "
    "Quand ne pas s'y fier : une zone témoin beaucoup plus chargée que la cible (la WDD suppose la "
    "même évolution en nombre de faits ; lisez alors les rapports), une cible choisie parce qu'elle "
    "venait de connaître un pic (elle baisse ensuite d'elle-même : retour à la moyenne), des "
    "effectifs de quelques faits, une autre action menée en même temps dans la zone témoin."
)


class EvaluationError(DelinquanceError):
    """An evaluation that cannot be computed as asked (message in French, with the fix)."""


@dataclass(frozen=True)
class Windows:
    """The before and after windows (whole days, bounds included)."""

    before_start: dt.date
    before_end: dt.date
    after_start: dt.date
    after_end: dt.date

    @property
    def days(self) -> int:
        return (self.before_end - self.before_start).days + 1

    def label(self) -> str:
        return (
            f"avant : du {fmt_date(self.before_start)} au {fmt_date(self.before_end)} ; "
            f"après : du {fmt_date(self.after_start)} au {fmt_date(self.after_end)} ({self.days} jours chacune)"
        )


def windows_from_start(start: dt.date, *, days: int, gap_days: int = 0) -> Windows:
    """Equal windows around the start of an action.

    Parameters
    ----------
    start : date
        First day of the action.
    days : int
        Length of each window, in days.
    gap_days : int, default 0
        Implementation period after ``start`` left out of the « after » window.

    Returns
    -------
    Windows
        « Before »: the ``days`` days up to the day before ``start``; « after »: ``days`` days
        from ``start + gap_days``.
    """
    if days < 7:
        raise EvaluationError("Fenêtre trop courte : choisissez au moins 7 jours avant et après.")
    if gap_days < 0:
        raise EvaluationError("La période de mise en place ne peut pas être négative : indiquez 0 ou plus.")
    after_start = start + dt.timedelta(days=gap_days)
    return Windows(
        before_start=start - dt.timedelta(days=days),
        before_end=start - dt.timedelta(days=1),
        after_start=after_start,
        after_end=after_start + dt.timedelta(days=days - 1),
    )


@dataclass(frozen=True)
class EvaluationAreas:
    """The three areas (metric CRS) and how they were chosen."""

    target: shapely.Geometry
    buffer: shapely.Geometry
    control: shapely.Geometry
    target_label: str
    control_label: str
    buffer_m: float


def evaluation_areas(
    target: shapely.Geometry,
    communes: gpd.GeoDataFrame,
    *,
    target_label: str,
    buffer_m: float,
    control: str = "epci",
    control_geometry: shapely.Geometry | None = None,
) -> EvaluationAreas:
    """The buffer ring and the control area around a target.

    Parameters
    ----------
    target : shapely geometry
        The target area, in the metric CRS of ``communes``.
    communes : GeoDataFrame
        Communes of the département (metric CRS; ``code``, ``nom``, ``epci_code``).
    target_label : str
        How the target reads on the page and in the report.
    buffer_m : float
        Width of the ring around the target (metres, > 0).
    control : {"epci", "commune", "departement", "dessin"}
        The control area: the rest of the commune(s) or EPCI(s) the target touches, the rest of
        the département, or ``control_geometry``; the target and its buffer are always removed.
    control_geometry : shapely geometry, optional
        The drawn control area (metric CRS) when ``control="dessin"``.
    """
    if target is None or target.is_empty or target.area <= 0:
        raise EvaluationError("Zone cible vide : choisissez une zone, une commune ou dessinez un secteur.")
    if not buffer_m > 0:
        raise EvaluationError(
            "Largeur de la zone tampon nulle : indiquez une largeur en mètres (300 m par exemple)."
        )
    core = target.buffer(buffer_m)
    ring = core.difference(target)
    touched = communes[communes.intersects(target)]
    if touched.empty:
        raise EvaluationError("La zone cible est hors du département : choisissez-la sur le territoire.")
    if control == "dessin":
        if control_geometry is None or control_geometry.is_empty:
            raise EvaluationError("Aucune zone témoin dessinée : tracez-la sur la carte « zone témoin ».")
        scope, label = control_geometry, "secteur témoin dessiné"
    elif control == "commune":
        scope = shapely.union_all(touched.geometry.to_numpy())
        label = "reste de la commune" if len(touched) == 1 else f"reste des {len(touched)} communes touchées"
    elif control == "epci":
        epcis = set(touched["epci_code"].dropna())
        scope = shapely.union_all(communes[communes["epci_code"].isin(epcis)].geometry.to_numpy())
        label = "reste de l'EPCI" if len(epcis) == 1 else f"reste des {len(epcis)} EPCI touchés"
    elif control == "departement":
        scope, label = shapely.union_all(communes.geometry.to_numpy()), "reste du département"
    else:
        raise EvaluationError(
            f"Zone témoin inconnue : {control!r}. Choisissez parmi : {', '.join(CONTROL_KINDS)}."
        )
    rest = scope.difference(core)
    if rest.is_empty or rest.area < 1.0:
        raise EvaluationError(
            "La zone témoin est vide une fois la cible et sa zone tampon retirées : choisissez une zone "
            "témoin plus large (l'EPCI ou le département) ou réduisez la zone tampon."
        )
    return EvaluationAreas(target, ring, rest, target_label, label, float(buffer_m))


def target_from_cameras(cameras: gpd.GeoDataFrame, radius_m: float) -> shapely.Geometry:
    """The area the cameras of a file cover: the union of their discs (metric CRS)."""
    if cameras is None or cameras.empty:
        raise EvaluationError("Aucune caméra lue dans le fichier : vérifiez ses coordonnées.")
    if not radius_m > 0:
        raise EvaluationError("Rayon de couverture nul : indiquez la portée utile des caméras, en mètres.")
    return shapely.union_all(cameras.geometry.buffer(radius_m).to_numpy())


def _area_of_points(areas: EvaluationAreas, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Area of each point (``cible``, ``tampon``, ``temoin``; ``None`` outside the three)."""
    out = np.full(len(x), None, dtype=object)
    for name, geom in (("cible", areas.target), ("tampon", areas.buffer), ("temoin", areas.control)):
        inside = shapely.contains_xy(geom, x, y) & (out == None)  # noqa: E711 (element-wise)
        out[inside] = name
    return out


@dataclass
class EvaluationView:
    """What the « Évaluer une action » section shows for one evaluation and audience."""

    evaluation: Evaluation
    windows: Windows
    areas: EvaluationAreas
    counts: pd.DataFrame  # as shown: zone, avant, apres, rapport, ic, p (text)
    figures: list[tuple[str, str]]  # label, value (WDD, z, p, interval, WDQ)
    reading: str  # one sentence a préfet can read
    monthly: pd.DataFrame  # mois, zone, faits (NaN: hidden)
    withheld: bool  # published view and a count of 1 to 5: figures withheld
    notes: list[str]
    record: dict  # what is saved with the data set and goes into the report


def _counts_by_window(
    sel: gpd.GeoDataFrame, areas: EvaluationAreas, windows: Windows, crs: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """3 x 2 counts and the monthly series of each area."""
    day = sel[m.START].dt.normalize()
    lo, hi = pd.Timestamp(windows.before_start), pd.Timestamp(windows.after_end)
    sel = sel[(day >= lo) & (day <= hi)]
    day = day.loc[sel.index]
    pts = sel.geometry.to_crs(crs)
    area = pd.Series(_area_of_points(areas, pts.x.to_numpy(), pts.y.to_numpy()), index=sel.index)
    before = (day <= pd.Timestamp(windows.before_end)).to_numpy()
    after = (day >= pd.Timestamp(windows.after_start)).to_numpy()
    counts = pd.DataFrame(
        {
            "avant": [int(((area == a).to_numpy() & before).sum()) for a in AREAS],
            "apres": [int(((area == a).to_numpy() & after).sum()) for a in AREAS],
        },
        index=list(AREAS),
    )
    month = day.dt.to_period("M").dt.to_timestamp()
    months = pd.date_range(lo.to_period("M").to_timestamp(), hi.to_period("M").to_timestamp(), freq="MS")
    monthly = (
        pd.crosstab(month[area.notna()], area[area.notna()])
        .reindex(index=months, columns=list(AREAS), fill_value=0)
        .astype("int64")
    )
    monthly.index.name = "mois"
    return counts, monthly


def _reading(ev: Evaluation) -> str:
    t0, t1 = ev.counts.loc["cible", ["avant", "apres"]]
    change = ev.changes.loc["cible_vs_temoin"]
    wdd = float(ev.wdd.wdd)
    p = float(ev.wdd.p_value)
    direction = "baisse" if wdd < 0 else "hausse"
    sig = "significative" if np.isfinite(p) and p < 0.05 else "non significative"
    target = f"Zone cible : {fmt_count(int(t0))} faits avant, {fmt_count(int(t1))} après"
    if np.isfinite(change["p_valeur"]):
        rel = "significative" if change["p_valeur"] < 0.05 else "non significative"
        target += f" ({fmt_change(change['rapport'] - 1)} par rapport à la zone témoin, {rel})"
    return (
        f"{target}. Bilan net, déplacement compris (WDD) : {direction} de {fmt_decimal(abs(wdd), 0)} faits, "
        f"{sig} (p = {fmt_pvalue(p)}). Zone tampon : {WDQ_READINGS[ev.wdq.reading]}."
    )


def evaluation_for_selection(
    incidents: gpd.GeoDataFrame,
    flt: IncidentFilter,
    areas: EvaluationAreas,
    windows: Windows,
    *,
    crs: str,
    audience: Audience,
) -> EvaluationView:
    """Count, test and read one evaluation for an audience.

    Parameters
    ----------
    incidents : GeoDataFrame
        Every incident of the data set (EPSG:4326).
    flt : IncidentFilter
        Offences, places, forces (its period is replaced by the windows).
    areas : EvaluationAreas
        From :func:`evaluation_areas`.
    windows : Windows
        From :func:`windows_from_start`.
    crs : str
        Metric CRS of the areas.
    audience : Audience
        Who is looking.

    Raises
    ------
    EvaluationError
        Windows outside the data, or no incident at all in the areas.
    """
    if len(incidents) == 0:
        raise EvaluationError("Le jeu de données est vide : importez des faits dans la page « Données ».")
    first, last = incidents[m.START].min().date(), incidents[m.START].max().date()
    if windows.before_start < first:
        raise EvaluationError(
            f"La fenêtre « avant » commence le {fmt_date(windows.before_start)}, avant le premier fait du jeu "
            f"({fmt_date(first)}) : raccourcissez les fenêtres ou choisissez une date de début plus tardive."
        )
    if windows.after_end > last:
        raise EvaluationError(
            f"La fenêtre « après » finit le {fmt_date(windows.after_end)}, après le dernier fait du jeu "
            f"({fmt_date(last)}) : raccourcissez les fenêtres ou la période de mise en place, ou importez "
            "les mois suivants."
        )
    sel = filter_incidents(incidents, dataclasses.replace(flt, start=None, end=None))
    counts, monthly = _counts_by_window(sel, areas, windows, crs)
    if counts.to_numpy().sum() == 0:
        raise EvaluationError(
            "Aucun fait de la sélection dans les trois zones : élargissez les filtres ou les zones."
        )
    ev = evaluation_from_counts(counts)
    withheld = audience.published and bool(too_small_for_a_ratio(counts.to_numpy()).any())
    notes = [f"Fenêtres — {windows.label()}."]
    if windows.after_start > windows.before_end + dt.timedelta(days=1):
        notes.append(
            f"Période de mise en place exclue : du {fmt_date(windows.before_end + dt.timedelta(days=1))} "
            f"au {fmt_date(windows.after_start - dt.timedelta(days=1))}."
        )
    ratio = counts.loc["temoin"].sum() / max(1, counts.loc["cible"].sum())
    if ratio > 10:
        notes.append(
            f"La zone témoin compte {fmt_decimal(ratio, 0)} fois plus de faits que la cible : la WDD, qui "
            "suppose la même évolution en nombre de faits, y est peu adaptée ; lisez plutôt le rapport "
            "« cible contre témoin »."
        )
    if withheld:
        notes.append(
            f"Vue diffusable : un effectif de la comparaison est de {SETTINGS.privacy_threshold} ou moins ; les "
            "résultats ne sont pas publiés (secret statistique)."
        )
    shown_monthly = monthly.astype(float)
    if audience.published:
        shown_monthly = shown_monthly.mask(secret_mask_from_counts(monthly.to_numpy()))
    long = shown_monthly.reset_index().melt(id_vars="mois", var_name="zone", value_name="faits")
    long["zone"] = long["zone"].map(AREA_LABELS)
    record = evaluation_record(ev, areas, windows, flt)
    if withheld:
        return EvaluationView(
            evaluation=ev,
            windows=windows,
            areas=areas,
            counts=pd.DataFrame(
                {"zone": [AREA_LABELS[a] for a in AREAS], "avant": SECRET_LABEL, "apres": SECRET_LABEL}
            ),
            figures=[],
            reading="Résultats non diffusables (secret statistique).",
            monthly=long,
            withheld=True,
            notes=notes,
            record=record,
        )
    return EvaluationView(
        evaluation=ev,
        windows=windows,
        areas=areas,
        counts=counts_table(ev),
        figures=figures_from_evaluation(ev),
        reading=_reading(ev),
        monthly=long,
        withheld=False,
        notes=notes,
        record=record,
    )


def counts_table(ev: Evaluation) -> pd.DataFrame:
    """The counts and relative changes as shown (text cells)."""
    rows = []
    for key in (*AREAS, "cible_vs_temoin"):
        ch = ev.changes.loc[key]
        label = AREA_LABELS.get(key, "Cible rapportée au témoin")
        before = fmt_count(int(ev.counts.loc[key, "avant"])) if key in AREAS else ""
        after = fmt_count(int(ev.counts.loc[key, "apres"])) if key in AREAS else ""
        finite = np.isfinite(ch["rapport"])
        rows.append(
            {
                "zone": label,
                "avant": before,
                "apres": after,
                "evolution": fmt_change(ch["rapport"] - 1) if finite else "—",
                "ic_95": fmt_interval(ch["ic_bas"], ch["ic_haut"]) if np.isfinite(ch["ic_bas"]) else "—",
                "p_valeur": fmt_pvalue(ch["p_valeur"]),
            }
        )
    return pd.DataFrame(rows)


def figures_from_evaluation(ev: Evaluation) -> list[tuple[str, str]]:
    """WDD, its test and the WDQ as label/value pairs."""
    w = ev.wdd
    wdq = ev.wdq.wdq
    return [
        ("Différence de déplacement pondérée (WDD)", fmt_decimal(float(w.wdd), 0)),
        ("Intervalle à 95 %", f"[{fmt_decimal(float(w.ci_low), 1)} ; {fmt_decimal(float(w.ci_high), 1)}]"),
        ("z", fmt_decimal(float(w.z), 2) if np.isfinite(w.z) else "—"),
        ("Probabilité d'un tel écart par hasard (p)", fmt_pvalue(float(w.p_value))),
        ("Quotient de déplacement (WDQ)", fmt_decimal(wdq, 2) if np.isfinite(wdq) else "—"),
    ]


def evaluation_record(ev: Evaluation, areas: EvaluationAreas, windows: Windows, flt: IncidentFilter) -> dict:
    """What is saved with the data set: parameters, counts and results (JSON-ready)."""

    def num(v: object) -> float | None:
        v = float(v)
        return v if np.isfinite(v) else None

    params = {
        "cible": areas.target_label,
        "temoin": areas.control_label,
        "tampon_m": areas.buffer_m,
        "fenetres": {k: v.isoformat() for k, v in dataclasses.asdict(windows).items()},
        "filtres": filter_description(flt, dates=False),
        "geometrie_cible_wkt": shapely.to_wkt(areas.target, rounding_precision=1),
        "geometrie_temoin_wkt": shapely.to_wkt(areas.control, rounding_precision=0),
    }
    # The same evaluation kept twice replaces itself: its id is derived from its parameters.
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    return {
        "id": key,
        "cree_le": dt.datetime.now().isoformat(timespec="seconds"),
        **params,
        "comptes": {
            a: {"avant": int(ev.counts.loc[a, "avant"]), "apres": int(ev.counts.loc[a, "apres"])}
            for a in AREAS
        },
        "wdd": num(ev.wdd.wdd),
        "wdd_z": num(ev.wdd.z),
        "wdd_p": num(ev.wdd.p_value),
        "wdd_ic": [num(ev.wdd.ci_low), num(ev.wdd.ci_high)],
        "wdq": num(ev.wdq.wdq),
        "lecture_wdq": ev.wdq.reading,
    }


def record_rows(record: dict, *, published: bool = True) -> tuple[str, list[list[str]]]:
    """A saved evaluation as a title and table rows for the report (published: gated).

    Returns
    -------
    title : str
    rows : list of list of str
        Header row first; a single explanatory row when the figures are withheld.
    """
    w = record["fenetres"]
    started = dt.date.fromisoformat(w["before_end"]) + dt.timedelta(days=1)
    title = f"{record['cible']} — action commencée le {fmt_date(started)}"
    counts = pd.DataFrame(record["comptes"]).T.reindex(list(AREAS))
    if published and too_small_for_a_ratio(counts.to_numpy()).any():
        return title, [
            ["Résultat"],
            [f"Non diffusable : un effectif de {SETTINGS.privacy_threshold} ou moins (secret statistique)."],
        ]
    ev = evaluation_from_counts(counts.astype(int))
    rows = [["Zone", "Avant", "Après", "Évolution", "Hasard (p)"]]
    for _, r in counts_table(ev).iterrows():
        rows.append([r["zone"], r["avant"], r["apres"], r["evolution"], r["p_valeur"]])
    rows.append(
        [
            f"WDD (témoin : {record['temoin']}, tampon {fmt_count(int(record['tampon_m']))} m)",
            "",
            "",
            fmt_decimal(float(ev.wdd.wdd), 0),
            fmt_pvalue(float(ev.wdd.p_value)),
        ]
    )
    rows.append(["Zone tampon", "", "", WDQ_READINGS[ev.wdq.reading], ""])
    return title, rows


def areas_for_map(areas: EvaluationAreas, crs: str) -> gpd.GeoDataFrame:
    """The three areas in EPSG:4326 for the page's map (``zone``, ``libelle``, geometry)."""
    return gpd.GeoDataFrame(
        {"zone": list(AREAS), "libelle": [AREA_LABELS[a] for a in AREAS]},
        geometry=[areas.target, areas.buffer, areas.control],
        crs=crs,
    ).to_crs(WGS84)


def kept_evaluations(selection: Selection) -> list[dict]:
    """The evaluations kept with the selection's data set, oldest first."""
    return selection.store().evaluations(selection.slug)


def keep_evaluation(selection: Selection, record: dict) -> None:
    """Keep an evaluation with the selection's data set (for the préfet's report)."""
    selection.store().save_evaluation(selection.slug, record)


def withdraw_evaluation(selection: Selection, record_id: str) -> None:
    """Remove a kept evaluation from the selection's data set."""
    selection.store().delete_evaluation(selection.slug, record_id)
