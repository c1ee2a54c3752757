"""Charts rendered once per content and shared by every session.

Turning an Altair chart into the Vega-Lite specification Streamlit sends is mostly Altair's
JSON-schema validation: about 20 ms per chart, five charts on the Diagnostic, on every run of
every session. A chart of ``rendering.charts`` depends only on its arguments, so
:func:`show_chart` keys the converted specification by their fingerprint
(:func:`ui.shared_cache.fingerprint`: the same rule as the maps, never a name or session
state) and sends it with ``st.vega_lite_chart``. The conversion is Streamlit's own (the one
``st.altair_chart`` uses: its theme handling, the tables sent as Arrow), so the browser
receives what ``st.altair_chart`` would send (``tests/test_charts.py`` checks it), with the
French number and date locale (:data:`rendering.charts.VEGA_LOCALE`) in its configuration.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import altair as alt
import streamlit as st
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from rendering.charts import french_spec
from ui.shared_cache import SharedCache, fingerprint

#: Memory given to converted charts, shared by all sessions.
BUDGET_BYTES = 32 * 2**20


def _spec_nbytes(spec: dict[str, Any]) -> int:
    """The size of a converted specification: its Arrow tables and its JSON, roughly."""
    datasets = spec.get("datasets") or {}
    return (
        sum(len(v) if isinstance(v, bytes) else len(repr(v)) for v in datasets.values())
        + len(repr(spec)) // 2
    )


#: The converted specifications, shared by all sessions.
SPECS: SharedCache[dict[str, Any]] = SharedCache(BUDGET_BYTES, _spec_nbytes)


def spec_from_chart(build: Callable[..., alt.TopLevelMixin], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The Vega-Lite specification of ``build(*args, **kwargs)``, as ``st.altair_chart``
    converts it, from the shared cache when the same content was converted before.

    Returns
    -------
    dict
        A copy: Streamlit takes the tables out of the specification it is given.
    """
    spec = SPECS.get_or_make(
        fingerprint(build, args, kwargs),
        lambda: french_spec(_convert_altair_to_vega_lite_spec(build(*args, **kwargs))),
    )
    return copy.deepcopy(spec)


def show_chart(build: Callable[..., alt.TopLevelMixin], *args: Any, **kwargs: Any) -> None:
    """Draw ``build(*args, **kwargs)`` (a ``rendering.charts`` function), the container's width.

    Parameters
    ----------
    build : callable
        Returns a new Altair chart.
    *args, **kwargs
        Its arguments: every one is part of the cache key.
    """
    st.vega_lite_chart(spec_from_chart(build, *args, **kwargs), width="stretch")
