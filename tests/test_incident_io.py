import datetime as dt
import io

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import model as m
from core.errors import IncidentFileError
from readers.incidents import import_incident_file, mapping_from_columns, read_incident_file

NOW = dt.datetime(2026, 11, 21, 12, 0)
LAVAL = (48.0707, -0.7734)  # lat, lon, inside Laval (53130)


def imp(data, name, communes, **kw):
    return import_incident_file(data, name, communes=communes, now=NOW, **kw)


def accounted(result):
    """Every input row is accepted or rejected."""
    return result.n_accepted + result.n_rejected == result.n_input


def test_french_csv_cp1252_decimal_comma(communes53):
    text = (
        "N° procédure;Date des faits;Heure;Nature infraction;Lieu;Latitude;Longitude\n"
        "A1;03/02/2024;14h30;Cambriolage;Maison;48,0707;-0,7734\n"
        "A2;04/02/2024;22:15;Dégradations;Rue;48,0700;-0,7700\n"
    )
    r = imp(text.encode("cp1252"), "faits.csv", communes53)
    assert r.n_accepted == 2 and accounted(r)
    assert "Windows-1252" in r.notes[0]
    g = r.incidents
    assert g[m.START].tolist() == [pd.Timestamp("2024-02-03 14:30"), pd.Timestamp("2024-02-04 22:15")]
    assert g[m.OFFENCE].tolist() == ["Cambriolages de logement", "Destructions et dégradations volontaires"]
    assert g[m.PLACE].tolist() == ["domicile", "voie publique"]
    assert g[m.COMMUNE].tolist() == ["53130", "53130"]
    assert g[m.FORCE].tolist() == ["PN", "PN"]  # Laval, indicative rule
    assert g.geometry.iloc[0].equals_exact(shapely.Point(-0.7734, 48.0707), 1e-9)


def test_utf8_bom_comma_quoted_fields_with_newlines(communes53):
    text = (
        "id,date,infraction,latitude,longitude,commentaire\n"
        '1,2024-05-01 10:00:00,"Vol, à la tire",48.07,-0.77,"sur deux\nlignes"\n'
        '2,2024-05-02T11:00:00,Vol à la roulotte,48.07,-0.77,"un ""guillemet"""\n'
    )
    r = imp(b"\xef\xbb\xbf" + text.encode("utf-8"), "f.csv", communes53)
    assert r.n_accepted == 2 and accounted(r)
    assert r.incidents[m.OFFENCE].tolist() == [
        "Vols sans violence contre des personnes",
        "Vols dans les véhicules",
    ]
    assert any("commentaire" in n for n in r.notes)  # unknown column reported, not an error


def test_lambert93_detected_and_override(communes53):
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 2154, always_xy=True).transform(LAVAL[1], LAVAL[0])
    text = f"date;x;y\n01/01/2024 10:00;{x};{y}\n"
    r = imp(text.encode(), "l93.csv", communes53)
    assert r.n_accepted == 1 and r.incidents[m.COMMUNE].iloc[0] == "53130"
    assert any("Lambert-93" in w for w in r.warnings)
    forced = imp(text.encode(), "l93.csv", communes53, coordinates="wgs84")
    assert forced.n_accepted == 0 and forced.rejections["motif"].str.contains("200 km").any()


def test_swapped_lat_lon_corrected_with_warning(communes53):
    text = f"date;latitude;longitude\n01/01/2024;{LAVAL[1]};{LAVAL[0]}\n02/01/2024;{LAVAL[0]};{LAVAL[1]}\n"
    r = imp(text.encode(), "s.csv", communes53)
    assert r.n_accepted == 2
    assert r.corrections["ligne"].tolist() == [2]
    assert any("inversées" in w for w in r.warnings)
    assert (r.incidents[m.COMMUNE] == "53130").all()


def test_rejections_name_row_field_reason(communes53):
    text = (
        "id;date;infraction;latitude;longitude;code_commune\n"
        "1;05/02/2031;Vol;48.07;-0.77;53130\n"  # future
        "2;pas une date;Vol;48.07;-0.77;53130\n"  # unreadable date
        "3;05/02/2024;Vol;abc;-0.77;\n"  # unreadable coordinates, no commune
        "4;05/02/2024;Vol;43.3;5.4;\n"  # Marseille: far from Mayenne
        "4;05/02/2024;Vol;48.07;-0.77;\n"  # duplicate id
        "5;05/02/2024;Vol;48.07;-0.77;53130;extra\n"  # malformed line
        "6;;Vol;48.07;-0.77;\n"  # no date
        "7;05/02/2024;Vol;;;53130\n"  # commune only: accepted without point
        "8;05/02/2024;Vol;48.2;-0.5;\n"  # accepted, commune by spatial join
    )
    r = imp(text.encode(), "r.csv", communes53)
    assert accounted(r)
    assert r.n_input == 9 and r.n_accepted == 2
    reasons = r.rejections.groupby("ligne")["motif"].apply(" | ".join)
    assert "futur" in reasons[2]
    assert "illisible" in reasons[3]
    assert "illisibles" in reasons[4]
    assert "200 km" in reasons[5]
    assert "double" in reasons[6]
    assert "mal formée" in reasons[7]
    assert "manquante" in reasons[8]
    acc = r.incidents.set_index(m.ID)
    assert acc.loc["7", "geometry"] is None and acc.loc["7", m.COMMUNE] == "53130"
    assert acc.loc["8", m.COMMUNE].startswith("53")


def test_unmapped_labels_kept_as_autre_and_counted(communes53):
    text = (
        "date;infraction;code_commune\n01/01/2024;Tapage nocturne;53130\n01/01/2024;Tapage nocturne;53130\n"
    )
    r = imp(text.encode(), "a.csv", communes53)
    assert r.n_accepted == 2 and (r.incidents[m.OFFENCE] == "Autre").all()
    assert any("Tapage nocturne" in w and "(2)" in w for w in r.warnings)


def test_outside_departement_flagged_not_dropped(communes53):
    text = "date;latitude;longitude\n01/01/2024;48.11;-1.68\n"  # Rennes (35)
    r = imp(text.encode(), "o.csv", communes53)
    assert r.n_accepted == 1 and r.incidents[m.OUTSIDE].iloc[0]
    assert any("hors du département" in w for w in r.warnings)


def test_window_and_date_only(communes53):
    text = "date_debut;date_fin;code_commune\n01/03/2024 08:00;01/03/2024 18:00;53130\n02/03/2024;;53130\n"
    r = imp(text.encode(), "w.csv", communes53)
    g = r.incidents
    assert g[m.END].tolist() == [pd.Timestamp("2024-03-01 18:00"), pd.Timestamp("2024-03-03 00:00")]


def test_end_before_start_rejected(communes53):
    text = "date_debut;date_fin;code_commune\n01/03/2024 18:00;01/03/2024 08:00;53130\n"
    r = imp(text.encode(), "w.csv", communes53)
    assert r.n_rejected == 1 and "antérieure" in r.rejections["motif"].iloc[0]


def test_missing_columns_message_lists_found_columns(communes53):
    with pytest.raises(IncidentFileError, match=r"(?s)il manque.*date.*Colonnes trouvées : foo, bar"):
        imp(b"foo;bar\n1;2\n", "x.csv", communes53)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "vide"),
        (b"   \n  ", "vide"),
        (bytes(range(256)) * 50, "binaire"),
        (b"PAR1garbage", "Parquet"),
        (b'{"type": "FeatureCollection", "features": [', "GeoJSON"),
        (b"onlyonecolumn\n1\n", "une colonne"),
    ],
)
def test_unreadable_files(data, match, communes53):
    with pytest.raises(IncidentFileError, match=match):
        imp(data, "f.csv" if not data.startswith(b"{") else "f.geojson", communes53)


def test_header_only_and_one_row(communes53):
    r0 = imp(b"date;code_commune\n", "h.csv", communes53)
    assert r0.n_input == 0 and r0.n_accepted == 0
    r1 = imp(b"date;code_commune\n01/01/2024;53130", "h.csv", communes53)
    assert r1.n_accepted == 1


def _gdf(communes53):
    pts = gpd.GeoSeries(
        [shapely.Point(LAVAL[1], LAVAL[0]), shapely.Point(-0.5, 48.2), shapely.LineString([(0, 0), (1, 1)])],
        crs=4326,
    )
    return gpd.GeoDataFrame(
        {
            "date": ["2024-01-01 10:00", "2024-01-02 11:00", "2024-01-03 12:00"],
            "nature": ["Vol de véhicule", "Escroquerie", "Vol"],
        },
        geometry=pts,
    )


def test_geojson_gpkg_parquet(tmp_path, communes53):
    gdf = _gdf(communes53)
    gdf.to_file(tmp_path / "f.geojson", driver="GeoJSON")
    gdf.to_crs(2154).to_file(tmp_path / "f.gpkg", driver="GPKG")
    gdf.to_parquet(tmp_path / "f.parquet")
    for name in ("f.geojson", "f.gpkg", "f.parquet"):
        r = imp((tmp_path / name).read_bytes(), name, communes53)
        assert r.n_accepted == 2 and r.n_rejected == 1 and accounted(r), name
        assert "non ponctuelle" in r.rejections["motif"].iloc[0]
        assert r.incidents[m.COMMUNE].iloc[0] == "53130"
        assert r.incidents[m.OFFENCE].tolist() == [
            "Vols de véhicule",
            "Escroqueries et fraudes aux moyens de paiement",
        ]


def test_plain_parquet_with_lat_lon(tmp_path, communes53):
    df = pd.DataFrame({"date": pd.to_datetime(["2024-01-01 10:00"]), "lat": [LAVAL[0]], "lon": [LAVAL[1]]})
    buf = io.BytesIO()
    df.to_parquet(buf)
    r = imp(buf.getvalue(), "p.parquet", communes53)
    assert r.n_accepted == 1 and r.incidents[m.START].iloc[0] == pd.Timestamp("2024-01-01 10:00")


def test_mapping_guess():
    mp = mapping_from_columns(["Date des faits", "LIBELLE", "Code INSEE", "lat", "Lng", "foo"])
    assert mp["date_debut"] == "Date des faits" and mp["infraction"] == "LIBELLE"
    assert mp["code_commune"] == "Code INSEE" and mp["latitude"] == "lat" and mp["longitude"] == "Lng"
    assert mp["x"] is None


# --- property: every row accepted or rejected with a reason ---------------------------------
cell = st.one_of(
    st.just(""),
    st.just("NA"),
    st.sampled_from(["01/02/2024", "2024-02-01 10:00", "31/02/2024", "2031-01-01", "hier"]),
    st.sampled_from(["48,07", "-0,77", "48.07", "-0.77", "abc", "1e400", "419000", "6784000"]),
    st.sampled_from(["53130", "1001", "2A004", "99999", "x"]),
    st.sampled_from(["Cambriolage", "Vol", "Tapage", "<img src=x onerror=alert(1)>"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
)
HEADER = ["id", "date", "heure", "infraction", "latitude", "longitude", "code_commune", "sexe"]


@st.composite
def csv_files(draw):
    cols = draw(st.lists(st.sampled_from(HEADER), min_size=1, max_size=8, unique=True))
    sep = draw(st.sampled_from([";", ",", "\t"]))
    rows = draw(st.lists(st.lists(cell, min_size=len(cols) - 1, max_size=len(cols) + 1), max_size=12))
    quote = draw(st.booleans())
    lines = [sep.join(cols)]
    for r in rows:
        vals = [('"' + v.replace('"', '""') + '"') if quote else v for v in r]
        lines.append(sep.join(vals))
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
    data = text.encode(enc, errors="replace")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut]
    if draw(st.integers(0, 9)) == 0:
        data = draw(st.binary(max_size=200))
    return data


@settings(
    max_examples=int(__import__("os").environ.get("PROPERTY_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=csv_files())
def test_every_row_accepted_or_rejected(data, communes53):
    try:
        raw = read_incident_file(data, "gen.csv")
    except IncidentFileError as exc:
        assert str(exc)  # a French message naming the file
        assert "gen.csv" in str(exc)
        return
    try:
        r = imp(data, "gen.csv", communes53)
    except IncidentFileError as exc:
        assert "Colonnes" in str(exc) or "colonne" in str(exc)
        return
    assert r.n_input == raw.n_rows
    assert r.n_accepted + r.n_rejected == r.n_input
    assert r.rejections["motif"].str.len().gt(0).all()
    rejected_rows = set(r.rejections["ligne"])
    assert len(rejected_rows) == r.n_rejected
    assert rejected_rows <= set(range(1, r.n_input + 2))
    assert r.incidents[m.ID].is_unique
    assert not (r.incidents[m.START] > pd.Timestamp(NOW)).any()


@pytest.mark.parametrize("dep", ["53", "2A", "971"])
def test_template_file_imports_as_is(dep):
    from geo.communes import communes_for_departement
    from readers.incidents import template_csv_from_communes

    communes = communes_for_departement(dep)
    data = template_csv_from_communes(communes)
    raw = read_incident_file(data, "modele_faits.csv")
    # Every column of the model is recognised by the automatic column mapping.
    assert set(raw.frame.columns) <= {c for c in mapping_from_columns(list(raw.frame.columns)).values() if c}
    result = import_incident_file(data, "modele_faits.csv", communes=communes)
    assert result.n_accepted == 3 and result.n_rejected == 0 and result.corrections.empty
    inc = result.incidents
    assert (inc[m.COMMUNE] == communes.sort_values("population").iloc[-1]["code"]).all()
    assert inc[m.END].notna().sum() == 1 and inc[m.AGE].notna().sum() == 1
    # The burglary located by its commune only is counted there, with no point.
    assert inc.geometry.notna().tolist() == [True, False, True]
    assert inc[m.FORCE].tolist() == ["PN", "PN", "PM"]


def _analysis_cell_export(offences: list[str]) -> bytes:
    """An export as analysis cells send it: cp1252, « ; », Lambert-93 with decimal commas."""
    header = "N° procédure;Date des faits;Heure;Nature de l'infraction;Type de lieu;Code INSEE;Commune;X (L93);Y (L93)"
    rows = [
        f"2025/{i:05d};{3 + i % 20:02d}/02/2025;{8 + i % 12}h{i % 60:02d};{label};VOIE PUBLIQUE;53130;LAVAL;"
        f"{419_000 + 10 * i},5;{6_783_000 + 10 * i},25"
        for i, label in enumerate(offences)
    ]
    return ("\r\n".join([header, *rows]) + "\r\n").encode("cp1252")


EXPORT_LABELS = {
    "VIOLENCES VOLONTAIRES SUR PERSONNE DE 15 ANS OU PLUS": ("Violences physiques hors cadre familial", 7),
    "VOLS VIOLENTS SANS ARME CONTRE D'AUTRES VICTIMES": ("Vols violents sans arme", 26),
    "CAMBRIOLAGES DE LOCAUX D'HABITATIONS PRINCIPALES": ("Cambriolages de logement", 27),
    "VOLS A LA ROULOTTE": ("Vols dans les véhicules", 37),
    "VOLS D'AUTOMOBILES": ("Vols de véhicule", 35),
    "AUTRES DESTRUCTIONS ER DEGRADATIONS DE BIENS PRIVES": ("Destructions et dégradations volontaires", 67),
    "USAGE DE STUPEFIANTS": ("Usage de stupéfiants", 57),
    "ESCROQUERIES ET ABUS DE CONFIANCE": ("Escroqueries et fraudes aux moyens de paiement", 91),
    "VIOLS SUR DES MAJEUR(E)S": ("Violences sexuelles", 46),
}


def test_analysis_cell_export_imports_with_every_offence_classed(communes53):
    labels = list(EXPORT_LABELS)
    r = imp(_analysis_cell_export(labels), "export_gn.csv", communes53)
    assert r.mapping["infraction"] == "Nature de l'infraction" and r.mapping["identifiant"] == "N° procédure"
    assert r.n_accepted == len(labels) and accounted(r)
    assert r.incidents[m.OFFENCE].tolist() == [c for c, _ in EXPORT_LABELS.values()]
    assert r.incidents[m.RAW_OFFENCE].tolist() == labels  # kept beside the class
    assert r.incidents[m.START].iloc[0] == pd.Timestamp("2025-02-03 08:00")
    assert (r.incidents[m.COMMUNE] == "53130").all()
    assert not [w for w in r.warnings if "non reconnu" in w]
    # The same file with the labels replaced by their état 4001 index: the same classes.
    by_index = imp(
        _analysis_cell_export([str(i) for _, i in EXPORT_LABELS.values()]), "index.csv", communes53
    )
    assert by_index.incidents[m.OFFENCE].tolist() == r.incidents[m.OFFENCE].tolist()
    assert by_index.incidents[m.INDEX_4001].tolist() == [str(i) for _, i in EXPORT_LABELS.values()]


# -- files that must not hurt the server (issue 14, point 6) ---------------------------------
def test_parquet_size_read_from_metadata_before_parsing(communes53, monkeypatch, tmp_path):
    import geopandas as gpd_

    from readers import incident_files

    frame = pd.DataFrame({"date": ["2025-01-01"] * 5000, "code_commune": ["53130"] * 5000})
    path = tmp_path / "big.parquet"
    frame.to_parquet(path)
    monkeypatch.setattr(incident_files, "SETTINGS", type("S", (), {"max_upload_rows": 1000})())

    def never(*a, **k):
        raise AssertionError("the file was parsed before its size was checked")

    monkeypatch.setattr(gpd_, "read_parquet", never)
    monkeypatch.setattr(pd, "read_parquet", never)
    with pytest.raises(IncidentFileError, match="5\u202f000 lignes .*maximum 1\u202f000.*Découpez"):
        read_incident_file(path.read_bytes(), "big.parquet")


def test_csv_with_200000_columns_refused_before_parsing():
    header = ";".join(f"c{i}" for i in range(200_000))
    data = (header + "\n" + ";" * 199_999 + "\n").encode()
    with pytest.raises(IncidentFileError, match="200\u202f000 colonnes"):
        read_incident_file(data, "large.csv")


def test_every_layer_of_a_geopackage_is_read(communes53, tmp_path):
    import pyogrio

    path = tmp_path / "two.gpkg"
    for layer, n in (("janvier", 2), ("fevrier", 3)):
        g = gpd.GeoDataFrame(
            {"date": ["2025-01-05"] * n, "infraction": ["Cambriolage"] * n},
            geometry=[shapely.Point(LAVAL[1], LAVAL[0])] * n,
            crs="EPSG:4326",
        )
        pyogrio.write_dataframe(g, path, layer=layer, append=path.exists())
    raw = read_incident_file(path.read_bytes(), "two.gpkg")
    assert len(raw.frame) == 5 and sorted(raw.frame["couche"].unique()) == ["fevrier", "janvier"]
    assert any("2 couches" in n for n in raw.notes)
    r = imp(path.read_bytes(), "two.gpkg", communes53)
    assert r.n_accepted == 5 and accounted(r)


def test_one_bad_byte_keeps_a_utf8_file_utf8(communes53):
    text = (
        "date;type_lieu;infraction;code_commune\n"
        "2025-01-05;établissement scolaire;Cambriolage;53130\n"
        "2025-01-06;établissement scolaire;Dégradation;53130\n"
    ).encode()
    data = text + b"2025-01-07;voie publique;Vol \xff;53130\n"
    raw = read_incident_file(data, "f.csv")
    assert raw.notes[0].startswith("Format CSV, encodage UTF-8 (octets invalides remplacés)")
    assert any("lignes 4" in n for n in raw.notes)
    r = imp(data, "f.csv", communes53)
    assert r.incidents[m.PLACE].tolist()[:2] == ["établissement scolaire"] * 2


def test_utf16_without_bom_is_text(communes53):
    data = "date;code_commune;infraction\n2025-01-05;53130;Cambriolage\n".encode("utf-16-le")
    r = imp(data, "f.csv", communes53)
    assert r.n_accepted == 1 and "UTF-16" in r.notes[0]


def test_gdal_messages_without_internal_paths():
    with pytest.raises(IncidentFileError) as err:
        read_incident_file(b'{"a": 1}', "f.geojson")
    assert "/vsimem" not in str(err.value) and len(str(err.value)) < 600


def test_rejection_reports_neutralise_formulas(communes53, tmp_path):
    import csv

    from data.store import DatasetStore
    from rendering.exports import csv_bytes_from_frame

    data = (
        b"date;code_commune;infraction\n"
        b'=HYPERLINK("http://evil.example","x");53130;Vol\n'
        b"2025-01-05;+cmd|' /C calc'!A0;Vol\n"
        b"2025-01-06;53130;@SUM(1+1)\n"
    )
    r = imp(data, "f.csv", communes53)
    assert r.n_rejected == 2 and r.n_accepted == 1
    info = DatasetStore(tmp_path).save(r.incidents, name="x", source_file="f.csv", rejections=r.rejections)
    stored = next((tmp_path / info.slug).glob("v*/rejets.csv")).read_text(encoding="utf-8")
    for text, sep in ((csv_bytes_from_frame(r.rejections).decode("utf-8-sig"), ";"), (stored, ",")):
        cells = [c for row in csv.reader(io.StringIO(text), delimiter=sep) for c in row]
        assert any("HYPERLINK" in c for c in cells) and any("cmd|" in c for c in cells)
        assert not [c for c in cells if c[:1] in "=+@"], cells


def test_utf8_counts_of_the_non_ascii_runs_are_those_of_the_whole_text():
    import re

    import numpy as np

    from readers.incident_files import _utf8_counts

    def whole(data: bytes) -> tuple[int, int]:
        text = data.decode("utf-8", errors="surrogateescape")
        return len(re.findall("[\udc80-\udcff]", text)), len(re.findall("[^\x00-\x7f\udc80-\udcff]", text))

    rng = np.random.default_rng(0)
    samples = [b"", b"abc", "é".encode()[:1] + b"a", "éè€".encode("cp1252"), "é😀".encode()[:-1], b"\xe9"]
    for _ in range(300):
        parts = [
            bytes(rng.integers(0, 256, rng.integers(0, 6), dtype=np.uint8)),
            "é€😀ß".encode()[: rng.integers(0, 12)],
            b"ab;\n",
        ]
        rng.shuffle(parts)
        samples.append(b"".join(parts) * int(rng.integers(1, 4)))
    for data in samples:
        assert _utf8_counts(data) == whole(data), data
