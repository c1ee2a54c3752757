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
    isochrones: gpd.GeoDataFrame | None = None,
) -> LayerMap:
    """PN and GN zones (communes coloured by force), units, escaped tooltips; with
    ``isochrones``, the areas within each number of minutes of a unit by road.

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
    isochrones : GeoDataFrame, optional
        ``minutes`` and nested areas (EPSG:4326), from :func:`usecases.organisation.organisation_by_road`.
    """
    fmt_km = assignment["distance_km"].map(lambda v: cell_decimal(v, 1) + " km")
    fmt_min = assignment["temps_min"].map(lambda v: cell_count(v) + " min")
    if "estimation" in assignment:
        fmt_min = fmt_min + " (" + assignment["estimation"].astype(str) + ")"
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
    lm = commune_layer_map(props, display_geometry, fields=fields, base=base)
    labels = ["Zone police nationale", "Zone gendarmerie nationale"]
    colours = [FORCE_COLOURS["PN"], FORCE_COLOURS["GN"]]
    if isochrones is not None and len(isochrones):
        layer = isochrone_layer(isochrones)
        if layer is not None:
            lm = lm.with_layer(layer)
            for m, c in zip(layer.props["bande"], layer.fill, strict=True):
                labels.append(m)
                colours.append(c)
    lm = with_organisation(lm, units, indicative=indicative)
    suffix = " (indicatif)" if indicative else ""
    return lm.with_legend(
        legend_html(
            "Organisation territoriale" + suffix,
            [*labels, "● unité (commissariat, brigade)"],
            [*colours, "#ffffff"],
        )
    )


#: Colours of the isochrones' bands, nearest first.
BAND_COLOURS = ("#ffe066", "#fc8d59", "#d7301f", "#7f0000")  # warm: apart from the forces' blue and green


def isochrone_layer(isochrones: gpd.GeoDataFrame) -> Layer | None:
    """The isochrones as rings (each band minus the one inside it), nearest first."""
    rows = isochrones.sort_values("minutes")
    geoms, bands = [], []
    inner = None
    previous = 0
    for m, g in zip(rows["minutes"], rows.geometry, strict=True):
        ring = g if inner is None else g.difference(inner)
        if not ring.is_empty:
            geoms.append(ring)
            bands.append(
                f"à moins de {int(m)} min par la route" if previous == 0 else f"{previous} à {int(m)} min"
            )
        inner, previous = g, int(m)
    if not geoms:
        return None
    props = pd.DataFrame({"bande": bands})
    return Layer(
        name="Temps d'intervention par la route",
        geometry=gpd.GeoSeries(geoms, crs=isochrones.crs),
        props=props,
        fields={"bande": "Temps depuis l'unité la plus proche"},
        fill=list(BAND_COLOURS[: len(geoms)]),
        color="#555555",
        weight=0.4,
        fill_opacity=0.35,
    )
