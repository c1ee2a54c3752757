import re

import numpy as np

from analysis.diagnostic import class_breaks_from_values, classes_from_values, rates_by_commune
from core import model as m
from geo.communes import display_geometry_from_communes
from rendering.maps import (
    BASE_MAPS,
    base_map_layer,
    choropleth_from_rates,
    configure_offline_assets,
    external_urls_from_map,
)

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


def test_map_uses_only_local_assets(communes53):
    fmap = _map(communes53, base="aucun")
    assert external_urls_from_map(fmap) == set()
    html = fmap.get_root().render()
    assert "/app/static/vendor/leaflet/leaflet.js" in html
    # Every script and style sheet the map loads is served by the app (none from a CDN).
    sources = re.findall(r'<script[^>]+src="([^"]+)"', html) + re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert sources and all(src.startswith("/app/static/vendor/") for src in sources), sources


def test_values_from_files_are_escaped(communes53):
    html = _map(communes53, base="aucun").get_root().render()
    assert XSS not in html and "<img" not in html
    # Escaped once by us (&lt;), then JSON-encoded by folium (& -> \u0026).
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in html


def test_secret_counts_not_in_map(communes53):
    html = _map(communes53, base="aucun", hide_secret=True).get_root().render()
    assert html.count("secret (1 \\u00e0 5)") == 2  # the 3 and the 9 (secondary secrecy)
    assert '"faits": "3"' not in html
    assert '"faits": "9"' not in html  # 9 is hidden by secondary secrecy beside a single secret cell


def test_base_maps():
    assert base_map_layer("aucun") is None
    ign = base_map_layer("plan_ign")
    assert "data.geopf.fr" in ign.tiles and "PLANIGNV2" in ign.tiles
    assert "IGN" in ign.options.get("attribution", "") or "IGN" in str(
        ign.attr if hasattr(ign, "attr") else ""
    )
    assert set(BASE_MAPS) == {"plan_ign", "ortho_ign", "osm", "aucun"}


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
    html = fmap.get_root().render()
    assert XSS not in html and "<img" not in html
    assert "hausse significative" in html and "Zone prioritaire n\\u00b0 1" in html
    assert '"faits": "3"' not in html  # secret
    assert external_urls_from_map(fmap) == set()


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
