"""The territorial organisation on a map: PN/GN competence by commune and the units."""

from __future__ import annotations

import json

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd

from core.escape import html_text
from core.formatting import (
    fmt_number,
)
from core.model import has_position
from rendering.maps.toolkit import Legend, commune_layer_map, legend_html

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


def add_organisation_layer(
    fmap: folium.Map, units: gpd.GeoDataFrame, *, indicative: bool, show_units: bool = True
) -> folium.Map:
    """Overlay the force units (circle markers, escaped tooltip and popup) on a map.

    Uses a GeoJSON layer with circle markers (Leaflet only: folium's ``Popup`` needs
    jQuery, which is not served), so it works offline.
    """
    label = "Unités" + (" (indicatif)" if indicative else "")
    ok = has_position(units.geometry)
    units = units[ok]
    if units.empty:
        return fmap
    props = _unit_props(units)
    props["statut"] = "indicatif" if indicative else "fichier officiel"
    props["fill"] = units["force"].map(FORCE_COLOURS).fillna("#555555").to_numpy()
    props["rayon"] = np.where(units["force"].to_numpy() == "PN", 7, 5)
    gdf = gpd.GeoDataFrame(props, geometry=units.geometry.to_numpy(), crs="EPSG:4326")
    fields = {
        "nom": "Unité",
        "adresse": "Adresse",
        "telephone": "Téléphone",
        "horaires": "Horaires",
        "statut": "Statut",
    }
    folium.GeoJson(
        json.loads(gdf.to_json(drop_id=True)),
        name=label,
        show=show_units,
        marker=folium.CircleMarker(radius=6, weight=1.5, color="#ffffff", fill=True, fill_opacity=0.95),
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "radius": f["properties"]["rayon"]},
        tooltip=folium.GeoJsonTooltip(fields=["nom", "statut"], aliases=["Unité", "Statut"]),
        popup=folium.GeoJsonPopup(fields=list(fields), aliases=list(fields.values())),
    ).add_to(fmap)
    return fmap


def organisation_map(
    assignment: pd.DataFrame,
    units: gpd.GeoDataFrame,
    display_geometry: gpd.GeoSeries,
    *,
    indicative: bool,
    base: str = "plan_ign",
) -> folium.Map:
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
    fmt_km = assignment["distance_km"].map(lambda v: fmt_number(v, 1) + " km")
    fmt_min = assignment["temps_min"].map(lambda v: fmt_number(v, 0) + " min")
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
    fmap = commune_layer_map(props, display_geometry, fields=fields, base=base)
    add_organisation_layer(fmap, units, indicative=indicative)
    suffix = " (indicatif)" if indicative else ""
    fmap.add_child(
        Legend(
            legend_html(
                "Organisation territoriale" + suffix,
                ["Zone police nationale", "Zone gendarmerie nationale", "● unité (commissariat, brigade)"],
                [FORCE_COLOURS["PN"], FORCE_COLOURS["GN"], "#ffffff"],
            )
        )
    )
    return fmap
