"""French headers for the tables the pages show.

The data keep their column names (the CSV and GeoJSON exports and the tests use them); only
the header a user reads changes, through ``column_config`` (:func:`ui.tables.show_table` adds them to every table).
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
    "logements": "Logements",
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
    "distance_km": "Distance à vol d'oiseau (km)",
    "temps_min": "Temps estimé (min)",
    "estimation": "Temps estimé par",
    "adresse": "Emplacement",
    "rue": "Rue",
    "entre": "Tronçon",
    "longueur_m": "Longueur (m)",
    "par_km": "Faits par km",
    "code_epci": "Code EPCI",
    "epci": "EPCI",
    "code_canton": "Code canton",
    "canton": "Canton",
    "statut": "Statut",
    "ic_95": "Intervalle à 95 %",
    "fiabilite": "Fiabilité",
    "taux_lisse": "Taux lissé (‰)",
    "zone": "Zone",
    "avant": "Avant",
    "apres": "Après",
    "evolution": "Évolution",
    "p_valeur": "Probabilité d'un tel écart par hasard (p)",
    "infraction": "Infraction",
    "lieux": "Lieux touchés",
    "lieux_top_1": "1 % des lieux",
    "lieux_top_5": "5 % des lieux",
    "lieux_top_10": "10 % des lieux",
    "gini_lieux": "Gini (lieux)",
    "mailles": "Mailles touchées (100 m)",
    "mailles_pour_50": "Part des mailles touchées pour la moitié des faits",
    "mailles_pour_25": "Part des mailles touchées pour le quart des faits",
    "gini_mailles": "Gini (mailles touchées)",
    "lieux_repetes": "Lieux touchés 2 fois ou plus",
    "part_lieux_repetes": "Part des faits sur ces lieux",
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


#: The narrowest a metric is drawn (pixels); a row of them wraps on a narrow screen
#: (1024 x 768) instead of cutting their labels and values.
METRIC_WIDTH = 200


def metric_width(label: str, value: str, delta: str | None = None) -> int:
    """Pixels that show a metric whole: its label (about 8 px a character at the theme's
    label size, its help icon), its value (about 21 px a character) and its delta."""
    return int(max(METRIC_WIDTH, 8 * len(label) + 32, 21 * len(str(value)) + 8, 8 * len(delta or "") + 32))


def show_metrics(metrics: list) -> None:
    """Draw use-case metrics (:class:`usecases.common.Metric`) side by side, on as many rows
    as the width needs."""
    if not metrics:
        return
    row = st.container(horizontal=True, wrap=True, gap="medium")
    for m in metrics:
        kwargs = {"delta_color": "off", "delta_arrow": "off"} if m.delta is not None else {}
        width = metric_width(m.label, m.value, None if m.delta is None else str(m.delta))
        row.metric(m.label, m.value, m.delta, help=m.help, width=width, **kwargs)


def site_columns(table: pd.DataFrame) -> dict[str, object]:
    """French headers and formats of the camera-site table."""
    return column_config_from_frame(
        table,
        faits=st.column_config.Column(
            "Faits ajoutés",
            help="Faits que le site couvre en plus des sites mieux classés (lignes « existante » : "
            "faits couverts par l'ensemble des caméras existantes).",
        ),
        gain_pondere=st.column_config.Column(
            "Faits ajoutés, pondérés par la gravité",
            help="Ce que le site couvre en plus des sites mieux classés, chaque fait compté avec le poids "
            "de son infraction (tableau des poids ci-dessus).",
        ),
        couverture_cumulee=st.column_config.Column(
            "Couverture cumulée", help="Part de la demande pondérée couverte jusqu'à ce rang."
        ),
        longitude=st.column_config.NumberColumn("Longitude (WGS84)", format="%.6f"),
        latitude=st.column_config.NumberColumn("Latitude (WGS84)", format="%.6f"),
        x_lambert93=st.column_config.NumberColumn("X Lambert-93 (m)", format="%.1f"),
        y_lambert93=st.column_config.NumberColumn("Y Lambert-93 (m)", format="%.1f"),
    )
