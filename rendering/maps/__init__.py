"""Map builders that work offline and escape every value from a file.

The commune choropleths (:mod:`.choropleths`, :func:`.organisation.organisation_map`) are
:class:`.layers.LayerMap` data drawn by the app's own Leaflet component (``ui.layer_map``:
the geometry is sent once per session, a filter sends only texts and colours); the maps of
zones, sites and the mayor's sheet are folium maps (``ui.maps``).

A package of small modules: :mod:`.toolkit` (assets, base maps, commune layer, legends), then
the themed builders :mod:`.choropleths`, :mod:`.organisation`, :mod:`.zones`, :mod:`.siting`;
every public name is importable from ``rendering.maps``.

* Leaflet and its plugins are served by the app (``static/vendor``, installed from npm at
  set-up); :func:`configure_offline_assets` points folium at them instead of public CDNs,
  and drops the assets we do not serve (Bootstrap, jQuery, Font Awesome, awesome-markers):
  features that need them are not used.
* folium does not escape tooltip/popup text: every value that came from a file goes
  through :func:`html_text` before it reaches a feature property.
* No incident point is ever drawn on these maps (privacy rule): only aggregates.
"""

from __future__ import annotations

from rendering.maps.choropleths import change_map, choropleth_from_official, choropleth_from_rates, france_map
from rendering.maps.layers import Layer, LayerMap, layer_map_json, payload_from_layer_map
from rendering.maps.organisation import FORCE_COLOURS, organisation_layer, organisation_map, with_organisation
from rendering.maps.siting import EVALUATION_COLOURS, area_drawing_map, evaluation_map, siting_map
from rendering.maps.streets import add_streets, hot_streets_map
from rendering.maps.toolkit import (
    BASE_MAPS,
    PALETTE,
    SECRET_COLOUR,
    ZERO_COLOUR,
    Legend,
    MetricScale,
    add_commune_outlines,
    base_map,
    base_map_layer,
    base_map_tiles,
    class_legend,
    commune_layer_map,
    configure_offline_assets,
    external_urls_from_map,
    legend_html,
    rate_text,
)
from rendering.maps.zones import (
    EMERGING_COLOURS,
    ZONE_RANK_CSS,
    commune_sheet_map,
    density_png_url,
    emerging_map,
    zones_map,
)

__all__ = [
    "BASE_MAPS",
    "EMERGING_COLOURS",
    "EVALUATION_COLOURS",
    "density_png_url",
    "FORCE_COLOURS",
    "Layer",
    "LayerMap",
    "Legend",
    "MetricScale",
    "PALETTE",
    "SECRET_COLOUR",
    "ZERO_COLOUR",
    "ZONE_RANK_CSS",
    "add_commune_outlines",
    "add_streets",
    "hot_streets_map",
    "area_drawing_map",
    "base_map",
    "base_map_layer",
    "base_map_tiles",
    "change_map",
    "choropleth_from_official",
    "choropleth_from_rates",
    "class_legend",
    "commune_layer_map",
    "commune_sheet_map",
    "configure_offline_assets",
    "emerging_map",
    "evaluation_map",
    "external_urls_from_map",
    "france_map",
    "layer_map_json",
    "legend_html",
    "organisation_layer",
    "organisation_map",
    "payload_from_layer_map",
    "rate_text",
    "siting_map",
    "with_organisation",
    "zones_map",
]
