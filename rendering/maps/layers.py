"""Maps of polygons and points as plain data, for the app's own Leaflet component.

The choropleths of the communes (rates, official rates, change, organisation, France) are
described here as a :class:`LayerMap`: layers of geometry with their display texts (already
escaped and formatted by the builders) and colours, a legend, a base map. Nothing here draws:
:func:`payload_from_layer_map` turns a map into what the browser receives — the **geometry**
of each layer apart, keyed by a digest of its coordinates (the browser keeps it and the server
sends it once per session), and the **values** (texts, colours) that change with every
filter. ``ui.layer_map`` sends them; its JavaScript draws them with Leaflet's canvas renderer.

Coordinates are rounded to 1e-5 degree (about a metre) on the way out: display geometry is
already simplified far beyond that.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rendering.maps.toolkit import BASE_MAPS, base_map_tiles

#: Grid the coordinates sent to the browser are snapped to (degrees; about a metre).
PRECISION_DEG = 1e-5


@dataclasses.dataclass(frozen=True, eq=False)
class Layer:
    """One layer of polygons (filled or outlined) or of points (circle markers).

    Parameters
    ----------
    name : str
        What the layer shows, in French (« Communes », « Unités »).
    geometry : GeoSeries
        EPSG:4326 polygons or points.
    props : DataFrame
        One row per feature, in the order of ``geometry``: the escaped, formatted texts of
        ``fields`` (a tooltip and a popup show them; they are inserted as HTML).
    fields : mapping
        Column of ``props`` to its French label, in display order.
    fill : sequence of str, optional
        One colour per feature; none: outlines only.
    color, weight, fill_opacity
        Stroke colour, stroke width (px) and fill opacity.
    tooltip_fields : sequence of str, optional
        The fields of the tooltip (default: all); the popup shows all.
    radius : sequence of float, optional
        Points only: the radius of each circle (px).
    badges : sequence of str, optional
        Points only: a numbered badge drawn beside each point instead of a circle (escaped
        text: a zone's or a site's rank, matching its table).
    """

    name: str
    geometry: gpd.GeoSeries
    props: pd.DataFrame
    fields: Mapping[str, str]
    fill: Sequence[str] | None = None
    color: str = "#555555"
    weight: float = 0.6
    fill_opacity: float = 0.75
    tooltip_fields: Sequence[str] | None = None
    radius: Sequence[float] | None = None
    badges: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if len(self.props) != len(self.geometry):
            raise ValueError(
                f"couche {self.name!r} : {len(self.props)} lignes pour {len(self.geometry)} formes"
            )
        missing = [f for f in self.fields if f not in self.props]
        if missing:
            raise ValueError(f"couche {self.name!r} : champs absents {missing}")


@dataclasses.dataclass(frozen=True, eq=False)
class LayerMap:
    """A map: layers drawn in order (the first is the main, filled one), a legend, a base map.

    Parameters
    ----------
    layers : tuple of Layer
    legend : str
        Escaped HTML (:func:`rendering.maps.toolkit.legend_html`).
    base : str
        Base map key (:data:`rendering.maps.toolkit.BASE_MAPS`).
    bounds : tuple, optional
        (minx, miny, maxx, maxy) in degrees to fit the first view to (default: the first
        layer's).
    image : tuple, optional
        A raster drawn under the layers: ``(data URL of a PNG, (west, south, east, north))``
        (the zones' density surface).
    """

    layers: tuple[Layer, ...]
    legend: str
    base: str = "plan_ign"
    bounds: tuple[float, float, float, float] | None = None
    image: tuple[str, tuple[float, float, float, float]] | None = None

    def __post_init__(self) -> None:
        if self.base not in BASE_MAPS:
            raise ValueError(f"fond de carte inconnu : {self.base!r}")

    def with_layer(self, layer: Layer) -> LayerMap:
        """This map with ``layer`` drawn on top."""
        return dataclasses.replace(self, layers=(*self.layers, layer))

    def with_legend(self, legend: str) -> LayerMap:
        """This map with another legend."""
        return dataclasses.replace(self, legend=legend)


def geometry_key(geometry: gpd.GeoSeries) -> str:
    """A digest of a layer's coordinates at the precision sent (equal shapes, equal keys)."""
    h = hashlib.blake2b(digest_size=16)
    for wkb in shapely.to_wkb(_rounded(geometry)):
        h.update(len(wkb).to_bytes(4, "little"))
        h.update(wkb)
    return h.hexdigest()


def _rounded(geometry: gpd.GeoSeries) -> np.ndarray:
    return shapely.set_precision(np.asarray(geometry.to_numpy()), PRECISION_DEG)


def geometry_json(geometry: gpd.GeoSeries) -> str:
    """The layer's geometry as a JSON array of GeoJSON geometries (rounded coordinates)."""
    return "[" + ",".join(shapely.to_geojson(_rounded(geometry)).tolist()) + "]"


#: The last geometries written, by key: every filter change rebuilds a map on the same outlines.
_JSON_BY_KEY: OrderedDict[str, str] = OrderedDict()
_JSON_KEPT = 32
_JSON_LOCK = threading.Lock()


def _geometry_json_for_key(key: str, geometry: gpd.GeoSeries) -> str:
    with _JSON_LOCK:
        found = _JSON_BY_KEY.get(key)
        if found is not None:
            _JSON_BY_KEY.move_to_end(key)
            return found
    text = geometry_json(geometry)
    with _JSON_LOCK:
        _JSON_BY_KEY[key] = text
        while len(_JSON_BY_KEY) > _JSON_KEPT:
            _JSON_BY_KEY.popitem(last=False)
    return text


def _texts(frame: pd.DataFrame, fields: Sequence[str]) -> list[list[str]]:
    return frame[list(fields)].astype(str).to_numpy().tolist()


def values_from_layer(layer: Layer) -> dict[str, Any]:
    """What changes with the filters: texts, colours, style (no geometry)."""
    fields = list(layer.fields)
    kind = "point" if len(layer.geometry) and layer.geometry.geom_type.eq("Point").all() else "polygon"
    out: dict[str, Any] = {
        "name": layer.name,
        "kind": kind,
        "fields": fields,
        "labels": [layer.fields[f] for f in fields],
        "values": _texts(layer.props, fields),
        "tooltip": [fields.index(f) for f in (layer.tooltip_fields or fields)],
        "style": {"color": layer.color, "weight": layer.weight, "fillOpacity": layer.fill_opacity},
        "fill": None if layer.fill is None else [str(c) for c in layer.fill],
    }
    if layer.radius is not None:
        out["radius"] = [float(r) for r in layer.radius]
    if layer.badges is not None:
        out["badges"] = [str(b) for b in layer.badges]
    return out


def payload_from_layer_map(lm: LayerMap) -> tuple[dict[str, Any], dict[str, str]]:
    """What the browser receives for ``lm``: the values, and each layer's geometry by key.

    Returns
    -------
    data : dict
        JSON-ready: ``layers`` (:func:`values_from_layer` plus ``geometry_key``), ``legend``,
        ``base`` (tile URL template, attribution, maximum zoom; ``None`` offline), ``bounds``
        (``[[south, west], [north, east]]``), ``image`` (``{url, bounds}`` or ``None``).
    geometries : dict
        Geometry key to :func:`geometry_json` text.
    """
    layers, geometries = [], {}
    for layer in lm.layers:
        key = geometry_key(layer.geometry)
        if key not in geometries:
            geometries[key] = _geometry_json_for_key(key, layer.geometry)
        layers.append({**values_from_layer(layer), "geometry_key": key})
    if lm.bounds is not None:
        minx, miny, maxx, maxy = lm.bounds
    else:
        minx, miny, maxx, maxy = lm.layers[0].geometry.total_bounds if lm.layers else (-5, 41, 10, 51)
    data = {
        "layers": layers,
        "legend": lm.legend,
        "base": base_map_tiles(lm.base),
        "bounds": [[float(miny), float(minx)], [float(maxy), float(maxx)]],
        "image": None,
    }
    if lm.image is not None:
        url, (w, s, e, n) = lm.image
        data["image"] = {"url": url, "bounds": [[float(s), float(w)], [float(n), float(e)]]}
    return data, geometries


def layer_map_json(lm: LayerMap) -> str:
    """Everything the browser may receive for ``lm``, as one JSON text (audits, tests)."""
    data, geometries = payload_from_layer_map(lm)
    return json.dumps({"data": data, "geometries": geometries}, ensure_ascii=False)
