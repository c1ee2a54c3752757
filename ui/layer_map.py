"""The commune choropleths drawn by the app's own Leaflet component, geometry sent once.

A filter, a period or the published-view switch changes the colours and texts of a map, not
its 647 outlines (the Nord). Through ``st_folium`` every run re-sent the whole map (about
666 KB of generated Leaflet script for the Nord) and the browser rebuilt 647 SVG polygons.
Here a map is a :class:`rendering.maps.layers.LayerMap` sent to a ``st.components.v2``
component (``layer_map.js``, in the page itself, no frame):

* the **geometry** of each layer goes under a key (a digest of its rounded coordinates); the
  session remembers the keys it has sent, and a run sends only the geometry this page lacks
  — the outlines of the communes once per session, those of the EPCI or cantons once when
  the level is first chosen;
* the **values** (escaped texts, colours, legend) go with every run, small;
* the page keeps the geometry by key (``globalThis.__cartoGeometry``, a few at most) and
  restyles the drawn shapes in place when the geometry is the same, on one canvas
  (Leaflet's canvas renderer: one element instead of hundreds of SVG paths); the reader's
  zoom is kept while only the values change;
* should the page lack a shape the session believes sent (a reloaded frame of the same
  session), the component says so (``missing`` trigger) and the next run sends it again.

The values of one content are rendered once and shared by every session, keyed by the
fingerprint of everything they are built from (:func:`ui.shared_cache.fingerprint`), as the
folium maps of :mod:`ui.maps` are. The component's JavaScript is loaded as a module from a
``blob:`` URL by Streamlit's front end: the CSP of :mod:`ui.gatekeeper` allows ``blob:``
scripts for it (such a URL can only be made by a script already running in the page).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from core.settings import SETTINGS
from geo.organisation import Organisation
from rendering.maps.layers import LayerMap, payload_from_layer_map
from rendering.maps.organisation import with_organisation
from rendering.maps.zones import ZONE_RANK_RULE, zones_map
from ui.shared_cache import SharedCache, fingerprint

if TYPE_CHECKING:
    import geopandas as gpd

    from usecases.zones import ZonesView

#: Memory given to the rendered maps' values and geometry, shared by all sessions.
BUDGET_BYTES = 128 * 2**20
#: Session-state key of the geometry keys this session has sent.
SENT_KEY = "_carto_geometry_sent"
#: Session-state key prefix: the page asked again for a map's geometry.
RESEND_PREFIX = "_carto_resend_"

_CSS = (
    """
.carto { position: relative; width: 100%; }
.carto-map { position: relative; width: 100%; border-radius: 4px; background: #f4f4f2; }
.carto-map:focus-visible { outline: 3px solid #000091; outline-offset: 2px; }
.carto-legend { position: absolute; z-index: 1000; bottom: 24px; left: 12px; max-width: 46%;
  background: rgba(255,255,255,0.94); color: #0a0a0a; padding: 8px 10px; border-radius: 4px;
  font: 12px/1.35 sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.3); pointer-events: none; }
.carto-narrow .carto-legend { position: static; max-width: none; margin-top: 6px; box-shadow: none;
  border: 1px solid #d0d0d0; }
.carto-tip { border-collapse: collapse; font: 12px/1.35 sans-serif; color: #0a0a0a; }
.carto-tip th { text-align: left; font-weight: 600; padding: 1px 8px 1px 0; vertical-align: top; }
.carto-tip td { padding: 1px 0; }
"""
    + ZONE_RANK_RULE
)

_COMPONENT = st.components.v2.component(
    "carto_layer_map",
    js=(Path(__file__).with_name("layer_map.js")).read_text(encoding="utf-8"),
    css=_CSS,
    isolate_styles=False,
)


@dataclasses.dataclass(frozen=True)
class RenderedLayerMap:
    """A map's values (JSON-ready, without geometry) and its geometry by key."""

    data: dict[str, Any]
    geometries: dict[str, str]
    nbytes: int


#: The rendered maps, shared by all sessions.
RENDERED: SharedCache[RenderedLayerMap] = SharedCache(BUDGET_BYTES, lambda r: r.nbytes)


def rendered_from_layer_map(lm: LayerMap) -> RenderedLayerMap:
    """The payload of ``lm`` (:func:`rendering.maps.layers.payload_from_layer_map`), sized."""
    data, geometries = payload_from_layer_map(lm)
    size = len(json.dumps(data, ensure_ascii=False)) + sum(len(g) for g in geometries.values())
    return RenderedLayerMap(data=data, geometries=geometries, nbytes=size)


def cached_layer_map(
    build: Callable[..., LayerMap], *args: Any, organisation: Organisation | None = None, **kwargs: Any
) -> RenderedLayerMap:
    """The rendered ``build(*args, **kwargs)`` (plus the organisation's units), from the
    shared cache when the same content was rendered before."""
    overlay = None if organisation is None else (organisation.units, organisation.indicative)

    def make() -> RenderedLayerMap:
        lm = build(*args, **kwargs)
        if organisation is not None:
            lm = with_organisation(lm, organisation.units, indicative=organisation.indicative)
        return rendered_from_layer_map(lm)

    return RENDERED.get_or_make(fingerprint(build, args, kwargs, overlay), make)


def clear_rendered() -> None:
    """Forget every rendered map (tests)."""
    RENDERED.clear()


def data_for_session(
    rendered: RenderedLayerMap, sent: set[str], *, height: int, label: str
) -> dict[str, Any]:
    """The component's data for one run: the values, and the geometry not in ``sent``
    (which it then holds)."""
    missing = {k: g for k, g in rendered.geometries.items() if k not in sent}
    sent.update(missing)
    return {
        **rendered.data,
        "geometries": missing,
        "height": int(height),
        "label": label,
        "static_url": SETTINGS.static_url.rstrip("/"),
    }


def _ask_again(key: str) -> Callable[[], None]:
    def callback() -> None:
        st.session_state[RESEND_PREFIX + key] = True

    return callback


def show_layer_map(
    key: str,
    build: Callable[..., LayerMap],
    *args: Any,
    height: int,
    label: str = "Carte",
    organisation: Organisation | None = None,
    **kwargs: Any,
) -> None:
    """Draw ``build(*args, **kwargs)`` (a :class:`LayerMap`), its geometry sent once per session.

    Parameters
    ----------
    key : str
        The component's key (one per map on a page).
    build : callable
        A ``rendering.maps`` builder returning a :class:`LayerMap`.
    *args, **kwargs
        Its arguments: every one is part of the cache key (see :func:`fingerprint`).
    height : int
        Height in pixels; the width is the container's.
    label : str
        The map's accessible name (read by a screen reader; the table beside it holds the
        same figures).
    organisation : Organisation, optional
        Police and gendarmerie units drawn on top.
    """
    show_rendered_layer_map(
        key, cached_layer_map(build, *args, organisation=organisation, **kwargs), height=height, label=label
    )


def show_rendered_layer_map(
    key: str, rendered: RenderedLayerMap, *, height: int, label: str = "Carte"
) -> None:
    """Draw a rendered map (:func:`cached_layer_map`), its geometry sent once per session (see
    :func:`show_layer_map`)."""
    sent: set[str] = st.session_state.setdefault(SENT_KEY, set())
    if st.session_state.pop(RESEND_PREFIX + key, False):
        sent.difference_update(rendered.geometries)
    data = data_for_session(rendered, sent, height=height, label=label)
    _COMPONENT(key=key, data=data, height=height, on_missing_change=_ask_again(key))


def zones_layer_map(view: ZonesView, display_geometry: gpd.GeoSeries, *, base: str) -> RenderedLayerMap:
    """The Zones page's map of a view, rendered once per content: the page draws it, and
    :func:`ui.prefetch.warm_zones` renders it ahead while the analyst reads the Diagnostic."""
    return cached_layer_map(
        zones_map, view.zones_wgs84, view.analysis.density, view.density_bounds, display_geometry, base=base
    )
