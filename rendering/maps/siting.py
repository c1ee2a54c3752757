"""Camera siting and action evaluation maps, and the map on which an area is drawn."""

from __future__ import annotations

import json
from collections.abc import Sequence

import folium
import folium.plugins
import geopandas as gpd

from analysis.siting_base import EXISTING_SITE
from core.escape import html_text
from core.formatting import (
    fmt_number,
)
from rendering.maps.streets import add_streets
from rendering.maps.toolkit import Legend, add_commune_outlines, base_map, legend_html
from rendering.maps.zones import add_rank_badges


def area_drawing_map(
    bounds: Sequence[float], display_geometry: gpd.GeoSeries, *, base: str = "plan_ign"
) -> folium.Map:
    """A map to draw the study area on (polygons and rectangles; Leaflet.draw served locally)."""
    fmap = base_map(bounds, base=base)
    folium.GeoJson(
        json.loads(
            gpd.GeoDataFrame(geometry=display_geometry.to_numpy(), crs="EPSG:4326").to_json(drop_id=True)
        ),
        name="Communes",
        style_function=lambda f: {"fill": False, "color": "#777777", "weight": 0.6},
    ).add_to(fmap)
    folium.plugins.Draw(
        export=False,
        show_geometry_on_click=False,
        draw_options={
            "polyline": False,
            "circle": False,
            "circlemarker": False,
            "marker": False,
            "polygon": {"allowIntersection": False, "showArea": True, "metric": True},
            "rectangle": {"metric": True},
        },
        edit_options={"edit": True, "remove": True},
    ).add_to(fmap)
    return fmap


def siting_map(
    sites: gpd.GeoDataFrame,
    *,
    radius: float,
    bounds: Sequence[float],
    base: str = "plan_ign",
    area: gpd.GeoSeries | None = None,
    display_geometry: gpd.GeoSeries | None = None,
    streets: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Chosen and existing camera sites with their coverage circles, over the streets.

    Parameters
    ----------
    sites : GeoDataFrame
        EPSG:4326, ``rang`` and ``statut`` (``existante`` or ``nouvelle``).
    radius : float
        Coverage radius, metres.
    bounds : sequence of float
        Extent to show (degrees).
    base : str
        Base map key.
    area : GeoSeries, optional
        Study area (EPSG:4326), outlined.
    display_geometry : GeoSeries, optional
        Commune outlines (EPSG:4326): the map still reads offline, without base tiles.
    streets : GeoDataFrame, optional
        The roads around the sites (EPSG:4326, ``nom``, ``importance``): drawn offline too.
    """
    fmap = base_map(bounds, base=base)
    if display_geometry is not None and len(display_geometry):
        add_commune_outlines(fmap, display_geometry)
    if streets is not None:
        add_streets(fmap, streets)
    if area is not None and len(area):
        folium.GeoJson(
            json.loads(gpd.GeoDataFrame(geometry=area.to_numpy(), crs="EPSG:4326").to_json(drop_id=True)),
            name="Secteur étudié",
            style_function=lambda f: {"fill": False, "color": "#e67e00", "weight": 2, "dashArray": "6 4"},
        ).add_to(fmap)
    for r, g in zip(sites.itertuples(), sites.geometry, strict=True):
        colour = "#777777" if r.statut == EXISTING_SITE else "#000091"
        label = (
            "caméra existante"
            if r.statut == EXISTING_SITE
            else f"site n° {int(r.rang)} : gain {fmt_number(float(r.gain))}"
            if "gain" in sites.columns and not isinstance(r.gain, str)
            else f"site n° {int(r.rang)}"
        )
        place = getattr(r, "adresse", None)
        if isinstance(place, str) and place and place != "–":
            label = f"{label} — {html_text(place)}"
        folium.Circle(
            [g.y, g.x], radius=float(radius), color=colour, weight=1, fill=True, fill_opacity=0.12
        ).add_to(fmap)
        folium.CircleMarker(
            [g.y, g.x], radius=4, color=colour, fill=True, fill_opacity=1, tooltip=label
        ).add_to(fmap)
    # Each new site's number beside it: the rank of the table, so that map and table match.
    new_sites = sites[sites["statut"] != EXISTING_SITE]
    if len(new_sites):
        add_rank_badges(fmap, new_sites["rang"], new_sites.geometry, name="Numéro des sites")
    items = ["nouveau site (numéro : rang du tableau ; cercle : champ couvert)", "caméra existante"]
    colours = ["#000091", "#777777"]
    if area is not None and len(area):
        items.append("secteur étudié")
        colours.append("#e67e00")
    fmap.add_child(Legend(legend_html(f"Vidéoprotection (rayon {radius:.0f} m)", items, colours)))
    return fmap


EVALUATION_COLOURS = {"cible": "#000091", "tampon": "#e67e00", "temoin": "#2a9d8f"}


def evaluation_map(
    areas: gpd.GeoDataFrame, display_geometry: gpd.GeoSeries, *, base: str = "plan_ign"
) -> folium.Map:
    """The target, buffer and control areas of an evaluation over the commune outlines.

    Parameters
    ----------
    areas : GeoDataFrame
        From :func:`usecases.evaluation.areas_for_map` (``zone``, ``libelle``; EPSG:4326).
    display_geometry : GeoSeries
        Simplified commune geometry (EPSG:4326), drawn as outlines.
    base : str
        Base map key.
    """
    shown = areas[~areas.geometry.is_empty]
    fmap = base_map(shown.total_bounds, base=base)
    add_commune_outlines(fmap, display_geometry)
    for zone in ("temoin", "tampon", "cible"):  # the target on top
        part = shown[shown["zone"] == zone]
        if part.empty:
            continue
        colour = EVALUATION_COLOURS[zone]
        folium.GeoJson(
            json.loads(part[["libelle", "geometry"]].to_json(drop_id=True)),
            name=str(part["libelle"].iloc[0]),
            style_function=lambda f, c=colour: {
                "fillColor": c,
                "color": c,
                "weight": 1.5,
                "fillOpacity": 0.25,
            },
            tooltip=folium.GeoJsonTooltip(fields=["libelle"], labels=False),
        ).add_to(fmap)
    labels = ["Zone cible", "Zone tampon", "Zone témoin"]
    fmap.add_child(Legend(legend_html("Évaluation", labels, list(EVALUATION_COLOURS.values()))))
    return fmap
