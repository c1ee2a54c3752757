"""« Ma commune »: a mayor's sheet is published, gated with the département, and territorial."""

from __future__ import annotations

import numpy as np
import pytest

from core.access import MAYOR, Viewer
from core.crs import metric_crs_for_departement
from usecases.ma_commune import CommuneAccessError, commune_sheet_for_viewer
from usecases.packs import pack_data_for_departement

CRS = metric_crs_for_departement("53")


@pytest.fixture(scope="module")
def pack(synthetic53, communes53, keys53):
    return pack_data_for_departement(synthetic53.incidents, communes53, keys53, departement="53", crs=CRS)


def _small(text: str) -> bool:
    digits = text.replace("\u202f", "").split(" ")[0]
    return digits.isdigit() and 1 <= int(digits) <= 5


def test_mayor_of_laval_gets_a_published_sheet(synthetic53, communes53, pack):
    mayor = Viewer(role=MAYOR, identity="maire@laval.fr", departements=("53",), communes=("53130",))
    sheet = commune_sheet_for_viewer(mayor, "53130", pack, synthetic53.incidents)
    labels = {m.label: m.value for m in sheet.metrics}
    assert (
        int(
            next(v for k, v in labels.items() if k.startswith("Faits, douze derniers mois")).replace(
                "\u202f", ""
            )
        )
        > 100
    )
    assert "Département, pour 1 000 habitants" in labels
    assert not [v for v in sheet.offences["faits"] if _small(v)]
    assert not ((sheet.monthly["faits"] >= 1) & (sheet.monthly["faits"] <= 5)).any()
    assert set(sheet.zones.columns) == {"rang", "geometry"}  # outlines of published zones only
    assert sheet.outline.crs.to_epsg() == 4326


def test_a_small_village_stays_secret(synthetic53, communes53, pack):
    code = communes53.loc[communes53["population"].idxmin(), "code"]
    mayor = Viewer(role=MAYOR, identity="maire@village.fr", departements=("53",), communes=(code,))
    sheet = commune_sheet_for_viewer(mayor, code, pack, synthetic53.incidents)
    values = [m.value for m in sheet.metrics]
    assert not [v for v in values if _small(v)]
    assert not [v for v in sheet.offences["faits"] if _small(v)]
    assert (
        np.nan_to_num(sheet.monthly["faits"].to_numpy()).max() == 0
        or not ((sheet.monthly["faits"] >= 1) & (sheet.monthly["faits"] <= 5)).any()
    )


def test_a_mayor_cannot_open_another_commune(synthetic53, communes53, pack):
    mayor = Viewer(role=MAYOR, identity="maire@laval.fr", departements=("53",), communes=("53130",))
    with pytest.raises(CommuneAccessError, match="pas dans votre territoire"):
        commune_sheet_for_viewer(mayor, "53062", pack, synthetic53.incidents)
