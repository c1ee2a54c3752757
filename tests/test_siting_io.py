import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from analysis.siting_adapter import sites_from_geodataframes
from core.errors import IncidentFileError
from geo.candidates import candidates_from_lattice
from readers.sites import sites_from_bytes

SQUARE = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1000, 1000)], crs=2154)


def test_lattice_inside_territory():
    c = candidates_from_lattice(SQUARE, 100.0)
    assert len(c) == 100 and (c["origine"] == "maillage").all()
    with pytest.raises(ValueError, match="positif"):
        candidates_from_lattice(SQUARE, 0)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 30),
    spacing=st.floats(20.0, 300.0),
    radius=st.floats(5.0, 400.0),
)
def test_lattice_near_demand_is_the_full_lattice_filtered(seed, n, spacing, radius):
    # Same nodes as the whole lattice kept within the radius of a point (brute force).
    demand = np.random.default_rng(seed).uniform(-100, 1100, (n, 2))
    full = candidates_from_lattice(SQUARE, spacing)
    fxy = np.column_stack([full.geometry.x, full.geometry.y])
    dist = np.hypot(fxy[:, None, 0] - demand[None, :, 0], fxy[:, None, 1] - demand[None, :, 1]).min(axis=1)
    near = candidates_from_lattice(SQUARE, spacing, demand_xy=demand, radius=radius)
    nxy = np.column_stack([near.geometry.x, near.geometry.y])
    expected = fxy[dist <= radius]
    assert len(nxy) == len(expected)
    assert_allclose(np.sort(nxy, axis=0), np.sort(expected, axis=0))
    assert near.attrs["espacement"] == spacing


def test_lattice_near_demand_band_by_band(monkeypatch):
    # A raster of a few rows at a time gives the same nodes as one raster.
    import geo.candidates

    demand = np.random.default_rng(5).uniform(0, 1000, (40, 2))
    whole = candidates_from_lattice(SQUARE, 20.0, demand_xy=demand, radius=90.0)
    monkeypatch.setattr(geo.candidates, "RASTER_CELLS", 150)
    banded = candidates_from_lattice(SQUARE, 20.0, demand_xy=demand, radius=90.0)
    assert len(whole) > 500
    assert_allclose(
        np.sort(np.column_stack([banded.geometry.x, banded.geometry.y]), axis=0),
        np.sort(np.column_stack([whole.geometry.x, whole.geometry.y]), axis=0),
    )


def test_lattice_spacing_grows_to_fit_max_sites():
    demand = np.array([[200.0, 200.0], [800.0, 700.0]])
    near = candidates_from_lattice(SQUARE, 10.0, demand_xy=demand, radius=150.0, max_sites=100)
    assert 0 < len(near) <= 100 and near.attrs["espacement"] > 10.0
    full = candidates_from_lattice(SQUARE, 10.0, max_sites=100)
    assert len(full) <= 100 and full.attrs["espacement"] >= 100.0
    with pytest.raises(ValueError, match="rayon positif"):
        candidates_from_lattice(SQUARE, 10.0, demand_xy=demand)
    assert len(candidates_from_lattice(SQUARE, 10.0, demand_xy=np.zeros((0, 2)), radius=50.0)) == 0


def test_road_intersections_and_axes():
    roads = gpd.GeoDataFrame(
        {"highway": ["primary", "residential", "residential"]},
        geometry=[
            shapely.LineString([(0, 500), (500, 500)]),
            shapely.LineString([(500, 500), (1000, 500)]),
            shapely.LineString([(500, 500), (500, 1000)]),
        ],
        crs=2154,
    )
    from analysis.streets import candidates_from_network, street_index_from_roads
    from readers.roads import road_table_from_lines

    c = candidates_from_network(street_index_from_roads(road_table_from_lines(roads)), along=100.0)
    crossings = c[c["origine"] == "carrefour"]
    assert len(crossings) == 1 and crossings.geometry.iloc[0].equals(shapely.Point(500, 500))
    axes = c[c["origine"] == "axe principal"]
    assert len(axes) == 5 and (axes.geometry.y == 500).all() and (axes.geometry.x < 500).all()


def test_a_road_file_without_classes_takes_its_longest_lines_as_main_roads():
    from readers.roads import road_table_from_lines

    roads = gpd.GeoDataFrame(
        {"nom": ["Grande Rue", None, None]},
        geometry=[
            shapely.LineString([(0, 0), (2000, 0)]),
            shapely.MultiLineString([[(0, 0), (0, 300)], [(0, 300), (0, 600)]]),
            shapely.LineString([(2000, 0), (2000, 400)]),
        ],
        crs=2154,
    )
    table = road_table_from_lines(roads)
    assert len(table) == 4  # the two-part line is two segments
    assert list(table["importance"]) == [3, 5, 5, 5]  # the longest line (2 of 3 km) reaches a fifth alone
    assert table["nom"].iloc[0] == "Grande Rue" and pd.isna(table["nom"].iloc[1])
    assert set(table["sens"]) == {"double"} and table["vitesse_kmh"].iloc[0] == 60.0


def test_sites_file_with_rejected_rows():
    data = b"nom;latitude;longitude\nA;48,07;-0,77\nB;;\n<img src=x>;48.06;-0.76\n"
    sites, rejected = sites_from_bytes(data, "cams.csv", crs="EPSG:2154")
    assert len(sites) == 2 and rejected["ligne"].tolist() == [3]
    assert sites.crs.to_epsg() == 2154 and sites.geometry.x.between(400_000, 440_000).all()
    with pytest.raises(IncidentFileError, match="coordonnées introuvables"):
        sites_from_bytes(b"a;b\n1;2\n", "x.csv", crs="EPSG:2154")


def test_adapter_keeps_existing_and_reports_coverage():
    rng = np.random.default_rng(0)
    demand = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*rng.uniform(0, 1000, (2, 400))), crs=2154)
    cands = candidates_from_lattice(SQUARE, 100.0)
    existing = gpd.GeoDataFrame(geometry=[shapely.Point(500, 500)], crs=2154)
    res, table, curve = sites_from_geodataframes(
        demand, np.ones(400), cands, existing=existing, radius=150.0, p=3
    )
    assert table["statut"].tolist() == ["existante", "nouvelle", "nouvelle", "nouvelle"]
    assert table["part_cumulee"].is_monotonic_increasing
    assert table["part_cumulee"].iloc[-1] == pytest.approx(res.share)
    shares = curve["couverture"].to_numpy()
    assert shares[0] == pytest.approx(table["part_cumulee"].iloc[0]) and np.all(np.diff(shares) >= 0)
    # Unit weights: each step's share gain is the incidents it adds over the total.
    assert_allclose(np.diff(shares) * 400, curve["faits"].to_numpy()[1:])
    assert curve["faits"].iloc[0] == table["faits"].iloc[0]  # existing cameras' incidents


def test_adapter_merges_incidents_at_the_same_place_exactly():
    from analysis.siting import coverage_from_points, exact_mclp

    rng = np.random.default_rng(1)
    places = rng.uniform(0, 1000, (150, 2))
    xy = places[rng.integers(0, 150, 600)]  # 600 incidents at 150 places, as geocoded addresses
    weights = rng.integers(1, 4, 600).astype(float)
    demand = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=2154)
    cands = candidates_from_lattice(SQUARE, 100.0)
    res, table, _ = sites_from_geodataframes(demand, weights, cands, radius=150.0, p=4)
    # Same optimum as the model with one row per incident.
    cxy = np.column_stack([cands.geometry.x, cands.geometry.y])
    per_incident = exact_mclp(coverage_from_points(xy, cxy, 150.0), weights, 4)
    assert res.objective == pytest.approx(per_incident.objective) and res.total == pytest.approx(
        weights.sum()
    )
    # Covered counts incidents (not places), as shown on the page.
    sites = np.column_stack([table.geometry.x, table.geometry.y])
    near = (np.hypot(xy[:, None, 0] - sites[None, :, 0], xy[:, None, 1] - sites[None, :, 1]) <= 150.0).any(
        axis=1
    )
    assert res.n_covered == int(near.sum()) and weights[near].sum() == pytest.approx(res.objective)


def test_site_counts_add_up_to_the_covered_incidents():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1000, (300, 2))[rng.integers(0, 300, 900)]  # repeated places
    demand = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=2154)
    cands = candidates_from_lattice(SQUARE, 100.0)
    existing = gpd.GeoDataFrame(geometry=[shapely.Point(500, 500), shapely.Point(100, 900)], crs=2154)
    res, table, _ = sites_from_geodataframes(
        demand, np.ones(900), cands, existing=existing, radius=150.0, p=5
    )
    new = table[table["statut"] == "nouvelle"]
    base = int(table.loc[table["statut"] == "existante", "faits"].iloc[0])
    assert base + int(new["faits"].sum()) == res.n_covered
    # With unit weights the weighted gain is the incident count.
    assert_allclose(new["gain"].to_numpy(), new["faits"].to_numpy())
    # Brute force: incidents within 150 m of the existing cameras.
    ex = np.array([[500.0, 500.0], [100.0, 900.0]])
    near = (np.hypot(xy[:, None, 0] - ex[None, :, 0], xy[:, None, 1] - ex[None, :, 1]) <= 150.0).any(axis=1)
    assert base == int(near.sum())


def test_published_sites_hides_small_counts_and_the_shares_that_reveal_them():
    import pandas as pd

    from analysis.siting_publication import published_sites

    table = pd.DataFrame(
        {
            "rang": [0, 1, 2, 3, 4],
            "statut": ["existante", "nouvelle", "nouvelle", "nouvelle", "nouvelle"],
            "faits": [40, 30, 12, 8, 3],
            "gain": [np.nan, 30.0, 12.0, 8.0, 3.0],
            "part_cumulee": [0.4, 0.7, 0.82, 0.9, 0.93],
        }
    )
    out = published_sites(table, threshold=5)
    # The 3 is hidden; alone it would be total - the rest, so the smallest other (8) too.
    assert out["faits"].tolist() == [40, 30, 12, "secret", "secret"]
    assert out["gain"].tolist()[3:] == ["secret", "secret"]
    # Shares from the first hidden cell on are hidden: two in a row would give a cell back.
    assert out["part_cumulee"].tolist() == [0.4, 0.7, 0.82, "secret", "secret"]
    # Existing cameras covering 1 to 5 incidents: their cell and every share are hidden.
    small = table.assign(faits=[4, 30, 12, 8, 7])
    out = published_sites(small, threshold=5)
    assert out.loc[0, "faits"] == "secret" and (out["part_cumulee"] == "secret").all()
    assert out["faits"].tolist().count("secret") == 2  # secondary secrecy: the 7 as well
    # Nothing to hide: unchanged.
    assert published_sites(table.assign(faits=[40, 30, 12, 8, 0]), threshold=5)["faits"].tolist() == [
        40,
        30,
        12,
        8,
        0,
    ]


def test_a_withheld_site_is_not_given_back_by_the_total():
    import pandas as pd

    from analysis.siting_publication import published_sites

    table = pd.DataFrame(
        {
            "rang": [1, 2, 3],
            "statut": ["nouvelle"] * 3,
            "faits": [30, 12, 9],
            "gain": [30.0, 12.0, 9.0],
            "part_cumulee": [0.5, 0.7, 0.85],
        }
    )
    withheld = np.array([False, False, True])  # the 9 sit within 200 m of 1 to 5 incidents
    out = published_sites(table, withheld=withheld, threshold=5)
    # Dropped from the list, it would still be the published total minus the others: another
    # cell goes with it, and the shares from it on.
    assert out["faits"].tolist() == [30, "secret", "secret"]
    assert out["part_cumulee"].tolist() == [0.5, "secret", "secret"]


def test_candidates_that_see_nothing_are_left_out_of_the_solve():
    rng = np.random.default_rng(8)
    xy = rng.uniform(0, 1000, (300, 2))
    demand = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=2154)
    near = candidates_from_lattice(SQUARE, 100.0)
    far = gpd.GeoDataFrame(  # 5,000 sites 10 km away: they see no incident
        {"origine": ["maillage"] * 5000},
        geometry=gpd.points_from_xy(rng.uniform(10_000, 20_000, 5000), rng.uniform(0, 1000, 5000)),
        crs=2154,
    )
    both = pd.concat([far, near], ignore_index=True)
    existing = gpd.GeoDataFrame(geometry=[shapely.Point(50_000, 0)], crs=2154)  # sees nothing: kept
    res_near, table_near, _ = sites_from_geodataframes(demand, np.ones(300), near, radius=150.0, p=4)
    res, table, _ = sites_from_geodataframes(demand, np.ones(300), both, existing=existing, radius=150.0, p=4)
    assert res.objective == pytest.approx(res_near.objective)
    assert table["statut"].tolist() == ["existante"] + ["nouvelle"] * 4
    assert table.geometry.iloc[0].equals(shapely.Point(50_000, 0))
    # Chosen positions refer to the candidates as given (then the existing cameras).
    assert res.chosen[0] == len(both) and (res.chosen[1:] >= len(far)).all()
    chosen_new = {(g.x, g.y) for g in both.geometry.iloc[res.chosen[1:]]}
    assert chosen_new == {(g.x, g.y) for g in table.geometry.iloc[1:]}


def test_published_curve_stops_before_the_first_secret_step():
    from analysis.siting_publication import published_curve

    curve = pd.DataFrame(
        {"cameras": range(5), "couverture": [0.1, 0.3, 0.4, 0.45, 0.47], "faits": [0, 20, 9, 4, 2]}
    )
    assert published_curve(curve, threshold=5)["cameras"].tolist() == [0, 1, 2]
    assert len(published_curve(curve.assign(faits=[0, 20, 9, 8, 0]), threshold=5)) == 5
    # Existing cameras covering 1 to 5 incidents: even the first point would give them away.
    assert published_curve(curve.assign(faits=[3, 20, 9, 8, 7]), threshold=5).empty


def test_a_siting_request_is_identified_by_all_it_asks():
    import dataclasses
    import datetime as dt

    from core.model import IncidentFilter
    from usecases.selection import Selection
    from usecases.videoprotection import SitingRequest, candidates_key

    flt = IncidentFilter(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    selection = Selection("defaut", "mayenne", "2025-01-01", "53", flt)
    base = SitingRequest(
        selection=selection,
        area_key="departement",
        places=("voie publique",),
        weights=(("Vols de véhicule", 1.0),),
        source="maillage",
        candidates=candidates_key("maillage", spacing=100),
        existing="-",
        radius=150.0,
        p=10,
        target=None,
        time_limit=20.0,
    )
    assert base.signature == dataclasses.replace(base).signature
    assert base.candidates == "maillage:100.0" and candidates_key("routes", digest="abc") == "routes:abc"
    changes = {
        "radius": 151.0,
        "p": 11,
        "places": ("commerce",),
        "existing": "x",
        "candidates": "maillage:50.0",
        "selection": selection.with_filter(flt.with_period(dt.date(2025, 2, 1), flt.end)),
        "time_limit": 30.0,
    }
    for field, value in changes.items():
        assert dataclasses.replace(base, **{field: value}).signature != base.signature, field
    reimported = dataclasses.replace(selection, stamp="2025-02-01")
    assert dataclasses.replace(base, selection=reimported).signature != base.signature
