import gzip
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.official import (
    STATUS_ABSENT,
    STATUS_PUBLISHED,
    STATUS_SECRET,
    communes_without_double_counting,
    departement_series,
    official_commune_table,
    official_rates_for_communes,
)
from readers.ssmsi import StatisticsFileError, official_statistics_from_bytes

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata"
needs_real = pytest.mark.skipif(
    not REAL.exists() and os.environ.get("CI", "").lower() != "true",
    reason="../shared/realdata absent (outside CI only: CI has it beside main, and fails without it)",
)


@needs_real
def test_real_communal_base_current_format():
    s = official_statistics_from_bytes((REAL / "ssmsi_communes_2025_extrait.csv").read_bytes(), "c.csv")
    t = s.table
    assert s.kind == "base communale (format actuel)"
    assert len(t) == 75 and set(t["code"]) == {"01001", "23001", "33063", "33318", "75056"}
    assert (t["annee"] == 2025).all()
    row = t[(t["code"] == "01001") & (t["indicateur"] == "Violences physiques intrafamiliales")].iloc[0]
    # ndiff: no commune value; the département mean only in its own column.
    assert not row["diffuse"] and np.isnan(row["nombre"]) and np.isnan(row["taux_pour_mille"])
    assert row["estimation_dep_nombre"] == pytest.approx(2.8185053)
    bdx = t[(t["code"] == "33063") & (t["indicateur"] == "Cambriolages de logement")].iloc[0]
    assert bdx["nombre"] == 1159 and bdx["diffuse"]
    # Burglaries per 1,000 dwellings, as the source publishes them.
    assert bdx["taux_pour_mille"] == pytest.approx(1159 / bdx["logements"] * 1000, rel=1e-3)
    # AFD fines stay a separate indicator (never added to drug use).
    assert {"Usage de stupéfiants", "Usage de stupéfiants (AFD)"} <= set(t["indicateur"])


@needs_real
def test_real_departmental_base_old_format():
    s = official_statistics_from_bytes(
        (REAL / "ssmsi_departements_2016-2022_ancien_format.csv").read_bytes(), "d.csv"
    )
    t = s.table
    assert s.kind == "base départementale (ancien format)"
    assert set(t["annee"]) == set(range(2016, 2023))
    m22 = t[(t["code"] == "53") & (t["annee"] == 2022)].set_index("indicateur")["nombre"]
    assert m22["Cambriolages de logement"] == 568
    assert m22["Destructions et dégradations volontaires"] == 1906
    # The old aggregate is dropped; its two parts are mapped to the current names.
    assert "Coups et blessures volontaires" not in m22.index
    assert m22["Violences physiques intrafamiliales"] + m22["Violences physiques hors cadre familial"] == 1109
    assert {"2A", "2B", "971", "976", "01"} <= set(t["code"])
    series = departement_series(t, "53", indicateur="Cambriolages de logement")
    assert series["source"].iloc[0] == "base départementale" and len(series) == 7


OLD_COMMUNAL = (
    "CODGEO_2024;annee;classe;unité.de.compte;valeur.publiée;faits;tauxpourmille;complementinfoval;"
    "complementinfotaux;POP;millPOP;LOG;millLOG\n"
    "53130;23;Cambriolages de logement;infraction;diff;150;5,5;NA;NA;49728;21;27000,5;20\n"
    "53001;23;Cambriolages de logement;infraction;ndiff;NA;NA;1,2;3,4;500;21;250;20\n"
    '53130;22;Cambriolages de logement;infraction;diff;100;"3,7";"NA";"NA";49728;21;27000,5;20\n'
    "53130;23;Coups et blessures volontaires intrafamiliaux;victime;diff;80;1,6;NA;NA;49728;21;27000,5;20\n"
)


@pytest.mark.parametrize("wrap", ["plain", "bom", "gzip", "cp1252"])
def test_old_communal_format_with_quirks(wrap, communes53):
    data = OLD_COMMUNAL.encode("cp1252" if wrap == "cp1252" else "utf-8")
    if wrap == "bom":
        data = b"\xef\xbb\xbf" + data
    if wrap == "gzip":
        data = gzip.compress(data)
    s = official_statistics_from_bytes(data, "old.csv.gz" if wrap == "gzip" else "old.csv")
    t = s.table
    assert s.kind == "base communale (ancien format)"
    assert sorted(t["annee"].unique()) == [2022, 2023]
    assert set(t["unite"]) == {"Infraction", "Victime"}
    assert "Violences physiques intrafamiliales" in set(t["indicateur"])
    r = official_rates_for_communes(t, communes53, indicateur="Cambriolages de logement", annee=2023)
    laval = r.set_index("code").loc["53130"]
    assert laval["statut"] == STATUS_PUBLISHED and laval["taux_pour_mille"] == 5.5
    assert laval["evolution"] == pytest.approx(5.5 / 3.7 - 1)
    small = r.set_index("code").loc["53001"]
    assert (
        small["statut"] == STATUS_SECRET
        and np.isnan(small["taux_pour_mille"])
        and small["estimation_dep_taux"] == 3.4
    )
    assert r.set_index("code").loc["53002", "statut"] == STATUS_ABSENT
    table = official_commune_table(r)
    assert table.iloc[0]["code"] == "53130"
    assert table.set_index("code").loc["53001", "taux_pour_mille"] == ""  # never the estimate
    partial = departement_series(t, "53", indicateur="Cambriolages de logement")
    assert partial["source"].iloc[0] == "communes publiées (partiel)"


def test_unknown_format_lists_expected_and_found_columns():
    with pytest.raises(StatisticsFileError, match=r"(?s)Colonnes attendues.*Colonnes trouvées : foo, bar"):
        official_statistics_from_bytes(b"foo;bar\n1;2\n", "x.csv")
    with pytest.raises(StatisticsFileError, match="vide"):
        official_statistics_from_bytes(b"", "x.csv")
    with pytest.raises(StatisticsFileError, match="gz"):
        official_statistics_from_bytes(b"\x1f\x8b\x08garbage", "x.csv.gz")


def test_plm_never_counted_twice():
    t = pd.DataFrame({"code": ["75056", "75101", "75120", "69123", "69381", "13201"], "x": range(6)})
    out = communes_without_double_counting(t)
    assert out["code"].tolist() == ["75056", "69123", "13201"]  # Marseille whole absent: arrondissement kept


def test_departement_partial_sum_counts_paris_once():
    t = pd.DataFrame(
        {
            "niveau": "commune",
            "code": ["75056", "75101", "75102"],
            "annee": 2025,
            "indicateur": "Vols avec armes",
            "nombre": [100.0, 60.0, 40.0],
            "diffuse": True,
        }
    )
    assert departement_series(t, "75", indicateur="Vols avec armes")["nombre"].tolist() == [100.0]


def test_current_departmental_format():
    data = (
        b"Code_departement;Code_region;annee;indicateur;unite_de_compte;nombre;taux_pour_mille;insee_pop;insee_log\n"
        b"53;52;2024;Cambriolages de logement;Infraction;600;3,7;307000;160000\n"
        b"2A;94;2024;Vols avec armes;Infraction;5;0,03;160000;120000\n"
    )
    s = official_statistics_from_bytes(data, "dep.csv")
    assert s.kind == "base départementale (format actuel)"
    assert s.table["code"].tolist() == ["53", "2A"] and s.table["nombre"].tolist() == [600, 5]
