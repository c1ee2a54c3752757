"""The layers of the product, bottom to top: a module may import only its own layer or a
lower one. This table is the single declaration; ``tests/test_layers.py`` checks every import
of every product module against it (imports inside functions and under ``TYPE_CHECKING``
included).

The README's developer section shows the same order with one line per folder.
"""

from __future__ import annotations

#: Layer name -> rule, bottom first. The key is the top-level package (or module) name.
LAYERS: dict[str, str] = {
    "core": "settings, errors, CRS policy, incident model and filter, vocabulary, French formatting, escaping, the privacy rule",
    "geo": "geography: communes, cantons, EPCI, organisation geography, candidate lattices",
    "readers": "files from outside: incident exports, SSMSI bases, organisation files, sites, roads",
    "data": "dataset store, synthetic generator and its calibration table",
    "analysis": "pure computation on arrays and GeoDataFrames",
    "rendering": "folium maps, charts, PDF/HTML reports, CSV/GeoJSON/GeoPackage exports",
    "usecases": "one Streamlit-free module per page: what the page asks, for whom, ready to draw",
    "ui": "Streamlit glue: sidebar, session state, cached wrappers over the use cases, error guard",
    "app_pages": "one thin page per file: widgets -> one use-case call -> draw",
    "app": "entry point: navigation and theme",
}

#: Third-party packages a layer may not import (Streamlit lives in ``ui`` and above only).
FORBIDDEN_BELOW_UI: tuple[str, ...] = ("streamlit", "streamlit_folium")


def rank_of(package: str) -> int | None:
    """Position of a top-level product package in :data:`LAYERS` (None: not a product package).

    Parameters
    ----------
    package : str
        Top-level name of a module (``"analysis"`` for ``analysis.zones``).

    Returns
    -------
    int or None
        0 for the bottom layer; None for the standard library and third-party packages.
    """
    names = list(LAYERS)
    return names.index(package) if package in LAYERS else None
