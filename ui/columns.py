"""French headers for the tables the pages show.

The data keep their column names (the CSV and GeoJSON exports and the tests use them); only
the header a user reads changes, through ``st.dataframe(..., column_config=...)``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

#: Column name -> header shown on screen.
COLUMN_LABELS: dict[str, str] = {
    "rang": "Rang",
    "code": "Code INSEE",
    "nom": "Commune",
    "commune": "Commune",
    "communes": "Communes",
    "population": "Population",
    "faits": "Faits",
    "taux_pour_mille": "Faits pour 1 000 hab.",
    "faits_pour_mille": "Faits pour 1 000 hab.",
    "superficie_km2": "Superficie (km²)",
    "unite_id": "Identifiant de l'unité",
    "unite": "Unité",
    "force": "Force",
    "forces": "Forces",
    "commune_la_plus_eloignee": "Commune la plus éloignée",
    "distance_max_km": "Distance maximale (km)",
    "distance_km": "Distance à l'unité (km)",
    "temps_min": "Temps estimé (min)",
    "code_epci": "Code EPCI",
    "epci": "EPCI",
    "code_canton": "Code canton",
    "canton": "Canton",
    "statut": "Statut",
}


def column_config_from_frame(frame: pd.DataFrame, **overrides: object) -> dict[str, object]:
    """``column_config`` giving every known column of ``frame`` its French header.

    Parameters
    ----------
    frame : DataFrame
        The table about to be shown.
    **overrides
        Column configurations that replace the default header (formats, help texts).

    Returns
    -------
    dict
        Column name -> ``st.column_config`` entry.
    """
    config: dict[str, object] = {
        c: st.column_config.Column(COLUMN_LABELS[c]) for c in frame.columns if c in COLUMN_LABELS
    }
    config.update(overrides)
    return config
