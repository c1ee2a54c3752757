"""Every figure a person reads is written the French way, and no empty state shows a
placeholder: read off the wire of every page, at the default selection and on one day.

For each page the server sends to Chromium, the test reads what was sent (``tests/e2e/wire.py``),
not what happens to be visible: metric values, texts, the display texts of every table (a figure
the browser would format itself is written the English way: ``49728``, ``55.59``), number inputs
and sliders (Streamlit writes a decimal one printf-style: ``150.00``), and the charts' number
locale (Vega-Lite writes ``1,000`` unless told otherwise). An English thousands separator or
decimal point in any of them fails the test, with the page and the value; so does a ``nan``,
``None``, ``NaT`` or ``0.000000`` where a person reads, and a chart sent without a row.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from tests.e2e.helpers import ARTIFACTS, offline_page, open_each_tab, page_settled, type_period
from tests.e2e.test_published_browser import DAY
from tests.e2e.wire import Sent, Wire

pytestmark = pytest.mark.e2e

#: ``1,234`` or ``12,345,678`` (a French decimal has a comma too, but never groups of three
#: after a first digit other than 0 in what the product writes: two decimals at most).
ENGLISH_THOUSANDS = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:,\d{3})+(?![\d,])")
#: ``55.59`` or ``0.0169``; not a product's version after its name and a slash, written as the
#: product writes it (the audit journal's browsers: ``Mozilla/5.0``, ``AppleWebKit/537.36``).
ENGLISH_DECIMAL = re.compile(r"(?<![\d.\w/])\d+\.\d+(?![\d.\w])")
#: What a person must never read: a missing value written by Python, pandas or JavaScript.
PLACEHOLDER = re.compile(r"(?<![\w-])(nan|NaN|None|NaT|null|undefined|inf)(?![\w-])|0\.000000")
#: The pages of the local post (« Ma commune » and « Administration » are the server mode's:
#: on the local post their address opens the Diagnostic under Streamlit's « Page not found »).
PAGES = (
    "",
    "zones",
    "videoprotection",
    "suivi",
    "organisation",
    "france",
    "donnees",
)


#: Markdown code (a command shown to the administrator): not a figure meant for reading.
CODE = re.compile(r"```.*?```|`[^`]*`", re.DOTALL)


def english(text: str) -> list[str]:
    """The English-looking figures in ``text`` (outside Markdown code)."""
    text = CODE.sub(" ", text)
    return [m.group(0) for pattern in (ENGLISH_THOUSANDS, ENGLISH_DECIMAL) for m in pattern.finditer(text)]


def decimal_format(data_type: int, fmt: str) -> bool:
    """A widget Streamlit writes with a decimal point: a printf format with decimals, or a
    float widget without a format (``%0.2f`` by default)."""
    match = re.search(r"%[-+ 0#]*\d*\.(\d+)[fFeEgG]", fmt or "")
    return bool(match and int(match.group(1)) > 0) or (not fmt and data_type == 1)


def _browser_formatted(frame: pd.DataFrame) -> list[str]:
    """Columns of a table sent without display texts that the browser would write the English
    way: decimals, whole numbers from 1,000 up, dates."""
    out = []
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values):
            continue
        if pd.api.types.is_float_dtype(values):
            finite = values[np.isfinite(values.to_numpy(dtype=float))]
            if len(finite) and ((finite != finite.round()).any() or finite.abs().max() >= 1000):
                out.append(str(column))
        elif (
            pd.api.types.is_integer_dtype(values)
            and len(values)
            and values.abs().max() >= 1000
            or pd.api.types.is_datetime64_any_dtype(values)
        ):
            out.append(str(column))
    return out


def placeholders(sent: Sent) -> list[str]:
    """Every missing value written as a placeholder, and every empty chart."""
    found = [
        f"métrique « {label} » : {body}"
        for label, body in sent.metrics
        if PLACEHOLDER.search(CODE.sub(" ", body))
    ]
    found += [
        f"texte : {m.group(0)} dans « {text[:80]} »"
        for text in sent.texts
        for m in PLACEHOLDER.finditer(CODE.sub(" ", text))
    ]
    missing_texts = sent.missing_texts or [""] * len(sent.displayed)
    for (frame, shown, _columns), missing in zip(sent.displayed, missing_texts, strict=True):
        # A missing cell is written by the browser, whatever the Styler says: « None » unless
        # the table names its placeholder.
        empty = [str(c) for c in frame.columns if frame[c].isna().any()]
        if empty and PLACEHOLDER.fullmatch(missing or "None"):
            found.append(
                f"tableau : cases vides écrites « {missing or 'None'} » (colonnes {', '.join(empty)})"
            )
        texts = shown if shown is not None else frame.select_dtypes(include="object")
        for column in texts.columns:
            found += [
                f"tableau, colonne « {column} » : {v}"
                for v in texts[column].dropna().astype(str)
                if PLACEHOLDER.fullmatch(v.strip())
            ]
    for chart in sent.charts:
        if not len(chart):
            found.append("graphique vide")
        for column in chart.select_dtypes(include="object").columns:
            found += [
                f"graphique, « {column} » : {v}"
                for v in chart[column].astype(str)
                if PLACEHOLDER.fullmatch(v)
            ]
    return found


def problems(sent: Sent) -> list[str]:
    """Every figure written the English way, and every placeholder, in what a page received."""
    found = [f"métrique « {label} » : {body}" for label, body in sent.metrics for _ in english(body)]
    found += [f"texte : {hit} dans « {text[:80]} »" for text in sent.texts for hit in english(text)]
    for frame, shown, columns in sent.displayed:
        if shown is None:
            found += [
                f"tableau : colonne « {c} » formatée par le navigateur"
                for c in _browser_formatted(frame)
                if (columns.get(c, {}).get("type_config") or {}).get("format") != "localized"
            ]
            # Figures sent as text are read as they are written.
            for column in frame.select_dtypes(include=["object", "string"]).columns:
                for value in frame[column].dropna().astype(str):
                    found += [f"tableau, colonne « {column} » : {hit}" for hit in english(value)]
            continue
        for column in shown.columns:
            for value in shown[column].dropna().astype(str):
                found += [f"tableau, colonne « {column} » : {hit}" for hit in english(value)]
    # A float input or slider is written printf-style by Streamlit (« 150.00 », « 0.50 »).
    found += [
        f"{kind} « {label} » au format {fmt or 'décimal par défaut'}"
        for kind, widgets in (("champ numérique", sent.number_inputs), ("curseur", sent.sliders))
        for label, data_type, fmt in widgets
        if decimal_format(data_type, fmt)
    ]
    # An empty select box shows Streamlit's English placeholder (read by screen readers).
    found += [
        f"liste « {label} » sans invite en français" for label, text in sent.selects if not text.strip()
    ]
    for spec in sent.chart_specs:
        locale = (spec.get("config") or {}).get("locale") or {}
        if (locale.get("number") or {}).get("decimal") != ",":
            found.append(f"graphique sans format de nombre français : {str(spec.get('title') or '')[:60]}")
    return found + placeholders(sent)


def one_day(page) -> None:
    """The sidebar's period set to one day (a small selection: few incidents, empty charts)."""
    type_period(page, DAY)
    page_settled(page)


#: Pages that follow the sidebar's period (the others have no selection to shrink).
PERIOD_PAGES = ("", "zones", "videoprotection", "suivi", "organisation")
CASES = [(p, "défaut") for p in PAGES] + [(p, "un jour") for p in PERIOD_PAGES]


@pytest.mark.parametrize(("path", "state"), CASES, ids=[f"{p or 'diagnostic'}-{s}" for p, s in CASES])
def test_every_figure_on_the_wire_is_french(browser, server, path, state):
    blocked, dialogs = [], []
    # In French, as the users' browsers are: a « localized » column (the weights a référent
    # edits) follows the browser's language.
    page = offline_page(browser, blocked, dialogs, viewport={"width": 1440, "height": 900}, locale="fr-FR")
    wire = Wire(page)
    page.goto(f"{server}/{path}")
    page_settled(page)
    assert page.get_by_text("Page not found").count() == 0  # the page asked for, not another
    if state == "un jour":
        wire.clear()
        try:
            one_day(page)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / f"un_jour_{path or 'diagnostic'}.png"), full_page=True)
            raise
    open_each_tab(page)  # what a lazy tab sends only when chosen is read too
    sent = wire.sent()
    assert sent.texts, f"la page « {path or 'diagnostic'} » n'a rien envoyé"
    found = problems(sent)
    assert not found, f"page « {path or 'diagnostic'} » :\n" + "\n".join(found)
    page.close()


def test_the_scan_catches_english_figures():
    """Non-vacuity: each kind of English figure is caught."""
    sent = Sent(
        metrics=[("Faits", "1,234")],
        texts=["Taux : 55.59 pour 1 000"],
        displayed=[(pd.DataFrame({"population": [49728], "taux": [55.59]}), None, {})],
        number_inputs=[("Maille (m)", 1, "%0.2f")],
        sliders=[("Part", 1, "")],
        chart_specs=[{"config": {}}],
        selects=[("Commune", ""), ("Infractions", "Toutes les infractions")],
    )
    found = problems(sent)
    assert len(found) == 8, found
    empty = Sent(
        metrics=[("Taux", "nan")],
        texts=["Légende : None"],
        displayed=[
            (pd.DataFrame({"x": ["a"]}), pd.DataFrame({"x": ["NaT"]}), {}),
            # A missing number: the Styler says « – », the browser writes « None ».
            (pd.DataFrame({"taux": [1.5, np.nan]}), pd.DataFrame({"taux": ["1,5", "–"]}), {}),
        ],
        missing_texts=["", ""],
        charts=[pd.DataFrame({"faits": []}), pd.DataFrame({"serie": ["NaN"]})],
    )
    assert len(placeholders(empty)) == 6, placeholders(empty)
    named = dataclasses.replace(empty, missing_texts=["", "–"])
    assert len(placeholders(named)) == 5, placeholders(named)
    ok = Sent(
        metrics=[("Faits", "1\u202f234")],
        texts=[
            'Taux : 55,59 pour 1 000 ; p = 0,017 ; EPSG:2154 ; 01/12/2026 ; `make national ARGS="--scale 0.1"`',
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0",
        ],
        displayed=[
            (pd.DataFrame({"population": [49728]}), pd.DataFrame({"population": ["49\u202f728"]}), {}),
            (pd.DataFrame({"poids": [1.5]}), None, {"poids": {"type_config": {"format": "localized"}}}),
        ],
        number_inputs=[("Maille (m)", 0, "%d")],
        sliders=[("Part (%)", 0, "%d %%")],
        chart_specs=[{"config": {"locale": {"number": {"decimal": ","}}}}],
    )
    assert problems(ok) == []
