"""The Diagnostic's map at the level the user chose: communes, EPCI or cantons.

At the EPCI or canton level the map draws the groups' outlines coloured by their own rate (the
ranking's), not the communes: a map that follows the question. The secret of the published
view is the one the ranking uses at that level (:attr:`usecases.diagnostic.DiagnosticView.published_masks`:
primary and secondary, gated with the communes), and the classes come from the rates the
audience may see only. At the commune level the map is the Diagnostic's own
(:func:`commune_map`): one description of what the map draws, whatever the level.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.diagnostic import class_breaks_from_values, classes_from_values
from analysis.organisation import counts_by_area
from analysis.smoothing import poisson_interval_from_counts
from core.privacy import Audience, group_labels
from usecases.diagnostic import LEVELS, RATE_KINDS, DiagnosticView


@dataclass
class LevelMap:
    """What the Diagnostic map draws at one level."""

    rates: gpd.GeoDataFrame  # code, nom, faits, population, taux_pour_mille, secret (+ intervals)
    display_geometry: gpd.GeoSeries  # simplified outlines, indexed like ``rates``
    breaks: np.ndarray
    classes: np.ndarray
    heading: str
    legend_title: str
    area_label: str  # « Commune », « EPCI », « Canton »: the tooltip's first field
    value_column: str = "taux_pour_mille"  # the rate the colours follow
    note: str | None = None  # said under the map (a smoothed rate exists by commune only)


def commune_map(view: DiagnosticView, display_geometry: gpd.GeoSeries) -> LevelMap:
    """The Diagnostic's map by commune (its own rates, classes and labels).

    Parameters
    ----------
    view : DiagnosticView
        From :func:`usecases.diagnostic.diagnostic_for_selection`.
    display_geometry : GeoSeries
        Simplified commune outlines, indexed like ``view.rates``.
    """
    return LevelMap(
        rates=view.rates,
        display_geometry=display_geometry,
        breaks=view.breaks,
        classes=view.classes,
        heading=view.map_heading,
        legend_title=view.legend_title,
        area_label=LEVELS["commune"],
        value_column=view.value_column,
    )


def level_map_for(
    view: DiagnosticView,
    communes: gpd.GeoDataFrame,
    keys: pd.DataFrame,
    level: str,
    outlines: gpd.GeoSeries,
    *,
    audience: Audience,
    method: str = "fisher_jenks",
) -> LevelMap:
    """The map of the Diagnostic at ``level`` (``"epci"`` or ``"canton"``).

    Parameters
    ----------
    view : DiagnosticView
        From :func:`usecases.diagnostic.diagnostic_for_selection` for this audience.
    communes : GeoDataFrame
        Communes of the département, as given to it.
    keys : DataFrame
        Each commune's EPCI and canton (``epci``, ``epci_nom``, ``canton``, ``canton_nom``).
    level : {"epci", "canton"}
        The groups drawn.
    outlines : GeoSeries
        The groups' simplified outlines (EPSG:4326), indexed by their code (``ui.cache.group_display_geometry``).
    audience : Audience
        Who is looking: in the published view a group under secret is drawn as secret.
    method : str
        Class method (:data:`usecases.diagnostic.CLASS_METHODS`).
    """
    if level not in ("epci", "canton"):
        raise ValueError(f"No group map at level {level!r}")
    if view.dwellings is not None:  # per 1,000 dwellings: the groups' denominators too
        communes = communes.assign(population=view.dwellings.reindex(communes["code"].to_numpy()).to_numpy())
    key = keys[level]
    agg = counts_by_area(view.base.incidents, communes, key)
    if audience.published:
        mask = pd.Series(view.published_masks[level], index=group_labels(key.to_numpy()))
        agg["secret"] = mask.reindex(agg.index.astype(str)).fillna(False).to_numpy(dtype=bool)
    else:
        agg["secret"] = False
    low, high = poisson_interval_from_counts(agg["faits"].to_numpy())
    pop = agg["population"].to_numpy(float)
    rate = agg["taux_pour_mille"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(pop > 0, low / pop * 1000, np.nan)
        hi = np.where(pop > 0, high / pop * 1000, np.nan)
    names = keys.drop_duplicates(level).set_index(level)[f"{level}_nom"]
    codes = agg.index.astype(str)
    shapes = outlines.reindex(codes)
    rates = gpd.GeoDataFrame(
        {
            "code": codes,
            "nom": [str(names.get(c, c)) for c in codes],
            "faits": agg["faits"].to_numpy(),
            "population": pop,
            "taux_pour_mille": rate,
            "ic_bas": lo,
            "ic_haut": hi,
            "peu_fiable": (pop > 0) & ((hi - lo) > rate),
            "secret": agg["secret"].to_numpy(dtype=bool),
        },
        geometry=shapes.to_numpy(),
        crs=outlines.crs,
    )
    visible = np.isfinite(rate) & rates["faits"].gt(0).to_numpy()
    if audience.published:
        visible &= ~rates["secret"].to_numpy(dtype=bool)
    values = np.where(visible, rate, np.nan)
    breaks = class_breaks_from_values(values, method=method)
    label = LEVELS[level]
    unit = view.unit
    note = None
    if view.rate == "lisse":
        note = f"Le taux lissé n'existe que par commune : la carte par {label} montre le taux brut de chaque {label}."
    return LevelMap(
        rates=rates,
        display_geometry=rates.geometry,
        breaks=breaks,
        classes=classes_from_values(values, breaks),
        heading=f"{RATE_KINDS['brut']} pour 1 000 {unit} par {label}",
        legend_title=f"{RATE_KINDS['brut']} pour 1 000 {'hab.' if unit == 'habitants' else 'logements'}",
        area_label=label,
        note=note,
    )
