"""French formatting of figures, and the colours of change classes, shared by the maps, the
report and the pages (so that a figure reads the same everywhere)."""

from __future__ import annotations

import numpy as np

from core.model import IncidentFilter
from core.vocabulary import FORCES, OFFENCES, PLACE_TYPES

CHANGE_COLOURS = {"hausse": "#c9191e", "baisse": "#1f5fbf", "stable": "#f0f0f0", "secret": "#c8c8c8"}
CHANGE_LABELS = {
    "hausse": "hausse significative",
    "baisse": "baisse significative",
    "stable": "pas de changement significatif",
    "secret": "effectifs soumis au secret",
}
NBSP = "\u00a0"


def fmt_count(value: float) -> str:
    """An integer count with French thousands separators (text such as "secret" passes through)."""
    if isinstance(value, str):
        return value
    return f"{int(value):,}".replace(",", NBSP)


def filter_description(flt: IncidentFilter, *, dates: bool = True) -> str:
    """The sidebar selection in words, for reports: dates, then only the restricted fields."""
    parts = []
    if dates and flt.start is not None and flt.end is not None:
        parts.append(f"du {flt.start:%d/%m/%Y} au {flt.end:%d/%m/%Y}")
    for label, values, every in (
        ("infractions", flt.offences, len(OFFENCES) + 1),
        ("lieux", flt.places, len(PLACE_TYPES)),
        ("forces", flt.forces, len(FORCES)),
    ):
        if values is not None and len(values) < every:
            parts.append(f"{label} : " + ", ".join(values))
    return " ; ".join(parts) or "tous les faits"


def fmt_share(value: float) -> str:
    """A share as a French percentage with two significant digits when small (``0,024 %``)."""
    if value is None or not np.isfinite(value):
        return "–"
    pct = 100.0 * float(value)
    if pct == 0 or pct >= 10:
        return f"{pct:.0f}{NBSP}%"
    decimals = max(0, 1 - int(np.floor(np.log10(abs(pct)))))
    return f"{pct:.{decimals}f}{NBSP}%".replace(".", ",")


def fmt_change(value: float) -> str:
    """A relative change as a signed French percentage (``+12 %``)."""
    if value is None or np.isnan(value):
        return "–"  # no incident in either period
    if not np.isfinite(value):
        return "nouveau"  # none in the reference period
    return f"{value:+.0%}".replace("%", f"{NBSP}%").replace(".", ",")


def fmt_interval(low: float, high: float) -> str:
    """A rate-ratio interval (``[0,85 ; 1,20]``)."""

    def one(v: float) -> str:
        return "∞" if not np.isfinite(v) else f"{v:.2f}".replace(".", ",")

    return f"[{one(low)} ; {one(high)}]"


def fmt_pvalue(p: float) -> str:
    """A p-value, ``< 0,001`` when tiny."""
    if p is None or not np.isfinite(p):
        return "–"
    return "< 0,001" if p < 0.001 else f"{p:.3f}".replace(".", ",")


def fmt_number(x: float, decimals: int = 1) -> str:
    """A number the French way (narrow no-break space thousands, decimal comma); "–" if missing."""
    if isinstance(x, str):  # "secret" from the privacy gate
        return x
    if x is None or not np.isfinite(x):
        return "–"
    return f"{x:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
