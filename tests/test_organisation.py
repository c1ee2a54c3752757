import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.organisation import counts_by_area, unit_statistics
from core import model as m
from geo.communes import all_communes, cantons_for_departement
from geo.organisation import (
    assignment_from_units,
    canton_for_communes,
    indicative_competence,
    organisation_for_departement,
)
from readers.organisation import (
    OrganisationFileError,
    competence_from_bytes,
    gendarmerie_units_from_bytes,
    police_units_from_bytes,
)
from rendering.maps import layer_map_json, organisation_map, payload_from_layer_map

GN_HEAD = (
    "identifiant_public_unite;service;adresse_geographique;telephone;departement;code_commune_insee;voie;"
    "code_postal;commune;geocodage_epsg;geocodage_x;geocodage_y;geocodage_x_GPS;geocodage_y_GPS;horaires_accueil;url"
)


@pytest.fixture(scope="module")
def france():
    return all_communes()


def _square(x0, y0, size=1000.0):
    return shapely.box(x0, y0, x0 + size, y0 + size)


def test_indicative_rule_on_small_case():
    # A 25,000-inhabitant town, a dense neighbour, a sparse neighbour, a far dense commune.
    geoms = [_square(0, 0), _square(1000, 0), _square(0, 1000, 1000), _square(5000, 5000)]
    communes = gpd.GeoDataFrame(
        {
            "code": ["53001", "53002", "53003", "53004"],
            "departement": "53",
            "population": [25_000, 3_000, 100, 9_000],
            "nom": list("ABCD"),
        },
        geometry=geoms,
        crs=2154,
    ).to_crs(4326)
    force = indicative_competence(communes)
    assert force.to_dict() == {"53001": "PN", "53002": "PN", "53003": "GN", "53004": "GN"}


def test_assignment_distances_known_case():
    communes = gpd.GeoDataFrame(
        {
            "code": ["53001", "53002"],
            "departement": "53",
            "population": [100, 100],
            "nom": ["A", "B"],
            "mairie_lon": [np.nan, np.nan],
            "mairie_lat": [np.nan, np.nan],
        },
        geometry=[_square(0, 0), _square(3000, 4000)],
        crs=2154,
    ).to_crs(4326)
    units = gpd.GeoDataFrame(
        {"id": ["GN-1"], "force": ["GN"], "nom": ["Brigade"]},
        geometry=gpd.GeoSeries([shapely.Point(500, 500)], crs=2154).to_crs(4326).to_numpy(),
        crs=4326,
    )
    a = assignment_from_units(
        communes, units, pd.Series({"53001": "GN", "53002": "GN"}), detour=1.5, speed_kmh=60
    )
    # Representative point of the second square is its centre (3500, 4500): 5 km from (500, 500).
    assert a["distance_km"].iloc[0] == pytest.approx(0.0, abs=1e-4)  # round trip through degrees
    assert a["distance_km"].iloc[1] == pytest.approx(5.0, rel=1e-3)
    assert a["temps_min"].iloc[1] == pytest.approx(5.0 * 1.5, rel=1e-3)  # 60 km/h: 1 km a minute
    assert (a["unite_id"] == "GN-1").all()


def test_mayenne_indicative_organisation(communes53):
    org = organisation_for_departement(communes53, cantons_for_departement("53"))
    assert org.indicative
    assert set(org.units["force"]) == {"PN", "GN"}
    assert org.communes.set_index("code").loc["53130", "force"] == "PN"
    assert org.communes["unite_id"].notna().all()
    assert (org.communes["distance_km"] < 40).all()
    gn = org.communes[org.communes["force"] == "GN"]
    assert gn["unite_id"].str.startswith("GN-").all()
    canton = canton_for_communes(communes53, cantons_for_departement("53"))
    assert canton.notna().mean() > 0.95


def test_official_files_with_quirks(france, communes53):
    gn = (
        (
            "\ufeff" + GN_HEAD + "\n"
            "1001;Brigade de Craon;1 rue X 53400 Craon;0243;53;53084;rue X;53400;Craon;2154;0;0;-0.9497;47.8475;lundi 8h-12h;http://u\n"
            "0;Brigade de Mayenne;2 rue Y;0243;53;53147;rue Y;53100;Mayenne;2154;0;0;48.3036;-0.6136;;\n"  # swapped, id 0
            ";Brigade <img src=x onerror=alert(1)>;;;53;53062;;;;2154;0;0;;;;\n"  # no coordinates, no id
        ).encode("utf-8")
    )
    r = gendarmerie_units_from_bytes(gn, "gn.csv", communes_fr=france)
    assert len(r.units) == 2
    assert r.units["id"].tolist() == ["1001", "GN-L3"]
    assert r.units.geometry.iloc[1].y == pytest.approx(48.3036)
    motifs = r.report.set_index("ligne")["motif"]
    assert "inversées" in " ".join(motifs[motifs.index == 3])
    assert "non placée" in " ".join(motifs[motifs.index == 4])
    pn = (
        b"service;adresse_geographique;telephone;departement;code_commune_insee;voie;code_postal;commune;"
        b"geocodage_epsg;geocodage_x;geocodage_y;geocodage_x_GPS;geocodage_y_GPS\n"
        b"Commissariat de Laval;Place X;17;53;53130;x;53000;Laval;2154;0;0;-0.7700;48.0700\n"
    )
    p = police_units_from_bytes(pn, "pn.csv", communes_fr=france)
    assert p.units["id"].tolist() == ["PN-L2"] and p.units["force"].tolist() == ["PN"]
    comp = competence_from_bytes(
        (
            b'"code_commune";"libelle_commune";"institution";"id_service";"service";"code_postal";"codes_postaux"\n'
            b'"53130";"Laval";"PN";"PN-L2";"Commissariat";"53000";"53000"\n'
            b'"53084";"Craon";"GN";"1001";"Brigade";"53400";"53400-53401"\n'
        ),
        "comp.csv",
    ).table
    assert comp["force"].tolist() == ["PN", "GN"]
    units = pd.concat([r.units, p.units], ignore_index=True)
    org = organisation_for_departement(
        communes53, cantons_for_departement("53"), units=gpd.GeoDataFrame(units, crs=4326), competence=comp
    )
    a = org.communes.set_index("code")
    assert a.loc["53130", "unite_id"] == "PN-L2" and a.loc["53084", "unite_id"] == "1001"
    assert not org.indicative
    text = layer_map_json(
        organisation_map(org.communes, org.units, communes53.geometry, indicative=False, base="aucun")
    )
    assert "<img src=x" not in text


def test_bad_headers_are_explained(france):
    with pytest.raises(
        OrganisationFileError, match=r"(?s)Colonnes manquantes : .*geocodage_x_GPS.*Colonnes trouvées"
    ):
        gendarmerie_units_from_bytes(b"identifiant_public_unite;service\n1;x\n", "gn.csv", communes_fr=france)
    with pytest.raises(OrganisationFileError, match="PN ou GN"):
        competence_from_bytes(
            b"code_commune;libelle_commune;institution;id_service;service;code_postal;codes_postaux\n53130;Laval;PM;1;x;1;1\n",
            "c.csv",
        )


def test_unit_and_area_statistics(communes53, synthetic53):
    org = organisation_for_departement(communes53, cantons_for_departement("53"))
    areas = communes53.to_crs(2154).area / 1e6
    stats = unit_statistics(org.communes, areas, synthetic53.incidents)
    assert stats["communes"].sum() == 240
    assert stats["population"].sum() == communes53["population"].sum()
    assert stats["faits"].sum() == synthetic53.incidents[m.COMMUNE].isin(communes53["code"]).sum()
    assert stats["superficie_km2"].sum() == pytest.approx(areas.sum(), rel=1e-3)
    by_epci = counts_by_area(synthetic53.incidents, communes53, communes53["epci_code"])
    assert by_epci["faits"].sum() == stats["faits"].sum()
    assert by_epci["population"].sum() == communes53["population"].sum()


def test_organisation_map_marks_every_unit_indicative(communes53):
    """Each unit is a point of its own layer, its status in its tooltip; no jQuery (not served)."""
    org = organisation_for_departement(communes53, cantons_for_departement("53"))
    lm = organisation_map(org.communes, org.units, communes53.geometry, indicative=True, base="aucun")
    data, geometries = payload_from_layer_map(lm)
    units = data["layers"][1]
    assert units["name"] == "Unités (indicatif)" and units["kind"] == "point"
    status = units["labels"].index("Statut")
    assert [row[status] for row in units["values"]] == ["indicatif"] * len(org.units)
    assert len(json.loads(geometries[units["geometry_key"]])) == len(org.units)
    assert "jquery" not in layer_map_json(lm).lower()


FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3+cmd|x"]


def test_organisation_exports_neutralise_formulas(communes53, synthetic53):
    """A unit name from a file that starts a spreadsheet formula is written inert (OWASP rule)."""
    import csv
    import io

    from core.model import IncidentFilter
    from core.privacy import Audience
    from usecases.organisation import organisation_view

    org = organisation_for_departement(communes53, cantons_for_departement("53"))
    text_cols = [c for c in ("unite", "unite_nom", "nom", "service") if c in org.units.columns]
    ids = org.units["id"].iloc[: len(FORMULAS)].tolist()
    for col in text_cols:
        org.units.loc[org.units["id"].isin(ids), col] = FORMULAS[: len(ids)]
    for col in [c for c in org.communes.columns if c.startswith("unite") and c != "unite_id"]:
        org.communes.loc[org.communes["unite_id"].isin(ids), col] = FORMULAS[0]
    v = organisation_view(
        org,
        synthetic53.incidents,
        communes53,
        cantons_for_departement("53"),
        IncidentFilter(),
        departement="53",
        audience=Audience.public(),
    )
    for data in (v.export_units_csv, v.export_communes_csv):
        cells = [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";") for c in row]
        assert any("HYPERLINK" in c or "cmd|" in c for c in cells)  # the hostile names are there…
        assert not [c for c in cells if c[:1] in "=+@" or (c.startswith("-") and "cmd" in c)]  # …inert


def test_organisation_files_go_through_the_incident_files_limits_and_reports(france, monkeypatch):
    """Malformed records and bad institutions are rejected row by row with their reason, the
    file's own row numbers kept; a workbook re-saved from the CSV reads; the size limits hold."""
    import io

    import openpyxl

    head = "code_commune;libelle_commune;institution;id_service;service;code_postal;codes_postaux\n"
    text = (
        head
        + "53130;Laval;PN;PN-L2;Commissariat;53000;53000\n53084;Craon;GN;1001\n53001;Ahuillé;PM;1;x;1;1\n"
    )
    comp = competence_from_bytes(text.encode(), "comp.csv")
    assert comp.table["code"].tolist() == ["53130"]
    report = comp.report.set_index("ligne")["motif"]
    assert "mal formée" in report[3] and "PM" in report[4]
    wb = openpyxl.Workbook()
    for line in text.splitlines():
        wb.active.append(line.split(";"))
    out = io.BytesIO()
    wb.save(out)
    assert competence_from_bytes(out.getvalue(), "comp.xlsx").table["code"].tolist() == ["53130", "53084"]
    from readers import incident_files

    monkeypatch.setattr(incident_files, "SETTINGS", type("S", (), {"max_upload_rows": 1})())
    with pytest.raises(OrganisationFileError, match="trop volumineux"):
        competence_from_bytes(text.encode(), "comp.csv")
