"""Priority zones, their density surface, emerging hot spots, and a commune's sheet map."""

from __future__ import annotations

import base64
import json
import struct
import zlib

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd

from core.escape import html_text
from core.formatting import (
    fmt_number,
)
from rendering.maps.layers import Layer, LayerMap
from rendering.maps.toolkit import Legend, add_commune_outlines, base_map, legend_html

#: The density ramp (OrRd) in 256 levels: RGBA, alpha 90 -> 230 (level 0 is for the lowest
#: density shown; no density at all is transparent).
_RAMP_STOPS = np.array(
    [[254, 240, 217], [253, 204, 138], [252, 141, 89], [227, 74, 51], [179, 0, 0]], dtype=float
)


def _ramp_lut() -> np.ndarray:
    t = np.linspace(0.0, 1.0, 256)
    pos = t * (len(_RAMP_STOPS) - 1)
    i = np.clip(np.floor(pos).astype(int), 0, len(_RAMP_STOPS) - 2)
    f = (pos - i)[:, None]
    rgb = _RAMP_STOPS[i] * (1 - f) + _RAMP_STOPS[i + 1] * f
    return np.column_stack([rgb, 90 + 140 * t]).round().astype(np.uint8)


_RAMP_LUT = _ramp_lut()


def _density_rgba(density: np.ndarray) -> np.ndarray:
    """Density raster to an RGBA image (OrRd ramp in 256 levels, transparent where zero), north up."""
    d = np.asarray(density, dtype=np.float32)
    shown = d > 0
    top = float(np.quantile(d[shown], 0.995)) if shown.any() else 1.0
    level = np.clip(d * np.float32(255.0 / top), 0, 255).round().astype(np.uint8)
    rgba = _RAMP_LUT[level]
    rgba[~shown] = 0
    return np.flipud(rgba)


def density_png_url(density: np.ndarray) -> str:
    """The density raster (row 0 to the south) as a PNG data URL, north up.

    Written here (RGBA, 8 bits, no filter) with zlib level 6: folium's encoder uses level 9,
    twice as slow for 6 % fewer bytes (the Nord: 0.14 s against 0.07 s, 120 against 127 KB).
    """
    rgba = _density_rgba(density)
    height, width, _ = rgba.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), rgba.reshape(height, -1)], axis=1)

    def chunk(tag: bytes, body: bytes) -> bytes:
        return (
            struct.pack("!I", len(body)) + tag + body + struct.pack("!I", zlib.crc32(tag + body) & 0xFFFFFFFF)
        )

    png = b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", struct.pack("!2I5B", width, height, 8, 6, 0, 0, 0)),
            chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)),
            chunk(b"IEND", b""),
        ]
    )
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def zones_map(
    zones: gpd.GeoDataFrame,
    density: np.ndarray,
    density_bounds_wgs84: tuple[float, float, float, float],
    display_geometry: gpd.GeoSeries,
    *,
    base: str = "plan_ign",
) -> LayerMap:
    """Priority zones, numbered by rank, over the density surface (an image in metres, not
    Leaflet.heat) and the commune outlines, for ``ui.layer_map``.

    Parameters
    ----------
    zones : GeoDataFrame
        From :func:`analysis.zones.zones_from_incidents`, in EPSG:4326.
    density : ndarray (ny, nx)
        Density raster, row 0 to the south.
    density_bounds_wgs84 : tuple
        (west, south, east, north) of the raster.
    display_geometry : GeoSeries
        Commune outlines (EPSG:4326): the same shapes as the Diagnostic's, already in the page.
    base : str
        Base map key.
    """
    outlines = Layer(
        "Communes",
        display_geometry,
        pd.DataFrame(index=range(len(display_geometry))),
        {},
        color="#777777",
        weight=0.5,
    )
    layers = [outlines]
    if len(zones):
        props = pd.DataFrame(
            {
                "rang": zones["rang"].astype(int).astype(str).to_numpy(),
                "nom": (zones["nom"] if "nom" in zones else zones["id"])
                .astype(str)
                .map(html_text)
                .to_numpy(),
                "faits": zones["faits"].map(lambda v: fmt_number(v, 0)).to_numpy(),
                "score": zones["score"].map(lambda v: fmt_number(v, 0)).to_numpy(),
                "communes": zones["communes"].astype(str).map(html_text).to_numpy(),
            }
        )
        geometry = gpd.GeoSeries(zones.geometry.to_numpy(), crs="EPSG:4326")
        layers.append(
            Layer(
                "Zones prioritaires",
                geometry,
                props,
                {"nom": "Zone", "faits": "Faits", "score": "Score", "communes": "Communes"},
                fill=["#000091"] * len(props),
                color="#000091",
                weight=2.5,
                fill_opacity=0.15,
            )
        )
        # Zones are a few hundred metres across: their rank, drawn beside them, keeps them
        # visible at the scale of the département.
        layers.append(
            Layer(
                "Rang des zones",
                gpd.GeoSeries(geometry.representative_point().to_numpy(), crs="EPSG:4326"),
                props[["rang", "nom"]],
                {"rang": "Zone n°", "nom": "Zone"},
                badges=list(props["rang"]),
            )
        )
    legend = legend_html(
        "Zones prioritaires",
        ["zone (numéro : rang)", "densité des faits (faible → forte)"],
        ["#000091", "#e34a33"],
    )
    return LayerMap(
        tuple(layers),
        legend,
        base=base,
        bounds=tuple(display_geometry.total_bounds),
        image=(density_png_url(density), tuple(density_bounds_wgs84)),
    )


#: The numbered badge of a zone or a camera site (folium maps and ``ui.layer_map``).
ZONE_RANK_RULE = (
    ".zone-rank{background:#000091;color:#fff;border:1px solid #fff;border-radius:11px;"
    "width:22px;height:22px;line-height:20px;text-align:center;font:bold 12px sans-serif;"
    "box-shadow:0 0 2px #000}"
)
ZONE_RANK_CSS = f"<style>{ZONE_RANK_RULE}</style>"


def add_rank_badges(fmap: folium.Map, ranks, points, *, name: str) -> None:
    """A numbered badge beside each point (EPSG:4326), its rank: zones and camera sites are
    matched with their table by it."""
    layer = folium.FeatureGroup(name=name)
    for rank, point in zip(pd.Series(ranks).astype(int), points, strict=True):
        folium.Marker(
            [point.y, point.x],
            icon=folium.DivIcon(
                html=f'<div class="zone-rank">{rank}</div>', icon_size=(22, 22), icon_anchor=(-4, 26)
            ),
        ).add_to(layer)
    layer.add_to(fmap)
    fmap.get_root().header.add_child(folium.Element(ZONE_RANK_CSS))


EMERGING_COLOURS = {
    "nouveau": "#67000d",
    "consécutif": "#a50f15",
    "en intensification": "#ef3b2c",
    "persistant": "#fc9272",
    "en diminution": "#fcbba1",
    "sporadique": "#fdae6b",
    "oscillant": "#9e9ac8",
    "historique": "#bdbdbd",
}


def emerging_map(
    cells: gpd.GeoDataFrame, display_geometry: gpd.GeoSeries, *, base: str = "plan_ign"
) -> folium.Map:
    """Grid cells coloured by emerging hot-spot category (EPSG:4326), commune outlines.

    Parameters
    ----------
    cells : GeoDataFrame
        Cells with ``categorie``, ``tendance_z`` and ``pas_chauds`` (category "aucun" left out).
    display_geometry : GeoSeries
        Commune outlines.
    base : str
        Base map key.
    """
    fmap = base_map(display_geometry.total_bounds, base=base)
    add_commune_outlines(fmap, display_geometry)
    shown = cells[cells["categorie"] != "aucun"]
    if len(shown):
        props = pd.DataFrame(
            {
                "categorie": shown["categorie"].astype(str),
                "tendance": shown["tendance_z"].map(lambda v: fmt_number(v, 2)),
                "pas": shown["pas_chauds"].astype(int).astype(str)
                + " / "
                + shown["pas"].astype(int).astype(str),
                "fill": shown["categorie"].map(EMERGING_COLOURS).fillna("#bdbdbd"),
            }
        )
        gdf = gpd.GeoDataFrame(props, geometry=shown.geometry.to_numpy(), crs="EPSG:4326")
        fields = {
            "categorie": "Catégorie",
            "tendance": "Tendance (z de Mann-Kendall)",
            "pas": "Pas de temps chauds",
        }
        folium.GeoJson(
            json.loads(gdf.to_json(drop_id=True)),
            name="Points chauds émergents",
            style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.8, "weight": 0},
            tooltip=folium.GeoJsonTooltip(fields=list(fields), aliases=list(fields.values())),
        ).add_to(fmap)
    fmap.add_child(
        Legend(
            legend_html("Points chauds émergents", list(EMERGING_COLOURS), list(EMERGING_COLOURS.values()))
        )
    )
    return fmap


def commune_sheet_map(outline: gpd.GeoSeries, zones: gpd.GeoDataFrame, *, base: str = "aucun") -> folium.Map:
    """One commune's outline and the published priority zones that touch it (EPSG:4326)."""
    fmap = base_map(outline.total_bounds, base=base)
    folium.GeoJson(
        json.loads(gpd.GeoDataFrame(geometry=outline.to_numpy(), crs="EPSG:4326").to_json(drop_id=True)),
        name="Commune",
        style_function=lambda f: {"fill": False, "color": "#000091", "weight": 2},
    ).add_to(fmap)
    if len(zones):
        folium.GeoJson(
            json.loads(zones[["rang", "geometry"]].to_json(drop_id=True)),
            name="Zones prioritaires",
            style_function=lambda f: {
                "fillColor": "#e1000f",
                "color": "#e1000f",
                "weight": 1,
                "fillOpacity": 0.3,
            },
            tooltip=folium.GeoJsonTooltip(fields=["rang"], aliases=["Zone prioritaire n°"]),
        ).add_to(fmap)
    return fmap
