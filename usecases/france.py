"""The « France » page: every département's results side by side, published view only.

Reads the summary rows the national batch wrote (:func:`usecases.national.summary_table`, which
are already published figures: a count of 1 to 5 is ``secret``, a change computed from one is
missing) and the départements' outlines (:func:`geo.communes.departements_from_communes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.diagnostic import class_breaks_from_values, classes_from_values
from core.access import MANAGE_PEOPLE, Viewer
from core.errors import ParameterError
from core.escape import html_text
from core.formatting import fmt_change, fmt_count, fmt_decimal
from core.privacy import SECRET_LABEL
from core.settings import SETTINGS
from usecases.national import THRESHOLD

#: What the map can be coloured by: summary column -> French title.
MEASURES = {
    "taux_pour_mille": "Faits pour 1 000 habitants (12 derniers mois)",
    "evolution_annee": "Évolution sur un an (2 derniers mois)",
    "evolution_precedente": "Évolution sur la période précédente (2 derniers mois)",
    "zones": "Zones prioritaires (12 derniers mois)",
}
NO_DATA = "#dddddd"
NO_RESULT = "pas encore de résultat"
STALE = "calculé avec un autre seuil de secret : à recalculer"
#: Who runs the national batch (the command line): an administrator, or the analyst of the
#: « poste local » mode on their own machine. Everyone else is told whom to ask.
RUN_COMMAND = (
    "`make national` (jeu national synthétique puis calcul sur Dask ; `make national "
    'ARGS="--departements 90,48,23 --scale 0.1"` pour un essai rapide)'
)


def runs_the_batch(viewer: Viewer | None) -> bool:
    """Whether the viewer is the one who starts the national batch (told the command)."""
    if viewer is None:
        return False
    return viewer.can(MANAGE_PEOPLE) or viewer.identity == Viewer.local_analyst().identity


def no_results_message(viewer: Viewer | None) -> str:
    """What the France page says before any national result exists, for this viewer."""
    if runs_the_batch(viewer):
        return f"Aucun résultat national pour le moment. Le calcul de tous les départements se lance avec {RUN_COMMAND}."
    return (
        "Aucun résultat national pour le moment : le calcul de tous les départements est lancé par "
        "l'administrateur de l'application, qui le relance après chaque mise à jour des données. Les résultats "
        "s'afficheront ici dès qu'il aura été fait : demandez-le à l'administrateur de l'application "
        "(le service informatique de la préfecture ou du ministère qui l'héberge)."
    )


PALETTE = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
CHANGE_PALETTE = ("#2166ac", "#67a9cf", "#f7f7f7", "#ef8a62", "#b2182b")


@dataclass
class FranceView:
    """What the France page draws."""

    table: pd.DataFrame  # one row per département, French headers, sortable values
    props: pd.DataFrame  # indexed like ``geometry``: escaped tooltip fields and ``fill``
    geometry: gpd.GeoSeries
    legend_title: str
    legend: list[tuple[str, str]]  # (label, colour)
    notes: list[str] = field(default_factory=list)


def _values(summary: pd.DataFrame, measure: str) -> np.ndarray:
    return pd.to_numeric(summary[measure].replace(SECRET_LABEL, np.nan), errors="coerce").to_numpy(
        dtype=float
    )


def france_view(
    summary: pd.DataFrame,
    outlines: gpd.GeoDataFrame,
    *,
    measure: str = "taux_pour_mille",
    viewer: Viewer | None = None,
) -> FranceView:
    """The France map and table from the batch's summary rows.

    Parameters
    ----------
    summary : DataFrame
        :func:`usecases.national.summary_table` (published figures only).
    outlines : GeoDataFrame
        :func:`geo.communes.departements_from_communes` (``code``, ``nom``, geometry).
    measure : str
        A key of :data:`MEASURES`.
    viewer : Viewer, optional
        Who is looking: the figures of a département outside their territory are not sent
        (grey on the map, absent from the table). Default: every département.

    Returns
    -------
    FranceView
    """
    if measure not in MEASURES:
        raise ParameterError(f"Mesure inconnue : « {measure} ». Choisissez parmi : {', '.join(MEASURES)}.")
    inside = (
        outlines["code"]
        .map(viewer.may_see_departement if viewer is not None else (lambda _c: True))
        .to_numpy(dtype=bool)
    )
    # Only rows gated with the threshold in force are published (an older run with a lower
    # one could show counts now secret): the others wait for make national to redo them.
    stale = set(
        summary.loc[
            summary.get(THRESHOLD, pd.Series(dtype=object)).ne(SETTINGS.privacy_threshold), "departement"
        ]
    )
    summary = summary[
        summary["departement"].isin(outlines["code"][inside]) & ~summary["departement"].isin(stale)
    ]
    rows = summary.set_index("departement").reindex(outlines["code"].to_numpy())
    values = _values(rows.reset_index(), measure) if len(rows) else np.array([])
    present = rows["version"].notna().to_numpy() if "version" in rows else np.zeros(len(rows), bool)
    legend: list[tuple[str, str]] = []
    fill = np.full(len(rows), NO_DATA, dtype=object)
    if measure.startswith("evolution"):
        bounds = np.array([-np.inf, -0.10, -0.02, 0.02, 0.10, np.inf])
        labels = [
            "baisse de plus de 10 %",
            "baisse de 2 à 10 %",
            "stable (± 2 %)",
            "hausse de 2 à 10 %",
            "hausse de plus de 10 %",
        ]
        idx = np.searchsorted(bounds[1:-1], values, side="right")
        ok = np.isfinite(values)
        fill[ok] = np.asarray(CHANGE_PALETTE, dtype=object)[idx[ok]]
        legend = list(zip(labels, CHANGE_PALETTE, strict=True))
    elif np.isfinite(values).any():
        breaks = class_breaks_from_values(values[np.isfinite(values)], k=5)
        classes = classes_from_values(values, breaks)
        ok = classes >= 0
        fill[ok] = np.asarray(PALETTE, dtype=object)[classes[ok]]
        legend = [
            (f"{fmt_decimal(a, 1)} – {fmt_decimal(b, 1)}", c)
            for a, b, c in zip(breaks[:-1], breaks[1:], PALETTE, strict=False)
        ]
    legend.append(
        (
            "pas de résultat ou secret" if inside.all() else "pas de résultat, secret ou hors territoire",
            NO_DATA,
        )
    )
    names = outlines["nom"].fillna("").to_numpy()
    props = pd.DataFrame(
        {
            "departement": [html_text(f"{c} — {n}") for c, n in zip(outlines["code"], names, strict=True)],
            "faits": [html_text(fmt_count(v)) if pd.notna(v) else "—" for v in rows["faits"]],
            "taux": [fmt_decimal(v, 2) if pd.notna(v) else "—" for v in rows["taux_pour_mille"]],
            "evolution": [fmt_change(v) if pd.notna(v) else "—" for v in rows["evolution_annee"]],
            "zones": [str(int(v)) if pd.notna(v) else "—" for v in rows["zones"]],
            "fill": fill,
        },
        index=outlines.index,
    )
    props.loc[~inside, ["faits", "taux", "evolution", "zones"]] = "hors de votre territoire"
    table = pd.DataFrame(
        {
            "Département": outlines["code"].to_numpy(),
            "Nom": names,
            "Faits (12 mois)": pd.to_numeric(
                rows["faits"].replace(SECRET_LABEL, np.nan), errors="coerce"
            ).to_numpy(),
            "Pour 1 000 hab.": pd.to_numeric(rows["taux_pour_mille"], errors="coerce").to_numpy(),
            "Zones prioritaires": pd.to_numeric(rows["zones"], errors="coerce").to_numpy(),
            "Évolution sur un an": pd.to_numeric(rows["evolution_annee"], errors="coerce").to_numpy(),
            "Évolution sur la période précédente": pd.to_numeric(
                rows["evolution_precedente"], errors="coerce"
            ).to_numpy(),
            "Hausses significatives": pd.to_numeric(
                rows["hausses_significatives"], errors="coerce"
            ).to_numpy(),
            "Baisses significatives": pd.to_numeric(
                rows["baisses_significatives"], errors="coerce"
            ).to_numpy(),
            "Remarque": np.where(
                rows["faits"].eq(SECRET_LABEL).to_numpy(),
                f"secret statistique (effectif de 1 à {SETTINGS.privacy_threshold})",
                np.where(
                    present,
                    rows.get("remarque", pd.Series("", index=rows.index))
                    .astype(object)
                    .fillna("")
                    .astype(str)
                    .to_numpy(),
                    np.where(outlines["code"].isin(stale).to_numpy(), STALE, NO_RESULT),
                ),
            ),
        }
    )[inside].reset_index(drop=True)
    notes = []
    missing = int((~present & inside).sum())
    if not inside.all():
        notes.append(
            f"Votre territoire : {int(inside.sum())} département(s) ; les autres ne sont pas montrés."
        )
    if missing:
        notes.append(
            f"{missing} département(s) sans résultat : lancez le calcul national ({RUN_COMMAND})."
            if runs_the_batch(viewer)
            else f"{missing} département(s) sans résultat pour le moment : l'administrateur de l'application "
            "les ajoutera au prochain calcul national."
        )
    notes.append(
        f"Vue diffusable : aucun effectif de 1 à {SETTINGS.privacy_threshold} n'est montré (« secret »), "
        "ni une évolution qui en découle."
    )
    return FranceView(table, props, outlines.geometry, MEASURES[measure], legend, notes)
