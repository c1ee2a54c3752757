import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.hotspots import TooFewIncidentsError
from analysis.zones import (
    ZoneSettings,
    concentration_from_zones,
    evaluation_from_zones,
    recall_precision_from_truth,
    zones_from_incidents,
)
from data import model as m

SQUARE = gpd.GeoDataFrame(
    {"code": ["00001"], "nom": ["Carré"]}, geometry=[shapely.box(0, 0, 10_000, 10_000)], crs=2154
)


def _incidents(rng, n_background=3000, cluster=(3000, 7000, 150, 300)):
    bx = rng.uniform(0, 10_000, (n_background, 2))
    cx, cy, r, k = cluster
    cl = np.column_stack([rng.normal(cx, r, k), rng.normal(cy, r, k)])
    xy = np.vstack([bx, cl])
    off = np.where(np.arange(len(xy)) < n_background, "Vols dans les véhicules", "Vols violents sans arme")
    return gpd.GeoDataFrame(
        {m.OFFENCE: off, m.FORCE: "GN"}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=2154
    )


@pytest.mark.parametrize("method", ["local", "gi", "dbscan", "hdbscan"])
def test_a_planted_cluster_is_the_top_zone(method):
    rng = np.random.default_rng(0)
    inc = _incidents(rng)
    zones = zones_from_incidents(inc, SQUARE, settings=ZoneSettings(method=method))
    assert len(zones) >= 1
    top = zones.iloc[0]
    assert top.geometry.distance(shapely.Point(3000, 7000)) == 0
    assert top["rang"] == 1 and top["n_Vols violents sans arme"] >= 250
    # Severity: violent thefts weigh 3.
    assert top["score"] >= 3 * top["n_Vols violents sans arme"]
    again = zones_from_incidents(inc, SQUARE, settings=ZoneSettings(method=method))
    assert again["id"].tolist() == zones["id"].tolist()  # stable ids
    share_inc, share_area = concentration_from_zones(zones)
    # HDBSCAN also keeps the uniform background as a (sparse) cluster: weaker concentration.
    assert share_inc > (1.5 if method == "hdbscan" else 5) * share_area


def test_trend_against_previous_period():
    rng = np.random.default_rng(1)
    now = _incidents(rng)
    before = _incidents(rng, cluster=(3000, 7000, 150, 100))
    zones = zones_from_incidents(now, SQUARE, previous=before)
    top = zones.iloc[0]
    assert top["faits_periode_precedente"] < top["faits"]
    assert top["evolution"] > 0.5


def test_evaluation_known_case():
    zones = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.box(0, 0, 1000, 1000)], crs=2154)
    later = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([10, 20, 5000, 6000], [10, 20, 5000, 6000]), crs=2154
    )
    ev = evaluation_from_zones(zones, later, total_area_m2=100e6)
    assert ev["taux_de_reussite"] == 0.5 and ev["part_superficie"] == 0.01 and ev["pai"] == pytest.approx(50)
    truth = pd.DataFrame({"x": [500.0, 9000.0], "y": [500.0, 9000.0], "radius_m": [100.0, 100.0]})
    assert recall_precision_from_truth(zones, truth) == {"rappel": 0.5, "precision": 1.0}


def test_too_few_incidents():
    inc = _incidents(np.random.default_rng(2)).iloc[:20]
    with pytest.raises(TooFewIncidentsError, match="au moins 30"):
        zones_from_incidents(inc, SQUARE)


def test_default_settings_find_the_planted_hotspots(synthetic53, communes53):
    """Goal of the issue: recall >= 0.9 and precision >= 0.8 with default settings."""
    from analysis.zones import truth_active_in_period

    g = synthetic53.incidents.to_crs(2154)
    territory = communes53.to_crs(2154)
    truth = synthetic53.hotspots_frame()
    found = active = right = n_zones = 0
    for year in (2022, 2023, 2024, 2025):
        start, end = pd.Timestamp(f"{year}-01-01"), pd.Timestamp(f"{year}-12-31")
        tr = truth_active_in_period(truth, start, end)
        if tr.empty:
            continue
        t = g[m.START]
        zones = zones_from_incidents(g[(t >= start) & (t < end + pd.Timedelta(days=1))], territory)
        score = recall_precision_from_truth(zones, tr)
        found += score["rappel"] * len(tr)
        active += len(tr)
        right += score["precision"] * len(zones)
        n_zones += len(zones)
    assert active >= 4
    assert found / active >= 0.9
    assert right / n_zones >= 0.8
