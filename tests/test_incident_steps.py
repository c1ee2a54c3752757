"""Each step of the incident importer on its own (readers.incident_steps).

The end-to-end behaviour is in test_incident_io.py; here every step is called with a
small table and checked for what it returns and what it logs (rejections, corrections,
warnings), so that a step can be changed without running the whole import.
"""

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from core.errors import IncidentFileError
from readers import incident_steps as steps
from readers.incident_files import RawTable

NOW = pd.Timestamp("2026-11-21 12:00")
LAVAL = (-0.7734, 48.0707)  # lon, lat inside Laval (53130)
TO_L93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)


def table(**columns: list) -> RawTable:
    frame = pd.DataFrame({k: pd.array(v, dtype="string") for k, v in columns.items()})
    return RawTable(frame, np.arange(2, len(frame) + 2), "faits.csv")


def log_for(raw: RawTable) -> steps.ImportLog:
    return steps.ImportLog(raw.row_numbers)


def rejected(log: steps.ImportLog) -> list[tuple[int, str]]:
    r = log.rejections(pd.DataFrame(columns=["ligne", "champ", "motif", "valeur"]))
    return list(zip(r["ligne"], r["champ"], strict=True))


# -- columns -----------------------------------------------------------------------------
def test_mapping_is_guessed_then_checked():
    raw = table(**{"Date des faits": ["01/02/2024"], "INSEE": ["53130"], "Remarque": ["x"]})
    mapping = steps.mapping_for_table(raw, None, "auto")
    assert mapping["date_debut"] == "Date des faits" and mapping["code_commune"] == "INSEE"
    assert mapping["latitude"] is None


def test_mapping_errors_name_the_problem_and_the_fix():
    raw = table(quand=["01/02/2024"], ou=["53130"])
    with pytest.raises(IncidentFileError, match="il manque une date.*Colonnes trouvées : quand, ou"):
        steps.mapping_for_table(raw, None, "auto")
    with pytest.raises(
        IncidentFileError, match="« absente » choisie pour « Infraction \\(libellé\\) » n'existe pas"
    ):
        steps.mapping_for_table(raw, {"date_debut": "quand", "infraction": "absente"}, "auto")
    with pytest.raises(IncidentFileError, match="Mode de coordonnées inconnu"):
        steps.mapping_for_table(raw, {"date_debut": "quand", "code_commune": "ou"}, "utm")


def test_row_limit_message_is_french(monkeypatch):
    raw = table(date=["01/02/2024"] * 3, insee=["53130"] * 3)
    monkeypatch.setattr(
        steps.columns, "SETTINGS", type("S", (), {"max_upload_rows": 2})()
    )  # the columns step checks it
    with pytest.raises(IncidentFileError, match="3 lignes \\(maximum 2\\). Découpez-le par période"):
        steps.mapping_for_table(raw, None, "auto")


# -- identifiers and dates ------------------------------------------------------------------
def test_identifiers_generated_and_duplicates_rejected():
    raw = table(id=["A", None, "A"], date=["x", "x", "x"])
    log = log_for(raw)
    ids = steps.identifiers_from_table(raw.frame, {"identifiant": "id"}, log)
    assert ids.tolist() == ["A", "L3", "A"]
    assert rejected(log) == [(4, "identifiant")]
    assert log.warnings == ["1 fait(s) sans identifiant : identifiant « L<ligne> » attribué."]


def test_dates_with_a_separate_time_and_day_only_windows():
    raw = table(date=["03/02/2024", "2024-02-04", "05/02/2024 08:00"], heure=["14h30", None, None])
    log = log_for(raw)
    start, end = steps.dates_from_table(raw.frame, {"date_debut": "date", "heure_debut": "heure"}, NOW, log)
    assert start.tolist() == [
        pd.Timestamp("2024-02-03 14:30"),
        pd.Timestamp("2024-02-04"),
        pd.Timestamp("2024-02-05 08:00"),
    ]
    # Only the second has neither a clock time nor a time column: a whole-day window.
    assert end.isna().tolist() == [True, False, True]
    assert end.iloc[1] == pd.Timestamp("2024-02-05")
    assert "1 fait(s) datés sans heure" in log.warnings[0] and not rejected(log)


def test_bad_dates_are_rejected_with_their_field():
    raw = table(
        debut=["31/02/2024", None, "01/01/2030", "01/01/1900", "10/01/2024 10:00", "10/01/2024 10:00"],
        fin=[None, None, None, None, "09/01/2024 10:00", "10/01/2024 12:00"],
    )
    log = log_for(raw)
    steps.dates_from_table(raw.frame, {"date_debut": "debut", "date_fin": "fin"}, NOW, log)
    # Row 4 (2030) is rejected twice: its start, and the end of its whole-day window.
    assert rejected(log) == [
        (2, "date_debut"),
        (3, "date_debut"),
        (4, "date_debut"),
        (4, "date_fin"),
        (5, "date_debut"),
        (6, "date_fin"),
    ]


def test_end_time_alone_makes_a_window_across_midnight():
    raw = table(date=["03/02/2024 23:00"], hfin=["01:30"])
    log = log_for(raw)
    _, end = steps.dates_from_table(raw.frame, {"date_debut": "date", "heure_fin": "hfin"}, NOW, log)
    assert end.iloc[0] == pd.Timestamp("2024-02-04 01:30") and not rejected(log)


# -- coordinates ----------------------------------------------------------------------------
def test_swapped_degrees_are_corrected_and_listed(communes53):
    raw = table(lat=["48,0707", "-0.7734", "abc"], lon=["-0,7734", "48.0707", "1"])
    log = log_for(raw)
    found = steps.coordinates_from_table(
        raw, raw.frame, {"latitude": "lat", "longitude": "lon"}, "auto", communes53, log
    )
    assert found.located.tolist() == [True, True, False]
    assert found.lon.iloc[1] == pytest.approx(LAVAL[0]) and found.lat.iloc[1] == pytest.approx(LAVAL[1])
    assert log.corrections()["ligne"].tolist() == [3]
    assert rejected(log) == [(4, "coordonnees")]


def test_lambert93_detected_and_swapped_columns_fixed(communes53):
    x, y = TO_L93.transform(*LAVAL)
    raw = table(x=[f"{x:.1f}", f"{y:.1f}"], y=[f"{y:.1f}", f"{x:.1f}"])
    log = log_for(raw)
    found = steps.coordinates_from_table(raw, raw.frame, {"x": "x", "y": "y"}, "auto", communes53, log)
    assert found.located.all()
    assert np.allclose(found.lon, LAVAL[0], atol=1e-5) and np.allclose(found.lat, LAVAL[1], atol=1e-5)
    assert "Lambert-93" in log.warnings[0]
    assert log.corrections()["correction"].tolist() == ["x et y inversés : permutés"]


def test_far_points_and_non_point_geometries_rejected(communes53):
    import geopandas as gpd

    raw = table(date=["x", "x", "x"])
    raw.geometry = gpd.GeoSeries(
        [shapely.Point(*LAVAL), shapely.Point(5.37, 43.30), shapely.box(-0.8, 48.0, -0.7, 48.1)],
        crs="EPSG:4326",
    )
    log = log_for(raw)
    found = steps.coordinates_from_table(raw, raw.frame, {}, "auto", communes53, log)
    assert found.located.tolist() == [True, False, False]
    assert rejected(log) == [(3, "coordonnees"), (4, "geometrie")]


# -- communes -------------------------------------------------------------------------------
def test_commune_from_code_or_point(communes53):
    raw = table(code=["53130", "1053", None, "53999", "xx"])
    lon = pd.Series([LAVAL[0], np.nan, LAVAL[0], np.nan, np.nan])
    lat = pd.Series([LAVAL[1], np.nan, LAVAL[1], np.nan, np.nan])
    found = steps.Located(lon, lat, lon.notna())
    log = log_for(raw)
    placed = steps.communes_from_points(raw.frame, {"code_commune": "code"}, found, communes53, log)
    assert placed.commune.tolist()[:4] == ["53130", "01053", "53130", "53999"]
    assert placed.outside.tolist() == [False, True, False, True, False]  # 01053 and 53999: not in the Mayenne
    assert placed.no_point.tolist() == [False, True, False, True, False]
    assert rejected(log) == [(6, "code_commune")]
    assert any("commune déduite de la localisation" in w for w in log.warnings)


# -- categories and profiles ------------------------------------------------------------------
def test_categories_recognised_or_flagged():
    raw = table(nature=["Cambriolage", "Chose inconnue"], lieu=["Rue", "lune"], force=[None, "GN"])
    forces = pd.Series({"53130": "PN"})
    cats = steps.categories_from_table(
        raw.frame,
        {"infraction": "nature", "type_lieu": "lieu", "force": "force"},
        pd.Series(["53130", "53130"]),
        forces,
    )
    assert cats.offence.tolist() == ["Cambriolages de logement", steps.OTHER_OFFENCE]
    assert cats.place.tolist() == ["voie publique", "autre"]
    assert cats.force.tolist() == ["PN", "GN"]
    assert cats.unknown_offence.tolist() == [False, True] and cats.unknown_place.tolist() == [False, True]
    assert cats.force_deduced.tolist() == [True, False]


def test_profiles_from_ages_and_labels():
    raw = table(age=["15", "30", None], sexe=["F", "?", "homme"], mineur=[None, "non", "peut-être"])
    prof = steps.profiles_from_table(raw.frame, {"age": "age", "sexe": "sexe", "mineur": "mineur"})
    assert prof.age.tolist() == ["moins de 18 ans", "25-44 ans", None]
    assert prof.sex.where(prof.sex.notna(), None).tolist() == ["femme", None, "homme"]
    # A minor's age class implies minority; an unreadable answer stays unknown.
    assert prof.minor.where(prof.minor.notna(), None).tolist() == [True, False, None]
    assert prof.unreadable.tolist() == [False, True, True]


# -- report ---------------------------------------------------------------------------------
def test_warnings_count_only_the_kept_rows():
    flags = pd.Series([True, True, False])
    cats = steps.Categories(
        offence=pd.Series(["autre"] * 3),
        place=pd.Series(["autre"] * 3),
        force=pd.Series(["PN"] * 3),
        unknown_offence=flags,
        unknown_place=flags,
        force_deduced=flags,
        offence_raw=pd.Series(["zz", "zz", "yy"]),
        outside_indicators=pd.Series([False, False, False]),
        sources={},
    )
    placed = steps.Placement(None, pd.Series(["53130"] * 3), outside=~flags, no_point=flags)
    prof = steps.Profiles(None, None, None, unreadable=flags)
    keep = np.array([True, False, True])
    out = steps.warnings_from_steps(keep, {"infraction": "nature"}, placed, cats, prof, "53")
    assert (
        out[0] == f"1 libellé(s) d'infraction non reconnu(s), classés « {steps.OTHER_OFFENCE} » : « zz » (1)."
    )
    assert "1 type(s) de lieu non reconnu(s)" in out[1]
    assert "1 fait(s) hors du département 53" in out[3]


# -- real export headers and nomenclatures ----------------------------------------------------
@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Nature de l'infraction", "infraction"),
        ("NATURE DE L'INFRACTION", "infraction"),
        ("Libellé index", "infraction"),
        ("Qualification", "infraction"),
        ("Index", "index_4001"),
        ("Index 4001", "index_4001"),
        ("NATINF", "natinf"),
        ("N° procédure", "identifiant"),
        ("N° de procédure", "identifiant"),
        ("Date des faits", "date_debut"),
        ("Date de commission", "date_debut"),
        ("Date de début des faits", "date_debut"),
        ("DATE DE DEBUT DES FAITS", "date_debut"),
        ("Heure des faits", "heure_debut"),
        ("Lieu", "type_lieu"),
        ("Type de lieu", "type_lieu"),
        ("Unité", "unite"),
        ("Service", "unite"),
        ("Code INSEE", "code_commune"),
        ("X (L93)", "x"),
        ("Y (L93)", "y"),
    ],
)
def test_headers_of_real_exports_are_recognised(header, field):
    mapping = steps.mapping_from_columns([header, "autre colonne"])
    assert mapping[field] == header


def test_offence_from_label_then_index_and_sources_kept():
    raw = table(
        nature=[
            "VIOLENCES VOLONTAIRES SUR PERSONNE DE 15 ANS OU PLUS",
            "Chose inconnue",
            None,
            "32",
            "Recels",
        ],
        index=[None, "38", "57", None, None],
        natinf=["7876", None, None, None, None],
        unite=["Brigade de gendarmerie de Laval", "Commissariat de Laval", "Police municipale", None, None],
    )
    mapping = {"infraction": "nature", "index_4001": "index", "natinf": "natinf", "unite": "unite"}
    cats = steps.categories_from_table(
        raw.frame, mapping, pd.Series(["53130"] * 5), pd.Series({"53130": "PN"})
    )
    assert cats.offence.tolist() == [
        "Violences physiques hors cadre familial",  # never « Vols violents sans arme »
        "Vols d'accessoires sur véhicules",  # the label is unknown: the index decides
        "Usage de stupéfiants",
        "Vols sans violence contre des personnes",  # a label that is an index number
        steps.OTHER_OFFENCE,  # recognised, outside the 14 indicators
    ]
    assert cats.unknown_offence.tolist() == [False] * 5
    assert cats.outside_indicators.tolist() == [False, False, False, False, True]
    assert cats.force.tolist() == ["GN", "PN", "PM", "PN", "PN"]
    assert cats.force_deduced.tolist() == [False, False, False, True, True]
    assert cats.sources["natinf"].iloc[0] == "7876" and cats.sources["index_4001"].tolist()[:4] == [
        pd.NA,
        "38",
        "57",
        "32",
    ]
    assert cats.sources["libelle_infraction"].iloc[1] == "Chose inconnue"


def test_times_and_numbers_as_exports_write_them():
    assert steps.parse_time_of_day(
        pd.Series(["20h55", "20 h 55", "2055", "7:05"], dtype="string")
    ).tolist() == [pd.Timedelta(hours=20, minutes=55)] * 3 + [pd.Timedelta(hours=7, minutes=5)]
    nums = steps.numbers_from_text(pd.Series(["412\u202f345,5", "6 789 012,25", "48,07"], dtype="string"))
    assert nums.tolist() == [412345.5, 6789012.25, 48.07]


def test_commune_from_its_name_within_the_departement(communes53):
    homonym = communes53.iloc[[0]].assign(code="53999")  # a second commune with the first one's name
    communes = pd.concat([communes53, homonym], ignore_index=True)
    first = communes53["nom"].iloc[0]
    raw = table(
        code=[None, None, "53130", None, None], nom=["LAVAL", "St Berthevin", "Mayenne", "Nulle-Part", first]
    )
    found = steps.Located(*(pd.Series([np.nan] * 5),) * 2, pd.Series([False] * 5))
    log = log_for(raw)
    placed = steps.communes_from_points(
        raw.frame, {"code_commune": "code", "commune_nom": "nom"}, found, communes, log
    )
    assert placed.commune.tolist()[:3] == [
        "53130",
        "53201",
        "53130",
    ]  # « St » is « Saint »; the code column wins
    assert rejected(log) == [(5, "commune_nom"), (6, "commune_nom")]
    assert "1 fait(s)" not in " ".join(log.warnings) and "2 fait(s) localisé(s) par le seul nom" in " ".join(
        log.warnings
    )


def test_natinf_codes_filter_incidents(communes53):
    from core.model import IncidentFilter, filter_incidents
    from readers.incidents import import_incident_file

    data = (
        b"date;code_commune;infraction;natinf\n"
        b"2025-01-05;53130;Vol simple;7876\n"
        b"2025-01-06;53130;Vol simple;7876\n"
        b"2025-01-07;53130;Vol simple;1234\n"
        b"2025-01-08;53130;Vol simple;\n"
    )
    r = import_incident_file(data, "f.csv", communes=communes53, now=NOW.to_pydatetime())
    assert r.incidents["natinf"].tolist()[:3] == ["7876", "7876", "1234"]
    assert len(filter_incidents(r.incidents, IncidentFilter(natinf=("7876",)))) == 2
    assert len(filter_incidents(r.incidents, IncidentFilter(natinf=("7876",)).undated())) == 2
    assert len(filter_incidents(r.incidents, IncidentFilter())) == 4


def test_dates_with_times_read_by_day_and_time_as_by_the_whole_format():
    from readers.incident_steps.dates import parse_datetimes

    values = [
        "01/06/2025 20:55",
        "1/6/2025 20:55",
        "15/06/2025 08:05:07",
        "01/06/2025  20:55",
        "31/02/2025 10:00",
        "01/06/2025 25:00",
        "01/06/2025 20:55 extra",
        "2025-06-01 20:55",
        "01/06/2025",
        None,
    ] * 50  # the commonest format is « day time »: the day-and-time path is taken
    got = parse_datetimes(pd.Series(values, dtype=object))
    expected = [
        "2025-06-01 20:55",
        "2025-06-01 20:55",
        "2025-06-15 08:05:07",
        "2025-06-01 20:55",
        None,
        None,
        None,
        "2025-06-01 20:55",
        "2025-06-01",
        None,
    ] * 50
    assert got.tolist() == [pd.NaT if e is None else pd.Timestamp(e) for e in expected]


def test_excel_serial_dates_and_day_fractions_are_read():
    from readers.incident_steps.dates import parse_datetimes, parse_time_of_day

    s = pd.Series(["46086", "46086.5", "05/03/2026", "12345", "99999", None], dtype="string[pyarrow]")
    got = parse_datetimes(s)
    assert got.iloc[0] == pd.Timestamp("2026-03-05") and got.iloc[1] == pd.Timestamp("2026-03-05 12:00")
    assert got.iloc[2] == pd.Timestamp("2026-03-05")
    assert got.iloc[3:].isna().all()  # 1933 and 2173: no serial date of this product's range
    t = parse_time_of_day(
        pd.Series(["0.9270833333", ".25", "0.99999999", "14:30", "1.5"], dtype="string[pyarrow]")
    )
    assert t.tolist()[:4] == [
        pd.Timedelta("22:15:00"),
        pd.Timedelta("06:00:00"),
        pd.Timedelta("23:59:59"),
        pd.Timedelta("14:30:00"),
    ]
    assert pd.isna(t.iloc[4])
