"""Partner packs: commune sheets and canton meeting packs, gated together (published view)."""

from __future__ import annotations

import io
import subprocess
import zipfile

import numpy as np
import pytest

from core.access import MAYOR, Viewer
from core.crs import metric_crs_for_departement
from core.settings import SETTINGS
from tests.tooling import tool_path
from usecases.ma_commune import CommuneAccessError, commune_sheet_for_viewer
from usecases.packs import (
    WINDOWS,
    all_canton_packs_zip,
    canton_pack_pdf,
    commune_sheet_pdf,
    pack_data_for_departement,
)

T = SETTINGS.privacy_threshold


@pytest.fixture(scope="module")
def pack(communes53, synthetic53, keys53):
    return pack_data_for_departement(
        synthetic53.incidents, communes53, keys53, departement="53", crs=metric_crs_for_departement("53")
    )


@pytest.mark.parametrize("window", list(WINDOWS))
def test_no_hidden_commune_is_recoverable_from_its_canton_or_epci(pack, window):
    c = pack.communes
    counts, hidden = c[f"faits_{window}"].to_numpy(), c[f"secret_{window}"].to_numpy(dtype=bool)
    assert not ((counts >= 1) & (counts <= T) & ~hidden).any()  # primary secrecy
    assert hidden.any(), "the case must hide communes"
    for group in ("canton", "epci"):
        for code, members in c.groupby(c[group].astype(str)):
            if group == "canton":
                total_shown = not bool(pack.cantons.loc[code, f"secret_{window}"])
            else:  # an EPCI total hidden itself (the Diagnostic's EPCI ranking uses the same rule)
                total_shown = not bool(members[f"secret_epci_{window}"].iloc[0])
            h = members[f"secret_{window}"].to_numpy(dtype=bool) & (members[f"faits_{window}"].to_numpy() > 0)
            if total_shown and h.any():
                assert h.sum() >= 2 and members[f"faits_{window}"].to_numpy()[h].sum() > T, (
                    group,
                    code,
                    window,
                )


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(
        [tool_path("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_commune_sheet_pdf_matches_the_mayors_page(pack, synthetic53, tmp_path):
    mayor = Viewer(role=MAYOR, identity="maire@laval.fr", departements=("53",), communes=("53130",))
    sheet = commune_sheet_for_viewer(mayor, "53130", pack, synthetic53.incidents)
    text = " ".join(
        _pdf_text(
            commune_sheet_pdf(pack, "53130", territory="Mayenne (53)", dataset="démo", synthetic=True).data,
            tmp_path,
        ).split()
    )
    assert "Fiche commune — Laval (53130)" in text and "DONNÉES SYNTHÉTIQUES" in text
    for metric in sheet.metrics:  # the same figures on the page and in the PDF
        assert " ".join(metric.value.split()) in text
    with pytest.raises(CommuneAccessError):
        commune_sheet_for_viewer(mayor, "53062", pack, synthetic53.incidents)


def test_canton_pack_shows_no_small_count(pack, tmp_path):
    hidden_somewhere = False
    for canton in pack.cantons.index[:6]:
        doc = canton_pack_pdf(pack, canton, territory="Mayenne (53)", dataset="démo", synthetic=True)
        text = _pdf_text(doc.data, tmp_path)
        assert "Réunion publique — Canton de" in text
        members = pack.communes.loc[pack.cantons.loc[canton, "communes"]]
        for _, row in members.iterrows():
            assert row["nom"] in text
        hidden_somewhere |= "secret" in text
        # No count of 1 to 5 in the communes' table (counts are whole numbers in their own cell).
        for line in text.splitlines():
            cells = [c for c in line.split("  ") if c.strip()]
            assert not [c for c in cells[2:3] if c.strip().isdigit() and 1 <= int(c.strip()) <= T], line
    assert hidden_somewhere


def test_canton_zip_has_every_canton_and_the_plan(pack):
    data = all_canton_packs_zip(pack, territory="Mayenne (53)", dataset="démo", synthetic=True)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "plan_des_reunions.pdf" in names
    assert sorted(n for n in names if n.startswith("canton_")) == sorted(
        f"canton_{c}.pdf" for c in pack.cantons.index
    )
    assert np.isfinite(pack.departement_rate)
