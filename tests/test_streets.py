"""Streets as places: sites named by their streets, candidates on the network, incidents per
segment and their concentration, and the streets on the maps and on the mayor's sheet."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.streets import (
    candidates_from_network,
    concentration_of_counts,
    counts_by_segment,
    descriptions_of_points,
    street_index_from_roads,
)

HOSTILE = "<img src=x onerror=alert(1)> `${x}`"


def _town(name_b: str = "Rue Haute") -> gpd.GeoDataFrame:
    """A crossing of « Grande Rue » (west-east, 400 m) and a second street (south-north), a
    one-way lane without name, a main road leaving east (1 km), in Lambert-93."""
    x0, y0 = 420_000.0, 6_783_000.0
    lines = [
        shapely.LineString([(x0 - 200, y0), (x0, y0)]),
        shapely.LineString([(x0, y0), (x0 + 200, y0)]),
        shapely.LineString([(x0, y0 - 150), (x0, y0)]),
        shapely.LineString([(x0, y0), (x0, y0 + 150)]),
        shapely.LineString([(x0 + 200, y0), (x0 + 200, y0 + 120)]),
        shapely.LineString([(x0 + 200, y0), (x0 + 1200, y0)]),
    ]
    return gpd.GeoDataFrame(
        {
            "id_source": list("abcdef"),
            "nom": ["Grande Rue", "Grande Rue", name_b, name_b, None, "D 21"],
            "classe": ["rue"] * 5 + ["route secondaire"],
            "importance": np.array([5, 5, 5, 5, 5, 3], dtype=np.int8),
            "vitesse_kmh": [30.0] * 5 + [70.0],
            "sens": ["double"] * 4 + ["direct", "double"],
        },
        geometry=lines,
        crs="EPSG:2154",
    )


def test_points_are_described_by_their_streets():
    idx = street_index_from_roads(_town())
    x0, y0 = 420_000.0, 6_783_000.0
    got = descriptions_of_points(
        idx,
        np.array([x0 + 10, x0 + 90, x0 - 150, x0 + 90, x0 + 600, x0 + 5000]),
        np.array([y0 + 10, y0 + 5, y0 + 2, y0 + 60, y0, y0]),
    )
    assert got[0] == "angle Grande Rue / Rue Haute"
    assert got[1] == "Grande Rue, à 90 m de l'angle avec Rue Haute"
    assert got[2] == "Grande Rue, à 150 m de l'angle avec Rue Haute"
    assert got[3] == "à 60 m de Grande Rue, à 90 m de l'angle avec Rue Haute"
    assert got[4] == "D 21"  # 400 m from the crossing with Grande Rue: not named along it
    assert got[5] is None  # nothing within 150 m


def test_candidates_are_the_crossings_and_points_along_the_main_roads():
    idx = street_index_from_roads(_town())
    c = candidates_from_network(idx, along=100.0)
    crossings = c[c["origine"] == "carrefour"]
    assert len(crossings) == 2  # (x0, y0) and (x0 + 200, y0): three streets each
    along = c[c["origine"] == "axe principal"]
    assert len(along) == 10  # the 1 km main road, every 100 m
    assert c.crs == "EPSG:2154"


def test_incidents_are_counted_on_their_nearest_segment_within_reach():
    roads = _town()
    idx = street_index_from_roads(roads)
    x0, y0 = 420_000.0, 6_783_000.0
    x = np.array([x0 - 100, x0 - 90, x0 + 700, x0 + 700, x0 + 700, x0 + 3000])
    y = np.array([y0 + 20, y0 - 30, y0 + 49, y0, y0 - 10, y0 + 500])
    table, off = counts_by_segment(idx, x, y, max_distance=50.0)
    assert off == 1
    assert list(table["faits"]) == [2, 0, 0, 0, 0, 3]
    assert table["faits_par_km"].iloc[0] == pytest.approx(2 / 0.2)
    assert table["faits_par_km"].iloc[5] == pytest.approx(3 / 1.0)


def test_concentration_is_the_smallest_share_of_segments_holding_each_part():
    counts = np.array([50, 30, 10, 5, 5] + [0] * 95)
    c = concentration_of_counts(counts, np.full(100, 100.0))
    assert c.share_for_half == pytest.approx(0.01)  # the busiest segment holds exactly half
    assert c.share_for_quarter == pytest.approx(0.01)
    assert c.with_incidents == 5 and c.segments == 100
    c2 = concentration_of_counts(np.array([1, 1, 1, 1]), np.array([10.0, 10.0, 10.0, 10.0]))
    assert c2.share_for_half == pytest.approx(0.5) and c2.share_for_quarter == pytest.approx(0.25)
    assert np.isnan(concentration_of_counts(np.zeros(3), np.ones(3)).share_for_half)


def test_street_names_from_a_file_are_escaped_on_the_map():
    from rendering.maps.streets import add_streets
    from rendering.maps.toolkit import base_map

    roads = _town(name_b=HOSTILE).to_crs("EPSG:4326")
    fmap = base_map(roads.total_bounds, base="aucun")
    add_streets(fmap, roads)
    html = fmap.get_root().render()
    assert "<img src=x" not in html and "`${x}`" not in html
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in html  # HTML-escaped, in JSON
    assert "Grande Rue" in html and "rue sans nom" in html
    assert "getZoom() >= 14" in html  # the streets wait for a zoom where they can be read


def test_the_mayors_sheet_names_each_site_by_its_streets_and_draws_them(tmp_path):
    from analysis.siting_base import NEW_SITE
    from rendering.siting_report import SitingSheet, pdf_sheet_from_sites, siting_map_png
    from rendering.tables import site_table_from_sites
    from tests.tooling import pdf_text

    roads = _town(name_b=HOSTILE)
    idx = street_index_from_roads(roads)
    x0, y0 = 420_000.0, 6_783_000.0
    sites = gpd.GeoDataFrame(
        {
            "rang": [1, 2],
            "statut": [NEW_SITE, NEW_SITE],
            "faits": [12, 8],
            "gain": [12.0, 8.0],
            "part_cumulee": [0.3, 0.5],
        },
        geometry=[shapely.Point(x0 + 5, y0 + 5), shapely.Point(x0 + 120, y0 + 3)],
        crs="EPSG:2154",
    )
    commune = gpd.GeoDataFrame(
        {"nom": ["Laval"]},
        geometry=[shapely.box(x0 - 2000, y0 - 2000, x0 + 2000, y0 + 2000)],
        crs="EPSG:2154",
    )
    addresses = descriptions_of_points(idx, sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy())
    table = site_table_from_sites(sites, commune, addresses=addresses)
    # Names at a crossing: main streets first, then in alphabetical order (« < » before « G »).
    assert list(table["adresse"]) == [
        f"angle {HOSTILE} / Grande Rue",
        "Grande Rue, à 80 m de l'angle avec D 21",
    ]
    plain = siting_map_png(sites, commune, radius=50.0, dpi=60)
    drawn = siting_map_png(sites, commune, radius=50.0, streets=roads, dpi=60)
    assert drawn != plain  # the streets are on the map
    pdf = pdf_sheet_from_sites(
        table,
        SitingSheet(
            "Mayenne (53)",
            "Laval",
            "démo",
            True,
            [("Rayon", "50 m")],
            [("Sites", "2")],
            drawn,
            streets="Réseau routier : essai.",
        ),
    )
    path = tmp_path / "fiche.pdf"
    path.write_bytes(pdf)
    text = pdf_text(path)
    assert "Emplacement" in text and "/ Grande Rue" in text
    assert "<img" in text and "&lt;" not in text  # printed as text, neither markup nor entities
    assert "Réseau routier : essai." in text
    assert "X Lambert-93" not in text  # the place by its streets instead (Lambert-93 stays in the CSV)
    assert "Latitude" in text


def test_the_sites_map_draws_the_streets_near_the_sites_and_the_main_roads_only():
    from usecases.roads import streets_for_map

    roads = _town()
    x0, y0 = 420_000.0, 6_783_000.0
    far = roads.iloc[[0]].copy()
    far["nom"], far["importance"] = "Rue Lointaine", np.int8(5)
    far = far.set_geometry([shapely.LineString([(x0 + 5000, y0 + 5000), (x0 + 5200, y0 + 5000)])])
    far_main = far.copy()
    far_main["nom"], far_main["importance"] = "D 99", np.int8(2)
    far_main = far_main.set_geometry([shapely.LineString([(x0 + 5000, y0 - 5000), (x0 + 6000, y0 - 5000)])])
    idx = street_index_from_roads(
        gpd.GeoDataFrame(pd.concat([roads, far, far_main], ignore_index=True), crs=roads.crs)
    )
    bounds = (x0 - 6000, y0 - 6000, x0 + 6000, y0 + 6000)
    every = streets_for_map(idx, bounds)
    near = streets_for_map(idx, bounds, near=np.array([[x0, y0]]))
    assert {"Rue Lointaine", "D 99"} <= set(every["nom"])
    assert "Rue Lointaine" not in set(near["nom"]) and "D 99" in set(near["nom"])
    assert {"Grande Rue", "Rue Haute"} <= set(near["nom"])
    assert near.crs == "EPSG:4326"


def test_on_and_off_the_streets_are_both_hidden_when_one_is_secret():
    """The two add up to the selection's total, which the page shows: one secret, both secret."""
    import datetime as dt

    from core import model as m
    from core.model import IncidentFilter
    from core.privacy import SECRET_LABEL, Audience
    from usecases.hot_streets import hot_streets_for_selection

    idx = street_index_from_roads(_town())
    x0, y0 = 420_000.0, 6_783_000.0
    xs = [x0 - 100, x0 - 90, x0 + 700] + [x0 + 5000 + 10 * i for i in range(20)]
    incidents = gpd.GeoDataFrame(
        {m.START: [pd.Timestamp("2025-03-01")] * len(xs), m.COMMUNE: ["53130"] * len(xs)},
        geometry=gpd.points_from_xy(xs, [y0] * len(xs)),
        crs="EPSG:2154",
    )
    commune = gpd.GeoDataFrame(
        {"nom": ["Laval"]},
        geometry=[shapely.box(x0 - 9000, y0 - 9000, x0 + 9000, y0 + 9000)],
        crs="EPSG:2154",
    )
    flt = IncidentFilter(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    view = hot_streets_for_selection(incidents, flt, idx, commune, audience=Audience.public())
    assert view.metrics[0].value == SECRET_LABEL and view.metrics[0].delta.startswith(SECRET_LABEL)
    internal = hot_streets_for_selection(incidents, flt, idx, commune, audience=Audience.internal())
    assert internal.metrics[0].value == "3" and internal.metrics[0].delta.startswith("20")
