"""Spreadsheet exports (XLSX, XLSM, XLS, ODS): sheet and header found, cells read as an export
writes them, footer rows rejected with their reason, the same limits as the other formats."""

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from core import model as m
from core.errors import IncidentFileError
from readers.incidents import import_incident_file, read_incident_file
from readers.spreadsheets import cell_text, sheet_layout

DATA = Path(__file__).parent / "data"
NOW = dt.datetime(2026, 11, 21, 12, 0)


def imp(data, name, communes, **kw):
    return import_incident_file(data, name, communes=communes, now=NOW, **kw)


def report_workbook() -> bytes:
    """What a reporting tool writes: a summary sheet first, then the data sheet with a title
    block, an extraction date, a blank line, a header over two rows (« Lieu » merged over
    « Code INSEE » and « Commune »), date cells, an unformatted serial date, a time cell, an
    Excel time fraction, INSEE codes as numbers, a blank row, and a totals row and a source
    note at the bottom."""
    wb = openpyxl.Workbook()
    summary = wb.active
    summary.title = "Synthèse"
    summary.append(["Synthèse de l'extraction"])
    summary.append(["Indicateur", "Nombre"])
    summary.append(["Cambriolages", 2])
    summary.append(["Total", 4])
    data = wb.create_sheet("Faits")
    data.append(["Extraction des faits constatés — Mayenne"])
    data.append(["Date d'extraction : 02/12/2026"])
    data.append([])
    data.append(["N° procédure", "Date des faits", "Heure", "Lieu", None, "Nature infraction", "Dép."])
    data.append([None, None, None, "Code INSEE", "Commune", None, None])
    data.merge_cells("D4:E4")
    rows = [
        (
            "P1",
            dt.datetime(2026, 3, 5, 0, 0),
            dt.time(14, 30),
            53130,
            "Laval",
            "Cambriolage de résidence principale",
            53,
        ),
        ("P2", 46087, 0.9270833333, 53130, "Laval", "Vol de véhicule automobile", 53),  # 06/03/2026 22:15
        ("P3", dt.date(2026, 3, 7), "08:05", 53130, "Laval", "Destructions et dégradations", 53),
    ]
    for i, row in enumerate(rows):
        data.append(list(row))
        if isinstance(row[1], dt.datetime | dt.date):
            data.cell(row=6 + i, column=2).number_format = "DD/MM/YYYY"
    data.append([])
    data.append(["P4", 46088.5, None, 53130, "Laval", "Vol à la tire", 53])  # 07/03/2026 12:00
    data.append(["Total", None, None, None, None, 4, None])
    data.append(["Source : logiciel de rédaction des procédures"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def accounted(result):
    return result.n_accepted + result.n_rejected == result.n_input


def test_a_report_workbook_imports_with_no_manual_mapping(communes53):
    r = imp(report_workbook(), "extraction.xlsx", communes53)
    assert r.n_input == 6 and r.n_accepted == 4 and accounted(r)  # 4 incidents + 2 footer rows
    footer = r.rejections[r.rejections["motif"].str.contains("pied de tableau")]
    assert sorted(footer["ligne"]) == [11, 12]  # the sheet's own row numbers
    g = r.incidents.sort_values(m.ID)
    assert g[m.ID].tolist() == ["P1", "P2", "P3", "P4"]
    assert g[m.START].tolist() == [
        pd.Timestamp("2026-03-05 14:30"),
        pd.Timestamp("2026-03-06 22:15"),
        pd.Timestamp("2026-03-07 08:05"),
        pd.Timestamp("2026-03-07 12:00"),
    ]
    assert set(g[m.COMMUNE]) == {"53130"}
    assert g[m.OFFENCE].iloc[0] == "Cambriolages de logement"
    notes = " ".join(r.notes)
    assert (
        "feuille « Faits »" in notes
        and "« Synthèse » : 4 lignes" in notes
        and "« Faits » : 12 lignes" in notes
    )
    assert "en-tête ligne 4 sur deux lignes" in notes


def test_the_header_over_two_rows_is_merged_and_the_user_may_pick_a_sheet():
    raw = read_incident_file(report_workbook(), "extraction.xlsx")
    assert raw.sheet == "Faits" and raw.sheets == ["Synthèse", "Faits"]
    assert list(raw.frame.columns) == [
        "N° procédure",
        "Date des faits",
        "Heure",
        "Lieu Code INSEE",
        "Lieu Commune",
        "Nature infraction",
        "Dép.",
    ]
    assert raw.frame["Lieu Code INSEE"].tolist() == ["53130"] * 4  # no « .0 »
    summary = read_incident_file(report_workbook(), "extraction.xlsx", sheet="Synthèse")
    assert summary.sheet == "Synthèse" and list(summary.frame.columns) == ["Indicateur", "Nombre"]
    assert summary.frame["Indicateur"].tolist() == ["Cambriolages"]  # the total is a footer row
    with pytest.raises(IncidentFileError, match="pas de feuille « Données ».*Synthèse, Faits"):
        read_incident_file(report_workbook(), "extraction.xlsx", sheet="Données")


@pytest.mark.parametrize("name", ["export_faits.xls", "export_faits.ods"])
def test_committed_xls_and_ods_exports_import(name, communes53):
    r = imp((DATA / name).read_bytes(), name, communes53)
    assert r.n_accepted == 3 and r.n_input == 4 and accounted(r)
    assert r.incidents[m.START].sort_values().tolist() == [
        pd.Timestamp("2026-03-05 14:30"),
        pd.Timestamp("2026-03-06 22:15"),
        pd.Timestamp("2026-03-07 08:05"),
    ]
    assert ("XLS" if name.endswith("xls") else "ODS") in r.notes[0]


def test_a_workbook_under_another_name_is_recognised(communes53):
    r = imp(report_workbook(), "extraction.bin", communes53)
    assert r.n_accepted == 4


def test_cells_as_an_export_writes_them():
    assert cell_text(1001.0) == "1001"  # the communes step restores « 01001 »
    assert cell_text(48.0707) == "48.0707"
    assert cell_text(dt.datetime(2026, 3, 5, 14, 30)) == "2026-03-05 14:30:00"
    assert cell_text(dt.datetime(2026, 3, 5)) == "2026-03-05"  # a date cell: a day, no 00:00
    assert cell_text(dt.date(2026, 3, 5)) == "2026-03-05"
    assert cell_text(dt.time(8, 5)) == "08:05:00"
    assert cell_text(dt.timedelta(hours=26, minutes=3)) == "26:03:00"
    assert cell_text("  Laval ") == "Laval"
    assert cell_text("") is None and cell_text(None) is None and cell_text(float("nan")) is None
    assert cell_text(True) == "VRAI"


def test_a_leading_zero_lost_in_a_numeric_insee_code_is_restored():
    from readers.incident_steps.communes import _commune_codes

    raw = read_incident_file(
        _workbook([["date", "insee"], ["2026-01-02", 1001], ["2026-01-03", 2.0]]), "a.xlsx"
    )
    codes, valid = _commune_codes(raw.frame["insee"])
    assert codes.tolist() == ["01001", "2"] and valid.tolist() == [True, False]


def _workbook(rows, title="Feuil1") -> bytes:
    wb = openpyxl.Workbook()
    wb.active.title = title
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_layout_of_sheets_without_a_table():
    assert sheet_layout([]) is None
    assert sheet_layout([["Titre seul"], [], ["Une note"]]) is None
    assert sheet_layout([["a", "b"], ["x", "y"]]) is not None  # records may be all text
    with pytest.raises(IncidentFileError, match="Aucune feuille.*tableau"):
        read_incident_file(_workbook([["Rien que du titre"]]), "vide.xlsx")


def test_a_damaged_or_fake_workbook_says_what_to_do():
    data = report_workbook()
    with pytest.raises(IncidentFileError, match="endommagé|ne peut pas être lu"):
        read_incident_file(data[: len(data) // 2], "extraction.xlsx")
    with pytest.raises(IncidentFileError, match="n'est pas un classeur lisible"):
        read_incident_file(b"date;infraction\n2026-01-02;vol\n", "faux.xlsx")


def test_a_sheet_bomb_is_refused_as_a_stream():
    # A valid workbook whose sheet is padded to 300 MB of XML whitespace: about 300 KB zipped.
    src = zipfile.ZipFile(io.BytesIO(_workbook([["date", "infraction"], ["2026-01-02", "vol"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for item in src.infolist():
            body = src.read(item)
            if item.filename.endswith("sheet1.xml"):
                body = body.replace(b"<sheetData>", b"<sheetData>" + b" " * (300 * 2**20))
            z.writestr(item.filename, body)
    data = out.getvalue()
    assert len(data) < 2_000_000
    with pytest.raises(IncidentFileError, match="se décompresse en plus de"):
        read_incident_file(data, "extraction.xlsx")


def test_row_and_column_limits_apply_to_sheets(monkeypatch):
    from readers import incident_files

    monkeypatch.setattr(incident_files, "SETTINGS", type("S", (), {"max_upload_rows": 3})())
    rows = [["date", "infraction"]] + [["2026-01-02", "vol"]] * 5
    with pytest.raises(IncidentFileError, match="trop volumineux"):
        read_incident_file(_workbook(rows), "gros.xlsx")
    monkeypatch.setattr(incident_files, "MAX_COLUMNS", 3)
    with pytest.raises(IncidentFileError, match="colonnes"):
        read_incident_file(_workbook([["a", "b", "c", "d"], ["1", "2", "3", "4"]]), "large.xlsx")
