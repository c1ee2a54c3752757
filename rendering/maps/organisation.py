"""The territorial organisation on a map: PN/GN competence by commune and the units."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from core.escape import html_text
from core.formatting import (
    cell_count,
    cell_decimal,
)
from core.model import has_position
from rendering.maps.layers import Layer, LayerMap
from rendering.maps.toolkit import commune_layer_map, legend_html

FORCE_COLOURS = {"PN": "#1f4e9c", "GN": "#2e8540", "PM": "#9c6b1f"}


def _unit_props(units: gpd.GeoDataFrame) -> pd.DataFrame:
    """Escaped tooltip/popup text of units (every value may come from a file)."""
    esc = lambda col: units[col].fillna("").astype(str).map(html_text)  # noqa: E731
    return pd.DataFrame(
        {
            "nom": esc("nom"),
            "adresse": esc("adresse"),
            "telephone": esc("telephone"),
            "horaires": esc("horaires").str.slice(0, 300),
            "source": esc("source"),
        },
        index=units.index,
    )


def organisation_layer(units: gpd.GeoDataFrame, *, indicative: bool) -> Layer | None:
    """The force units as circle markers (escaped tooltip and popup); ``None`` without any
    located unit."""
    ok = has_position(units.geometry)
    units = units[ok]
    if units.empty:
        return None
    props = _unit_props(units).reset_index(drop=True)
    props["statut"] = "indicatif" if indicative else "fichier officiel"
    return Layer(
        name="Unités" + (" (indicatif)" if indicative else ""),
        geometry=gpd.GeoSeries(units.geometry.to_numpy(), crs="EPSG:4326"),
        props=props,
        fields={
            "nom": "Unité",
            "adresse": "Adresse",
            "telephone": "Téléphone",
            "horaires": "Horaires",
            "statut": "Statut",
        },
        fill=units["force"].map(FORCE_COLOURS).fillna("#555555").astype(str).tolist(),
        color="#ffffff",
        weight=1.5,
        fill_opacity=0.95,
        tooltip_fields=("nom", "statut"),
        radius=np.where(units["force"].to_numpy() == "PN", 7, 5).tolist(),
    )


def with_organisation(lm: LayerMap, units: gpd.GeoDataFrame, *, indicative: bool) -> LayerMap:
    """``lm`` with the force units drawn on top (unchanged without any located unit)."""
    layer = organisation_layer(units, indicative=indicative)
    return lm if layer is None else lm.with_layer(layer)


def organisation_map(
    assignment: pd.DataFrame,
    units: gpd.GeoDataFrame,
    display_geometry: gpd.GeoSeries,
    *,
    indicative: bool,
    base: str = "plan_ign",
) -> LayerMap:
    """PN and GN zones (communes coloured by force), units, escaped tooltips.

    Parameters
    ----------
    assignment : DataFrame
        From :func:`geo.organisation.assignment_from_units`, indexed like ``display_geometry``.
    units : GeoDataFrame
        Units (EPSG:4326).
    display_geometry : GeoSeries
        Simplified commune geometry.
    indicative : bool
        Mark the organisation "indicatif" in the legend and tooltips.
    base : str
        Base map key.
    """
    fmt_km = assignment["distance_km"].map(lambda v: cell_decimal(v, 1) + " km")
    fmt_min = assignment["temps_min"].map(lambda v: cell_count(v) + " min")
    props = pd.DataFrame(
        {
            "nom": assignment["nom"].astype(str).map(html_text),
            "force": assignment["force"]
            .map({"PN": "Police nationale", "GN": "Gendarmerie nationale"})
            .fillna("–"),
            "unite": assignment["unite"].fillna("–").astype(str).map(html_text),
            "distance": fmt_km,
            "temps": fmt_min,
            "fill": assignment["force"].map(FORCE_COLOURS).fillna("#bbbbbb"),
        },
        index=assignment.index,
    )
    fields = {
        "nom": "Commune",
        "force": "Force",
        "unite": "Unité",
        "distance": "Distance",
        "temps": "Temps estimé",
    }
    lm = with_organisation(
        commune_layer_map(props, display_geometry, fields=fields, base=base), units, indicative=indicative
    )
    suffix = " (indicatif)" if indicative else ""
    return lm.with_legend(
        legend_html(
            "Organisation territoriale" + suffix,
            ["Zone police nationale", "Zone gendarmerie nationale", "● unité (commissariat, brigade)"],
            [FORCE_COLOURS["PN"], FORCE_COLOURS["GN"], "#ffffff"],
        )
    )
