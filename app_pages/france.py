"""« France »: every département's published results side by side (the national batch's)."""

from __future__ import annotations

import streamlit as st

from core import access as a
from core.escape import markdown_text
from core.formatting import fmt_count
from rendering.exports import csv_bytes_from_frame
from rendering.maps import BASE_MAPS, france_map
from ui import cache
from ui.access import current_viewer, export_button, sidebar_identity
from ui.guard import guarded
from ui.inputs import CHOOSE
from ui.layer_map import show_layer_map
from ui.state import DEPARTEMENT_QUERY, init_state, persisted
from ui.tables import show_table
from usecases.france import MEASURES, NO_RESULT, no_results_message

FIELDS = {
    "departement": "Département",
    "faits": "Faits (12 mois)",
    "taux": "Pour 1 000 habitants",
    "evolution": "Évolution sur un an",
    "zones": "Zones prioritaires",
}
#: The département pages a link may open: page key -> (file, label).
LINKED_PAGES = {
    a.DIAGNOSTIC: ("app_pages/diagnostic.py", "Diagnostic"),
    a.ZONES: ("app_pages/zones.py", "Zones prioritaires"),
    a.SUIVI: ("app_pages/suivi.py", "Suivi bimestriel"),
}


def _open_departement(viewer: a.Viewer, table) -> None:
    """Links that open a département's own pages, the sidebar set to it."""
    st.subheader("Ouvrir un département")
    names = dict(zip(table["Département"], table["Nom"], strict=True))
    code = st.selectbox(
        "Département",
        list(names),
        format_func=lambda c: f"{c} – {names[c]}",
        key="fr_open",
        label_visibility="collapsed",
        placeholder=CHOOSE,
    )
    cols = st.columns(len(LINKED_PAGES))
    for col, (page, (path, label)) in zip(cols, LINKED_PAGES.items(), strict=True):
        if viewer.may_open(page):
            col.page_link(
                path,
                label=f"{label} — {code}",
                icon=":material/open_in_new:",
                query_params={DEPARTEMENT_QUERY: code},
            )


def body() -> None:
    init_state()
    viewer = current_viewer()
    sidebar_identity(viewer)
    base = st.sidebar.selectbox(
        "Fond de carte",
        list(BASE_MAPS),
        format_func=BASE_MAPS.get,
        help="Les fonds IGN et OSM demandent Internet ; sans réseau, choisissez « Aucun fond ».",
        **persisted("base_map", "plan_ign", lambda v: v in BASE_MAPS),
        placeholder=CHOOSE,
    )
    st.title("France — tous les départements")
    st.caption(
        "Chaque département calculé de la même façon (calcul national sur Dask, réglages par défaut) : "
        "zones prioritaires des douze derniers mois, suivi bimestriel des deux derniers mois. "
        "Vue diffusable uniquement."
    )
    stamp = cache.national_results_stamp()
    if not stamp:
        st.info(no_results_message(viewer))
        return
    st.warning(
        "Jeu national **synthétique** : faits générés et calibrés sur les totaux SSMSI de chaque département ; "
        "géographie réelle.",
        icon="⚠️",
    )
    measure = st.radio(
        "Colorer la carte par", list(MEASURES), format_func=MEASURES.get, horizontal=True, key="fr_measure"
    )
    view = cache.france(stamp, measure, viewer)
    show_layer_map(
        "fr_map",
        france_map,
        view.props,
        view.geometry,
        codes=tuple(cache.france_outlines()["code"]),
        fields=FIELDS,
        legend_title=view.legend_title,
        legend=tuple(view.legend),
        base=base,
        height=620,
        label=view.legend_title,
    )
    for note in view.notes:
        st.caption(markdown_text(note))
    shown = view.table[view.table["Remarque"] != NO_RESULT].reset_index(drop=True)
    st.subheader(f"Départements avec résultats ({fmt_count(len(shown))})")
    st.caption(
        "Cliquez sur un en-tête pour trier ; « Ouvrir » ouvre le diagnostic du département dans un nouvel onglet."
    )
    show_table(
        st,
        # The Diagnostic is these roles' first page: the app's root (relative, so a base path is kept).
        shown.assign(Ouvrir=[f"./?{DEPARTEMENT_QUERY}={c}" for c in shown["Département"]]),
        hide_index=True,
        column_config={
            "Faits (12 mois)": st.column_config.NumberColumn(format="localized"),
            "Pour 1 000 hab.": st.column_config.NumberColumn(format="%.2f"),
            "Évolution sur un an": st.column_config.NumberColumn(format="percent"),
            "Évolution sur la période précédente": st.column_config.NumberColumn(format="percent"),
            "Ouvrir": st.column_config.LinkColumn("Ouvrir", display_text="Diagnostic ↗"),
        },
    )
    export_button(
        st,
        viewer,
        "Tableau France (CSV)",
        lambda: csv_bytes_from_frame(shown),
        "france_departements.csv",
        "text/csv",
    )
    if len(shown):
        _open_departement(viewer, shown)


guarded(body, page=a.FRANCE)
