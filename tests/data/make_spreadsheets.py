"""Writes the committed spreadsheet fixtures ``export_faits.xls`` and ``export_faits.ods``.

The product only reads spreadsheets (python-calamine); these two files were written once with
``xlwt`` 1.3.0 (XLS) and ``odfpy`` 1.4.1 through pandas (ODS), which the project does not
install. To write them again: ``python -m venv /tmp/gen && /tmp/gen/bin/pip install xlwt odfpy
pandas && /tmp/gen/bin/python tests/data/make_spreadsheets.py``. The XLSX fixtures are built in
the tests themselves with openpyxl (a dev requirement).

Both hold what reporting tools write: a title and an extraction date above the header, a blank
line, the header, three incidents of Laval (53130) with a date cell, a time and a numeric INSEE
code, and a totals row.
"""

import datetime as dt
from pathlib import Path

HERE = Path(__file__).resolve().parent
TITLE = ["Extraction des faits constatés", "Date d'extraction : 02/12/2026"]
HEADER = ["Date des faits", "Heure", "Code INSEE", "Nature infraction", "Lieu"]
ROWS = [
    (dt.datetime(2026, 3, 5), "14:30", 53130, "Cambriolage de résidence principale", "Maison"),
    (dt.datetime(2026, 3, 6), "22:15", 53130, "Vol de véhicule automobile", "Parking"),
    (dt.datetime(2026, 3, 7), "08:05", 53130, "Destructions et dégradations", "Rue"),
]
TOTAL = ["Total", "", "", 3, ""]


def write_xls(path: Path) -> None:
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Faits")
    day = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    r = 0
    for line in TITLE:
        sheet.write(r, 0, line)
        r += 1
    r += 1  # blank line
    for j, name in enumerate(HEADER):
        sheet.write(r, j, name)
    for row in ROWS:
        r += 1
        for j, value in enumerate(row):
            sheet.write(r, j, value, day) if j == 0 else sheet.write(r, j, value)
    r += 1
    for j, value in enumerate(TOTAL):
        if value != "":
            sheet.write(r, j, value)
    book.save(str(path))


def write_ods(path: Path) -> None:
    import pandas as pd

    lines = [[TITLE[0], None, None, None, None], [TITLE[1], None, None, None, None], [None] * 5]
    lines += [HEADER, *[list(r) for r in ROWS], [v if v != "" else None for v in TOTAL]]
    with pd.ExcelWriter(path, engine="odf") as writer:
        pd.DataFrame(lines).to_excel(writer, sheet_name="Faits", header=False, index=False)


if __name__ == "__main__":
    write_xls(HERE / "export_faits.xls")
    write_ods(HERE / "export_faits.ods")
