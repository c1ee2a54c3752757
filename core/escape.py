"""Escaping of text that came from a file, one function per destination.

Every value read from a user's file (labels, names, unit names, indicator names) goes
through one of these before it reaches a destination that interprets it:

* :func:`markdown_text`: Streamlit Markdown (``st.markdown``, ``st.subheader``, ``st.info``,
  metric labels): no link, image, heading or LaTeX may come from data;
* :func:`html_text`: HTML and folium popups/tooltips (which also sit inside JavaScript
  template literals);
* :func:`csv_cell`: a cell of a CSV we write (OWASP CSV injection: a cell that starts with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'``);
* :func:`pdf_text`: reportlab paragraphs (their mini-HTML).
"""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def markdown_text(value: object) -> str:
    """Escape Markdown (and Streamlit's LaTeX ``$``) in text that may hold file values.

    A label such as ``![x](http://host/a.png)`` would otherwise make every browser that opens
    the page fetch an image from another host.
    """
    return _MD_SPECIAL.sub(r"\\\1", str(value))


def html_text(value: object) -> str:
    """Escape for HTML, including inside JS template literals (folium tooltips, popups).

    ``html.escape`` plus the backtick and ``$`` (folium puts tooltip and popup text in
    JavaScript template literals, where `` ` `` or ``${`` would break out).
    """
    return html.escape(str(value)).replace("`", "&#96;").replace("$", "&#36;")


def pdf_text(value: object) -> str:
    """Escape for reportlab ``Paragraph`` markup (a subset of HTML)."""
    return html.escape(str(value))


def csv_cell(value: object) -> object:
    """Neutralise a spreadsheet formula in one CSV cell (OWASP CSV injection rule).

    Numbers, and text that is a plain signed number (``-0.77``), are left alone; other text that starts
    with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading apostrophe.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def csv_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a table whose text cells (and headers) are neutralised with :func:`csv_cell`."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            values = s.astype(object).to_numpy()
            out[col] = np.array([csv_cell(v) for v in values], dtype=object)
    out.columns = [csv_cell(str(c)) for c in out.columns]
    return out
