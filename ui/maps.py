"""Static folium maps (zones, sites, the mayor's sheet) rendered once per content and shared
by every session (the commune choropleths are drawn by :mod:`ui.layer_map`).

Building a folium map and rendering it to Leaflet code is most of the server's time on a
page (a Mayenne choropleth: about 0.1 s to build, 0.1 s to render, per session and per run).
A map without interaction (``returned_objects=[]``) depends only on what it is built from,
so :func:`show_map` keys the rendered component arguments by a **fingerprint of the content
it is built from** (:func:`ui.shared_cache.fingerprint`: every frame, array and value passed
to the builder, hashed), never by names or session state: two viewers share a rendered map
only when they would have built the very same one. A published-view map and an
internal-view map differ in their inputs (a gated table, or the ``hide_secret`` argument), so
they never share an entry.

The component arguments are those of ``streamlit_folium.st_folium`` 0.27 (pinned), computed
with its own helpers; ``tests/test_map_payloads.py`` checks that they equal what ``st_folium`` sends.
Interactive maps (drawing an area) still call ``st_folium`` directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import branca
import folium
import folium.elements
import streamlit as st
import streamlit_folium as sf
from streamlit.runtime import get_instance

import rendering.maps.toolkit  # noqa: F401  (renders folium without re-parsing text as templates)
from ui.shared_cache import SharedCache, fingerprint

#: Memory given to rendered maps, shared by all sessions (least recently used out first).
BUDGET_BYTES = 192 * 2**20


@dataclasses.dataclass(frozen=True)
class MapPayload:
    """What ``st_folium`` sends to its front-end for one map (all strings: shareable)."""

    script: str
    header: str
    html: str
    id: str
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    hash_keys: dict[str, str] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def nbytes(self) -> int:
        return (
            len(self.script)
            + len(self.header)
            + len(self.html)
            + 64 * (len(self.css_links) + len(self.js_links))
        )

    def hash_key(self, key: str) -> str:
        """``st_folium``'s component key for a widget key (memoised: a regex over the script)."""
        found = self.hash_keys.get(key)
        if found is None:
            found = self.hash_keys[key] = sf.generate_js_hash(self.script, key, False)
        return found


def _links(fmap: folium.Map) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The CSS and JS links ``st_folium`` collects from a rendered map, in its order."""

    def walk(element: Any):
        if isinstance(element, branca.colormap.ColorMap):
            yield element
        if isinstance(element, folium.elements.JSCSSMixin):
            yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    css: list[str] = []
    js: list[str] = []
    for element in walk(fmap):
        if isinstance(element, branca.colormap.ColorMap):
            js[:0] = [
                "https://d3js.org/d3.v4.min.js",
                "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js",
            ]
        css += [href for _, href in getattr(element, "default_css", [])]
        js += [src for _, src in getattr(element, "default_js", [])]
    return tuple(dict.fromkeys(css)), tuple(dict.fromkeys(js))


#: The rendered maps, shared by all sessions.
PAYLOADS: SharedCache[MapPayload] = SharedCache(BUDGET_BYTES, lambda p: p.nbytes)


def payload_from_map(fmap: folium.Map) -> MapPayload:
    """Render a folium map to the component arguments ``st_folium`` would send (consumes it)."""
    fmap.get_root().render()
    fmap.render()
    html = sf._get_html(fmap)
    header = sf._get_header(fmap)
    script = sf._get_map_string(fmap)
    css, js = _links(fmap)
    return MapPayload(
        script=script, header=header, html=html, id=sf.get_full_id(fmap), css_links=css, js_links=js
    )


def cached_payload(build: Callable[..., folium.Map], *args: Any, **kwargs: Any) -> MapPayload:
    """The rendered map of ``build(*args, **kwargs)``, from the shared cache when the same
    content was rendered before."""
    return PAYLOADS.get_or_make(
        fingerprint(build, args, kwargs), lambda: payload_from_map(build(*args, **kwargs))
    )


def clear_payloads() -> None:
    """Forget every rendered map (tests)."""
    PAYLOADS.clear()


def register_folium_component() -> None:
    """Register ``st_folium``'s component with the server, once (call within a script run).

    ``streamlit_folium`` declares its component when first imported, and Streamlit registers a
    declared component only within a script run. ``app.py`` is first imported by the server
    outside any run (to find its ``st.App``), and its imports reach this module: the
    component was then never registered and its frame answered 404 (a blank map).
    """
    registry = get_instance().component_registry
    if registry.get_component(sf._component_func.name) is None:
        registry.register_component(sf._component_func)


def show_payload(payload: MapPayload, *, key: str, height: int) -> None:
    """Send a rendered map to the page, as ``st_folium(..., returned_objects=[],
    use_container_width=True)`` does."""
    hash_key = payload.hash_key(key)

    def on_change() -> None:
        st.session_state[key] = st.session_state.get(hash_key, {})

    sf._component_func(
        script=payload.script,
        header=payload.header,
        html=payload.html,
        id=payload.id,
        key=hash_key,
        height=height,
        width=None,
        returned_objects=[],
        default={},
        zoom=None,
        center=None,
        feature_group=None,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=list(payload.css_links),
        js_links=list(payload.js_links),
        on_change=on_change,
        wrap_longitude=False,
    )


def show_map(
    key: str,
    build: Callable[..., folium.Map],
    *args: Any,
    height: int,
    **kwargs: Any,
) -> None:
    """Draw ``build(*args, **kwargs)`` (a static folium map), rendered once per content.

    Parameters
    ----------
    key : str
        The widget key (as for ``st_folium``).
    build : callable
        A ``rendering.maps`` function returning a new ``folium.Map``.
    *args, **kwargs
        Its arguments: every one is part of the cache key (see :func:`fingerprint`).
    height : int
        Height in pixels; the width is the container's.
    """
    show_payload(cached_payload(build, *args, **kwargs), key=key, height=height)
