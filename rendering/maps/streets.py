"""The road network drawn on a folium map: main roads always, streets from the zoom at which
they can be read (:data:`STREETS_FROM_ZOOM`), widths and colours by importance, each segment's
name in its tooltip (escaped: it came from a file)."""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import numpy as np
from branca.element import MacroElement
from jinja2 import Template

from core.escape import html_text
from core.formatting import fmt_count, fmt_number
from rendering.maps.toolkit import Legend, add_commune_outlines, base_map, legend_html

#: Importance -> colour: main roads warm, streets grey (the app's maps and the PDF's).
STREET_COLOURS = {1: "#d98c00", 2: "#e0a030", 3: "#e6b85c", 4: "#9a9a9a", 5: "#b4b4b4"}
#: Importance -> width of the line on the app's maps (pixels).
STREET_WIDTHS = {1: 4.0, 2: 3.4, 3: 2.8, 4: 2.0, 5: 1.4}
#: Streets (importance 4 and 5) are shown from this zoom on (a town's streets can be told apart).
STREETS_FROM_ZOOM = 14


class _ShownFromZoom(MacroElement):
    """Adds a layer to the map only while the zoom is at least ``zoom``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this.map_name }}, layer = {{ this.layer_name }};
            function fit() {
                if (map.getZoom() >= {{ this.zoom }}) { if (!map.hasLayer(layer)) { map.addLayer(layer); } }
                else if (map.hasLayer(layer)) { map.removeLayer(layer); }
            }
            map.on("zoomend", fit);
            fit();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, map_name: str, layer_name: str, zoom: int) -> None:
        super().__init__()
        self.map_name, self.layer_name, self.zoom = map_name, layer_name, int(zoom)


def add_streets(fmap: folium.Map, streets: gpd.GeoDataFrame) -> None:
    """Draw ``streets`` (EPSG:4326, ``nom``, ``importance``) on ``fmap``, streets fitted to the zoom."""
    if streets is None or streets.empty:
        return
    frame = gpd.GeoDataFrame(
        {
            "nom": streets["nom"]
            .map(lambda v: html_text(v) if isinstance(v, str) and v else "rue sans nom")
            .to_numpy(),
            "imp": streets["importance"].astype(int).to_numpy(),
        },
        geometry=streets.geometry.to_numpy(),
        crs="EPSG:4326",
    )

    def style(feature: dict) -> dict:
        imp = int(feature["properties"]["imp"])
        return {
            "color": STREET_COLOURS.get(imp, STREET_COLOURS[5]),
            "weight": STREET_WIDTHS.get(imp, 1.4),
            "opacity": 0.9,
        }

    for label, part, zoom in (
        ("Grands axes", frame[frame["imp"] <= 3], None),
        ("Rues", frame[frame["imp"] > 3], STREETS_FROM_ZOOM),
    ):
        if part.empty:
            continue
        layer = folium.GeoJson(
            json.loads(part.to_json(drop_id=True)),
            name=label,
            style_function=style,
            tooltip=folium.GeoJsonTooltip(fields=["nom"], labels=False),
        )
        if zoom is None:
            layer.add_to(fmap)
        else:
            group = folium.FeatureGroup(name=label, show=False)
            layer.add_to(group)
            group.add_to(fmap)
            fmap.add_child(_ShownFromZoom(fmap.get_name(), group.get_name(), zoom))


#: Classes of incidents per km on the hot streets map, lightest first.
HOT_COLOURS = ("#fdcc8a", "#fc8d59", "#e34a33", "#b30000")


def hot_streets_map(
    segments: gpd.GeoDataFrame, display_geometry: gpd.GeoSeries, *, base: str = "plan_ign"
) -> folium.Map:
    """The street segments of the hot streets section, coloured by incidents per km (quartiles
    of the segments drawn), wider the busier, over the commune outlines.

    Parameters
    ----------
    segments : GeoDataFrame
        EPSG:4326 lines with ``rang``, ``rue``, ``entre``, ``faits``, ``par_km`` (as
        :func:`usecases.hot_streets.hot_streets_for_selection` restricts them).
    display_geometry : GeoSeries
        Commune outlines (EPSG:4326).
    base : str
        Base map key.
    """
    bounds = segments.total_bounds if len(segments) else display_geometry.total_bounds
    fmap = base_map(bounds, base=base)
    add_commune_outlines(fmap, display_geometry)
    if len(segments):
        per_km = segments["par_km"].to_numpy(dtype=float)
        edges = np.unique(np.quantile(per_km, [0.25, 0.5, 0.75]))
        klass = np.searchsorted(edges, per_km, side="right")
        frame = gpd.GeoDataFrame(
            {
                "rue": segments["rue"].map(html_text).to_numpy(),
                "entre": segments["entre"].map(html_text).to_numpy(),
                "faits": segments["faits"].map(lambda v: fmt_count(int(v))).to_numpy(),
                "par_km": [fmt_number(v, 1) for v in per_km],
                "classe": klass,
            },
            geometry=segments.geometry.to_numpy(),
            crs="EPSG:4326",
        )
        folium.GeoJson(
            json.loads(frame.to_json(drop_id=True)),
            name="Rues les plus touchées",
            style_function=lambda f: {
                "color": HOT_COLOURS[min(int(f["properties"]["classe"]), 3)],
                "weight": 3 + 1.5 * int(f["properties"]["classe"]),
                "opacity": 0.95,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["rue", "entre", "faits", "par_km"],
                aliases=["Rue", "Tronçon", "Faits", "Faits par km"],
            ),
        ).add_to(fmap)
        cuts = [fmt_number(e, 1) for e in edges]
        labels = (
            [f"moins de {cuts[0]} faits/km"]
            + [f"{a} à {b} faits/km" for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
            + [f"{cuts[-1]} faits/km et plus"]
            if cuts
            else ["faits par km"]
        )
        fmap.add_child(
            Legend(legend_html("Rues les plus touchées", labels, list(HOT_COLOURS[: len(labels)])))
        )
    return fmap
