"""The folium toolkit of every map: offline assets, base maps, the commune layer, legends.

Leaflet and its plugins are served by the app (``static/vendor``, installed from npm at set-up);
:func:`configure_offline_assets` points folium at them instead of public CDNs and drops the
assets we do not serve. folium does not escape tooltip or popup text: every value that came
from a file goes through :func:`core.escape.html_text` before it reaches a feature property.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import branca.element
import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import xyzservices.providers as xyz
from branca.element import Element, Figure, MacroElement, Template

from core.errors import ParameterError
from core.escape import html_text
from core.formatting import (
    cell_decimal,
    fmt_number,
)
from core.settings import SETTINGS

if TYPE_CHECKING:
    from rendering.maps.layers import LayerMap


class _RenderedText(Element):
    """Text already rendered by a template: sent as it is, never parsed again."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: object) -> str:
        return self._text


def _render_macro_once(self: MacroElement, **kwargs: object) -> None:
    """``MacroElement.render`` without parsing its output as a template again.

    branca 0.8 wraps each element's rendered header, html and script in ``Element(text)``, which
    compiles the text as a Jinja2 template, rendered again with the figure. A value from a file
    in a tooltip (``{{ ... }}``, ``{% ... %}``) was then evaluated on the server: template
    injection, and a Jinja2 template can reach ``os``. Compiling every marker's and every
    GeoJSON's script (its data included) was also a third of the Zones map's rendering time on
    the Nord. Same output otherwise.
    """
    figure = self.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("Cet élément de carte ne peut être rendu hors d'une figure.")
    macros = self._template.module.__dict__
    for part in ("header", "html", "script"):
        macro = macros.get(part)
        if macro is not None:
            getattr(figure, part).add_child(_RenderedText(macro(self, kwargs)), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)


branca.element.MacroElement.render = _render_macro_once


BASE_MAPS: dict[str, str] = {
    "plan_ign": "Plan IGN",
    "ortho_ign": "Orthophotos IGN",
    "osm": "OpenStreetMap",
    "aucun": "Aucun fond (hors ligne)",
}


#: Sequential palette (light to dark red), colour-blind friendly (ColorBrewer OrRd).
PALETTE = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000", "#7f0000", "#4d0000")


SECRET_COLOUR = "#bdbdbd"


ZERO_COLOUR = "#ffffff"


def configure_offline_assets(static_url: str | None = None) -> None:
    """Make folium load Leaflet (and the plugins we use) from the app, not from CDNs.

    Parameters
    ----------
    static_url : str, optional
        URL prefix of the vendored files (default ``SETTINGS.static_url``, i.e.
        ``/app/static/vendor`` served by Streamlit's static file serving).
    """
    url = (static_url or SETTINGS.static_url).rstrip("/")
    folium.Map.default_js = [("leaflet", f"{url}/leaflet/leaflet.js")]
    folium.Map.default_css = [("leaflet_css", f"{url}/leaflet/leaflet.css")]
    folium.plugins.MarkerCluster.default_js = [
        ("markerclusterjs", f"{url}/leaflet.markercluster/leaflet.markercluster.js")
    ]
    folium.plugins.MarkerCluster.default_css = [
        ("markerclustercss", f"{url}/leaflet.markercluster/MarkerCluster.css"),
        ("markerclusterdefaultcss", f"{url}/leaflet.markercluster/MarkerCluster.Default.css"),
    ]
    folium.plugins.Draw.default_js = [("leaflet_draw_js", f"{url}/leaflet-draw/leaflet.draw.js")]
    folium.plugins.Draw.default_css = [("leaflet_draw_css", f"{url}/leaflet-draw/leaflet.draw.css")]


def external_urls_from_map(fmap: folium.Map) -> set[str]:
    """Script and stylesheet URLs of a rendered map that point to another host.

    Tile URL templates are not included (base maps are optional online extras).
    """
    rendered = fmap.get_root().render()
    urls = re.findall(r'(?:src|href)="(https?://[^"]+)"', rendered)
    return set(urls)


def base_map_tiles(key: str) -> dict[str, object] | None:
    """Tile URL template, attribution and maximum zoom of a base map (:data:`BASE_MAPS`);
    ``None`` for no base map (offline)."""
    if key == "aucun":
        return None
    if key == "plan_ign":
        p = xyz.GeoportailFrance.plan
    elif key == "ortho_ign":
        p = xyz.GeoportailFrance.orthos
    elif key == "osm":
        p = xyz.OpenStreetMap.Mapnik
    else:
        raise ParameterError(f"Fond de carte inconnu : {key!r} ({', '.join(BASE_MAPS)}).")
    attribution = "© IGN – Géoplateforme" if key != "osm" else p.html_attribution
    return {"url": p.build_url(), "attribution": attribution, "max_zoom": int(p.get("max_zoom", 19))}


def base_map_layer(key: str) -> folium.TileLayer | None:
    """Tile layer of a base map choice (see :data:`BASE_MAPS`); ``None`` for no base map."""
    tiles = base_map_tiles(key)
    if tiles is None:
        return None
    return folium.TileLayer(
        tiles=tiles["url"],
        attr=tiles["attribution"],
        name=BASE_MAPS[key],
        max_zoom=tiles["max_zoom"],
        overlay=False,
        control=False,
    )


def base_map(bounds: Sequence[float], *, base: str = "plan_ign") -> folium.Map:
    """An empty map fitted to ``bounds`` (minx, miny, maxx, maxy in degrees)."""
    configure_offline_assets()
    fmap = folium.Map(
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
        zoom_start=9,
        tiles=None,
        control_scale=False,
        prefer_canvas=False,
        zoom_snap=0.25,
    )
    fmap.add_child(MetricScale())
    layer = base_map_layer(base)
    if layer is not None:
        layer.add_to(fmap)
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return fmap


class MetricScale(MacroElement):
    """Leaflet scale bar in metres and kilometres only."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, metric: true}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


class Legend(MacroElement):
    """A plain HTML legend (no d3, unlike branca's colormaps)."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="carto-legend" style="position:absolute; z-index:9999; bottom:24px; left:12px;
             background:rgba(255,255,255,0.92); padding:8px 10px; border-radius:4px;
             font:12px/1.35 sans-serif; box-shadow:0 1px 4px rgba(0,0,0,.3);">
          {{ this.body }}
        </div>
        {% endmacro %}
        """
    )

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.body = body


def add_commune_outlines(fmap: folium.Map, display_geometry: gpd.GeoSeries) -> None:
    """Grey commune outlines (EPSG:4326), unfilled: the map reads offline, without tiles."""
    outlines = gpd.GeoDataFrame(geometry=display_geometry.to_numpy(), crs="EPSG:4326")
    folium.GeoJson(
        json.loads(outlines.to_json(drop_id=True)),
        name="Communes",
        style_function=lambda f: {"fill": False, "color": "#777777", "weight": 0.5},
    ).add_to(fmap)


def legend_html(title: str, labels: Sequence[str], colours: Sequence[str]) -> str:
    """HTML of a legend: escaped title and labels, one colour swatch each."""
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:12px;margin-right:6px;'
        f'border:1px solid #777;background:{c}"></span>{html_text(lab)}</div>'
        for lab, c in zip(labels, colours, strict=True)
    )
    return f"<b>{html_text(title)}</b>{rows}"


#: The name of a map's main layer, by what its polygons are.
LAYER_NAMES = {"Commune": "Communes", "EPCI": "EPCI", "Canton": "Cantons", "Département": "Départements"}


def commune_layer_map(
    props: pd.DataFrame,
    display_geometry: gpd.GeoSeries,
    *,
    fields: dict[str, str],
    base: str,
    area_label: str = "Commune",
) -> LayerMap:
    """A map of commune polygons filled with ``props["fill"]``, tooltip and popup on ``fields``.

    Parameters
    ----------
    props : DataFrame
        One row per commune: the (already escaped and formatted) values of ``fields`` and a
        ``fill`` colour; indexed like ``display_geometry``.
    display_geometry : GeoSeries
        Simplified geometry (EPSG:4326).
    fields : dict
        Property name to French label, in display order.
    base : str
        Base map key.
    area_label : str, default "Commune"
        What a polygon is (« EPCI », « Canton », « Département »): names the layer.

    Returns
    -------
    LayerMap
        One layer (« Communes », « EPCI »…), without a legend yet (:meth:`LayerMap.with_legend`).
    """
    from rendering.maps.layers import Layer, LayerMap

    geometry = gpd.GeoSeries(display_geometry.to_numpy(), crs="EPSG:4326")
    layer = Layer(
        name=LAYER_NAMES.get(area_label, area_label),
        geometry=geometry,
        props=props[list(fields)].reset_index(drop=True),
        fields=fields,
        fill=props["fill"].astype(str).tolist(),
    )
    return LayerMap(layers=(layer,), legend="", base=base)


def class_legend(
    breaks: np.ndarray, palette: Sequence[str], classes: np.ndarray | None = None
) -> tuple[list[str], list[str]]:
    """Labels and colours of the classes of a choropleth; none when no unit falls in a class
    (every value secret or missing: bounds would then be made of nothing that may be shown)."""
    if classes is not None and not (np.asarray(classes) >= 0).any():
        return [], []
    labels = [
        f"{fmt_number(a, 2)} – {fmt_number(b, 2)}" for a, b in zip(breaks[:-1], breaks[1:], strict=True)
    ]
    return labels, list(palette[: len(labels)])


def rate_text(values: pd.Series, hidden: np.ndarray, hidden_text: str = "secret") -> np.ndarray:
    """Rates per 1,000 as read in a tooltip: « 12,34 ‰ », « — » without a rate."""
    text = values.map(lambda v: cell_decimal(v, 2) + " ‰" if np.isfinite(v) else "—").to_numpy()
    return np.where(hidden, hidden_text, text)
