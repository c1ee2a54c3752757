import html
import json
import re
from pathlib import Path

import numpy as np

from analysis.diagnostic import class_breaks_from_values, classes_from_values, rates_by_commune
from core import model as m
from geo.communes import display_geometry_from_communes
from rendering.maps import (
    BASE_MAPS,
    base_map_layer,
    base_map_tiles,
    choropleth_from_rates,
    configure_offline_assets,
    layer_map_json,
    payload_from_layer_map,
)
from ui.layer_map import data_for_session, rendered_from_layer_map

ROOT = Path(__file__).resolve().parents[1]

XSS = "<img src=x onerror=alert(1)>"


def _map(communes53, **kw):
    com = communes53.copy()
    com.loc[0, "nom"] = XSS
    import pandas as pd

    counts = ["53130"] * 50 + [com.loc[0, "code"]] * 9 + [com.loc[1, "code"]] * 3
    rates = rates_by_commune(pd.DataFrame({m.COMMUNE: counts}), com)
    breaks = class_breaks_from_values(rates["taux_pour_mille"].where(rates["faits"] > 0).to_numpy())
    classes = classes_from_values(rates["taux_pour_mille"].to_numpy(), breaks)
    return choropleth_from_rates(
        rates, breaks=breaks, classes=classes, display_geometry=display_geometry_from_communes(com), **kw
    )


def _faits(lm) -> list[str]:
    """The « Faits » texts the browser receives for the communes layer."""
    data, _ = payload_from_layer_map(lm)
    layer = data["layers"][0]
    i = layer["labels"].index("Faits")
    return [row[i] for row in layer["values"]]


def test_map_uses_only_local_assets(communes53):
    lm = _map(communes53, base="aucun")
    data, geometries = payload_from_layer_map(lm)
    assert data["base"] is None  # no tile server offline
    sent = data_for_session(rendered_from_layer_map(lm), set(), height=500, label="Carte")
    assert sent["static_url"] == "/app/static/vendor"  # Leaflet served by the app
    assert sent["geometries"] == geometries and len(geometries) == 1
    # The component's script loads nothing from another host.
    script = (ROOT / "ui" / "layer_map.js").read_text()
    assert not re.findall(r"https?://", script)


def test_values_from_files_are_escaped(communes53):
    text = layer_map_json(_map(communes53, base="aucun"))
    assert XSS not in text and "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text  # escaped once, by us


def test_secret_counts_not_in_map(communes53):
    faits = _faits(_map(communes53, base="aucun", hide_secret=True))
    assert faits.count("secret (1 à 5)") == 2  # the 3 and the 9 (secondary secrecy)
    assert "3" not in faits and "9" not in faits  # 9 hidden beside a single secret cell
    assert "50" in faits
    shown = _faits(_map(communes53, base="aucun", hide_secret=False))
    assert "3" in shown and "9" in shown


def test_geometry_is_sent_once_per_session(communes53):
    sent: set[str] = set()
    first = data_for_session(rendered_from_layer_map(_map(communes53)), sent, height=500, label="Carte")
    other = _map(communes53, hide_secret=False)  # other values, same outlines
    second = data_for_session(rendered_from_layer_map(other), sent, height=500, label="Carte")
    assert len(first["geometries"]) == 1 and second["geometries"] == {}
    assert first["layers"][0]["geometry_key"] == second["layers"][0]["geometry_key"]
    assert first["layers"][0]["values"] != second["layers"][0]["values"]
    shapes = json.loads(next(iter(first["geometries"].values())))
    assert len(shapes) == len(communes53) and shapes[0]["type"] in ("Polygon", "MultiPolygon")


def test_base_maps():
    assert base_map_layer("aucun") is None
    ign = base_map_layer("plan_ign")
    assert "data.geopf.fr" in ign.tiles and "PLANIGNV2" in ign.tiles
    assert "IGN" in ign.options.get("attribution", "") or "IGN" in str(
        ign.attr if hasattr(ign, "attr") else ""
    )
    assert set(BASE_MAPS) == {"plan_ign", "ortho_ign", "osm", "aucun"}
    assert base_map_tiles("aucun") is None
    tiles = base_map_tiles("plan_ign")
    assert tiles["url"] == ign.tiles and "IGN" in tiles["attribution"]


def test_configure_offline_assets_custom_prefix():
    import folium

    configure_offline_assets("/x/")
    assert folium.Map.default_js == [("leaflet", "/x/leaflet/leaflet.js")]
    configure_offline_assets()
    assert np.all([u.startswith("/app/static/vendor") for _, u in folium.Map.default_css])


def test_markdown_from_files_is_escaped():
    from core.escape import markdown_text as md_escape

    assert md_escape("![x](http://h/i.png) $x$") == r"\!\[x\]\(http\://h/i\.png\) \$x\$"


def test_change_map_escapes_and_hides_secret_counts(communes53):
    import geopandas as gpd
    import pandas as pd
    import shapely

    from analysis.rate_tests import comparison_from_counts
    from rendering.maps import change_map

    com = communes53.copy()
    com.loc[0, "nom"] = XSS
    first, second = com["code"].iloc[0], com["code"].iloc[1]
    table = comparison_from_counts(
        pd.Series({first: 300, second: 3, "53130": 40}),
        pd.Series({first: 100, second: 20, "53130": 41}),
        days_current=61,
        days_reference=61,
        labels=dict(zip(com["code"], com["nom"], strict=True)),
        universe=pd.Index(com["code"]),
    )
    zones = gpd.GeoDataFrame(
        {"rang": [1], "communes": [XSS]}, geometry=[shapely.box(-0.8, 48.0, -0.7, 48.1)], crs="EPSG:4326"
    )
    from analysis.rate_tests import change_classes_from_comparison

    classes = change_classes_from_comparison(table, com["code"], hide_secret=True)
    fmap = change_map(
        table, com, display_geometry_from_communes(com), classes=classes, base="aucun", zones=zones
    )
    text = layer_map_json(fmap)
    assert XSS not in text and "<img" not in text
    assert "hausse significative" in text and "Zone prioritaire n° 1" in text
    data, _ = payload_from_layer_map(fmap)
    assert [la["name"] for la in data["layers"]] == ["Communes", "Zones prioritaires"]
    assert data["layers"][1]["fill"] is None  # the zones are outlines
    values = data["layers"][0]["values"]
    i = data["layers"][0]["labels"].index("Faits (période suivie)")
    assert "3" not in [row[i] for row in values]  # secret
    assert data["base"] is None


def test_siting_map_numbers_each_new_site_with_its_rank():
    import geopandas as gpd
    import shapely

    from analysis.siting_base import EXISTING_SITE, NEW_SITE
    from rendering.maps import siting_map

    sites = gpd.GeoDataFrame(
        {"rang": [1, 2, None], "statut": [NEW_SITE, NEW_SITE, EXISTING_SITE]},
        geometry=[shapely.Point(-0.77, 48.07), shapely.Point(-0.76, 48.07), shapely.Point(-0.75, 48.07)],
        crs=4326,
    )
    html = siting_map(sites, radius=50.0, bounds=[-0.8, 48.0, -0.7, 48.1], base="aucun").get_root().render()
    opening = '\\u003cdiv class=\\"zone-rank\\"\\u003e'  # as folium writes a DivIcon's HTML in JavaScript
    assert html.count(opening) == 2  # the two new sites, not the existing camera
    assert all(f"{opening}{rank}\\u003c/div\\u003e" in html for rank in (1, 2))
    assert "rang du tableau" in html


#: Jinja2 syntax in a value from a file. branca re-parses every element's rendered script as a
#: Jinja2 template (``MacroElement.render`` wraps it in ``Element(text)``) and renders it with the
#: figure: unpatched, this value is evaluated on the server while the map is rendered (here a
#: division by zero raises; a template can as well reach ``os``).
TEMPLATE_INJECTION = "{{ 1/0 }}{% if true %}pris{% endif %}{# commentaire #}"


def test_file_values_are_never_evaluated_as_templates_on_the_server():
    """A GeoJSON property shown in a tooltip and a popup, as the emerging hot spots' map does."""
    import folium
    import geopandas as gpd
    import shapely

    from ui.maps import payload_from_map

    cells = gpd.GeoDataFrame(
        {"categorie": [TEMPLATE_INJECTION]}, geometry=[shapely.box(-0.78, 48.06, -0.77, 48.07)], crs=4326
    )
    fmap = folium.Map(location=[48.07, -0.77], zoom_start=12, tiles=None)
    folium.GeoJson(
        json.loads(cells.to_json(drop_id=True)),
        tooltip=folium.GeoJsonTooltip(fields=["categorie"]),
        popup=folium.GeoJsonPopup(fields=["categorie"]),
    ).add_to(fmap)
    payload = payload_from_map(fmap)
    assert TEMPLATE_INJECTION in payload.script  # as written


def test_zones_map_escapes_numbers_its_zones_and_shares_the_diagnostics_outlines(communes53):
    import geopandas as gpd
    import shapely

    from rendering.maps import zones_map

    zone = shapely.Point(-0.77, 48.07).buffer(0.002)
    zones = gpd.GeoDataFrame(
        {
            "rang": [1, 2],
            "nom": [XSS, "Laval"],
            "faits": [12, 9],
            "score": [15.0, 9.0],
            "communes": [XSS, "Laval"],
        },
        geometry=[zone, zone.buffer(0.001)],
        crs=4326,
    )
    display = display_geometry_from_communes(communes53)
    lm = zones_map(zones, np.ones((4, 4)), (-0.8, 48.0, -0.7, 48.1), display, base="aucun")
    data, geometries = payload_from_layer_map(lm)
    names = [layer["name"] for layer in data["layers"]]
    assert names == ["Communes", "Zones prioritaires", "Rang des zones"]
    assert data["layers"][2]["badges"] == ["1", "2"]  # the ranks of the table
    assert data["image"]["url"].startswith("data:image/png;base64,")
    sent = layer_map_json(lm)
    assert XSS not in sent and html.escape(XSS) in sent
    # The outlines are the Diagnostic's: already in the page, never sent again.
    diagnostic, _ = payload_from_layer_map(_map(communes53, base="aucun"))
    assert data["layers"][0]["geometry_key"] == diagnostic["layers"][0]["geometry_key"]


def test_templates_of_folium_still_render_but_a_tooltip_is_not_one():
    """folium's own templates render (the script once); a tooltip from a file stays text."""
    import folium

    from core.escape import html_text
    from ui.maps import payload_from_map

    fmap = folium.Map(location=[48.07, -0.77], zoom_start=12, tiles=None)
    folium.Marker([48.07, -0.77], tooltip="Laval").add_to(fmap)
    folium.CircleMarker([48.08, -0.77], radius=4, tooltip=html_text(TEMPLATE_INJECTION)).add_to(fmap)
    payload = payload_from_map(fmap)
    assert payload.script.count("L.marker(") == 1 and "Laval" in payload.script
    assert payload.script.count("{{") == 1 and TEMPLATE_INJECTION in payload.script


def test_density_image_ramp_north_up_and_transparent_where_no_density():
    from rendering.maps.zones import _density_rgba

    d = np.zeros((3, 4))
    d[0, 0] = 1.0  # south-west corner, the densest
    d[0, 1] = 0.5
    d[2, 3] = 1e-9  # north-east, barely
    img = _density_rgba(d)
    assert img.shape == (3, 4, 4) and img.dtype == np.uint8
    assert list(img[2, 0]) == [179, 0, 0, 230]  # row 0 (south) drawn at the bottom: darkest, most opaque
    assert list(img[0, 3][3:]) == [90]  # lowest density shown: faint but visible
    assert 90 < img[2, 1, 3] < 230
    assert (img[d[::-1] == 0][:, 3] == 0).all()  # no density, nothing drawn


def test_density_png_decodes_to_the_density_image():
    import base64
    import io

    import matplotlib.image

    from rendering.maps.zones import _density_rgba, density_png_url

    d = np.zeros((5, 7))
    d[1, 2], d[4, 6] = 1.0, 0.3
    url = density_png_url(d)
    assert url.startswith("data:image/png;base64,")
    decoded = matplotlib.image.imread(io.BytesIO(base64.b64decode(url.split(",", 1)[1])), format="png")
    assert (np.round(decoded * 255).astype(np.uint8) == _density_rgba(d)).all()
