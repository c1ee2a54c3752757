"""Number fields written the French way.

Streamlit's ``st.number_input`` writes its value printf-style: a decimal field reads
``150.00`` and ``0.10`` whatever the language. Whole quantities (metres, months, cells) are
integer fields (``%d``, the unit in the label); a quantity that needs decimals (a share in
percent, a ratio, a detour factor) is :func:`decimal_input`, a text field that shows ``0,1``
and reads ``0,1``, ``0.1`` or ``0,10`` alike, and says in French what is wrong with anything else.
"""

from __future__ import annotations

import math

from core.escape import markdown_text
from core.formatting import fmt_number


def parse_french_number(text: str) -> float | None:
    """``"1 234,5"``, ``"1234.5"`` -> 1234.5; None when ``text`` is not a number."""
    cleaned = "".join(ch for ch in str(text) if ch not in " \u00a0\u202f").replace(",", ".")
    if not cleaned or cleaned.count(".") > 1:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _written(value: float, decimals: int) -> str:
    """``value`` as the field shows it: French decimals, trailing zeros dropped (``0,1``)."""
    text = fmt_number(value, decimals)
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


def decimal_input(
    container,
    label: str,
    min_value: float,
    max_value: float,
    value: float,
    *,
    key: str,
    decimals: int = 2,
    help: str | None = None,  # noqa: A002 - Streamlit's name
) -> float:
    """A decimal field written and read the French way; the value in effect.

    Parameters
    ----------
    container
        ``st`` or a Streamlit container.
    label : str
        The field's label (with its unit).
    min_value, max_value : float
        Accepted range.
    value : float
        Initial value.
    key : str
        Widget key.
    decimals : int, default 2
        Decimals kept.
    help : str, optional
        Tooltip.

    Returns
    -------
    float
        The typed value; when it is not a number or out of range, a French message under the
        field says so and ``value`` (the default) is used.
    """
    text = container.text_input(label, _written(value, decimals), key=key, help=help)
    parsed = parse_french_number(text)
    bounds = f"entre {_written(min_value, decimals)} et {_written(max_value, decimals)}"
    if parsed is None:
        container.error(
            f"« {markdown_text(text)} » n'est pas un nombre : écrivez par exemple {_written(value, decimals)} ({bounds}). "
            f"Valeur utilisée : {_written(value, decimals)}."
        )
        return float(value)
    if not min_value <= parsed <= max_value:
        container.error(
            f"{_written(parsed, decimals)} est hors des bornes : choisissez une valeur {bounds}. "
            f"Valeur utilisée : {_written(value, decimals)}."
        )
        return float(value)
    return round(parsed, decimals)


#: What an empty select box says (Streamlit's own is English, « Choose an option », read by
#: screen readers): every ``st.selectbox`` of the app passes it.
CHOOSE = "Choisissez une option"
#: The same for an ``st.multiselect`` without a placeholder of its own.
CHOOSE_SEVERAL = "Choisissez une ou plusieurs options"


def choose_by_name(container, label: str, names: dict[str, str], *, key: str) -> str:
    """A select box of places by name, each written « Nom (code) » (two communes may share a
    name); returns the chosen code."""
    return container.selectbox(
        label, list(names), format_func=lambda k: f"{names[k]} ({k})", key=key, placeholder=CHOOSE
    )
