"""Données: import an incident file (mapping, preview, validation report), save, manage."""

from __future__ import annotations

import streamlit as st

from app_pages._donnees_review import profiles_section, review_section, saved_review_section
from app_pages._donnees_store import (
    SAVED_MESSAGE,
    roads_section,
    save_section,
    saved_section,
    statistics_section,
)
from core.access import IMPORT
from core.escape import markdown_text as md_escape
from core.formatting import fmt_count
from rendering.exports import csv_bytes_from_frame
from ui.access import export_button
from ui.guard import guarded
from ui.inputs import CHOOSE
from ui.sidebar import Context, current_context
from ui.tables import show_table
from ui.uploads import file_uploader
from usecases.donnees import (
    COORDINATE_MODES,
    FIELD_LABELS,
    NOMENCLATURE_NOTE,
    etat_4001_table,
    guessed_mapping,
    imported_store,
    preview_of_upload,
    template_csv,
    validated_upload,
)

COORD_LABELS = {
    "auto": "Détection automatique",
    "wgs84": "WGS84 (degrés)",
    "lambert93": "Lambert-93 / métrique du territoire",
}
NONE = "— aucune —"
INTERNAL_ONLY = (
    "Lignes du fichier masquées en vue diffusable (elles contiennent les points des faits) : "
    "désactivez « Vue diffusable » dans la barre latérale pour les voir, ou téléchargez le rapport."
)


def _import_section(ctx: Context) -> None:
    st.subheader("Importer un fichier de faits")
    st.caption(
        "CSV (séparateur « ; » ou « , », UTF-8 ou Windows-1252), classeur (XLSX, XLS, ODS : la feuille "
        "des faits et sa ligne d'en-tête sont trouvées sous le titre), GeoJSON, GeoPackage ou Parquet. "
        "Une ligne par fait : date (et heure), infraction, lieu, localisation (latitude/longitude, "
        "x/y Lambert-93 ou code commune)…"
    )
    st.download_button(
        "Modèle de fichier (CSV)",
        data=lambda: template_csv(ctx.communes),  # built on click, not on every rerun
        file_name="modele_faits.csv",
        mime="text/csv",
        on_click="ignore",
        help="Trois faits d'exemple dans le format attendu : un fait horodaté avec profil de l'auteur, "
        "un cambriolage connu « entre … et … » localisé par sa seule commune, une dégradation.",
    )
    with st.expander("Nomenclatures reconnues : libellés, état 4001, NATINF"):
        st.markdown(NOMENCLATURE_NOTE)
        show_table(st, etat_4001_table(), hide_index=True)
    up = file_uploader(
        "Fichier",
        type=["csv", "txt", "tsv", "xlsx", "xlsm", "xls", "ods", "geojson", "json", "gpkg", "parquet"],
        key="upload",
    )
    if up is None:
        return
    file_key = f"{up.name}-{up.size}-{up.file_id}"
    chosen = st.session_state.get(f"sheet_{file_key}")  # a workbook's sheet the user chose
    current = st.session_state.get("raw")
    if st.session_state.get("raw_key") != file_key or (
        chosen and current is not None and chosen != current.sheet
    ):
        # Only what the preview needs stays in the session; the file is read again to validate.
        st.session_state["raw"] = preview_of_upload(up.getvalue(), up.name, sheet=chosen)
        st.session_state["raw_key"] = file_key
        st.session_state.pop("import_result", None)
    raw = st.session_state["raw"]
    key = f"{file_key}-{raw.sheet}" if raw.sheet else file_key
    if len(raw.sheets) > 1:
        st.selectbox(
            "Feuille du classeur",
            raw.sheets,
            index=raw.sheets.index(raw.sheet) if raw.sheet in raw.sheets else 0,
            key=f"sheet_{file_key}",
            help="La feuille qui ressemble le plus à un tableau de faits est choisie d'office ; "
            "choisissez-en une autre si besoin.",
            placeholder=CHOOSE,
        )
    for note in raw.notes:
        st.caption(md_escape(note))
    st.write(f"**{fmt_count(raw.n_rows)} lignes** lues — aperçu :")
    if ctx.public_view:  # raw rows hold incident points: the analyst's internal view only
        st.caption(INTERNAL_ONLY)
    else:
        show_table(st, raw.head, hide_index=True)

    columns = raw.columns
    profile, guess = guessed_mapping(columns)
    options = [NONE, *columns]
    with st.expander("Correspondance des colonnes", expanded=True):
        cols = st.columns(3)
        mapping: dict[str, str | None] = {}
        for i, (fld, label) in enumerate(FIELD_LABELS.items()):
            current = guess.get(fld)
            choice = cols[i % 3].selectbox(
                label,
                options,
                index=options.index(current) if current in options else 0,
                key=f"map_{key}_{fld}",
                placeholder=CHOOSE,
            )
            mapping[fld] = None if choice == NONE else choice
        coords = st.radio(
            "Coordonnées x/y",
            COORDINATE_MODES,
            format_func=COORD_LABELS.get,
            horizontal=True,
            key=f"coords_{key}",
        )
    if st.button("Valider le fichier", type="primary"):
        with st.spinner("Validation…"):
            st.session_state["import_result"] = validated_upload(
                up.getvalue(),
                up.name,
                communes=ctx.communes,
                mapping=mapping,
                coordinates=coords,
                sheet=raw.sheet,
            )
    result = st.session_state.get("import_result")
    if result is None:
        return
    st.subheader("Rapport de validation")
    c1, c2, c3 = st.columns(3)
    c1.metric("Lignes du fichier", fmt_count(result.n_input))
    c2.metric("Faits acceptés", fmt_count(result.n_accepted))
    c3.metric("Lignes rejetées", fmt_count(result.n_rejected))
    for w in result.warnings:
        st.warning(md_escape(w))
    for note in result.notes[1:]:
        st.caption(md_escape(note))
    if len(result.rejections):
        st.write("**Lignes rejetées** (une ligne par motif) :")
        if ctx.public_view:
            st.caption(INTERNAL_ONLY)
        else:
            show_table(st, result.rejections, hide_index=True)
        export_button(
            st,
            ctx.viewer,
            "Télécharger les rejets (CSV)",
            lambda: csv_bytes_from_frame(result.rejections),
            "rejets.csv",
            "text/csv",
        )
    if len(result.corrections):
        st.write("**Corrections appliquées** :")
        show_table(st, result.corrections, hide_index=True)
    if result.n_accepted == 0:
        st.error("Aucun fait accepté : corrigez le fichier ou la correspondance des colonnes.")
        return
    result = review_section(ctx.viewer, result, columns, mapping, profile, key)
    save_section(ctx, up.name, result, key)


def body() -> None:
    st.title("Données")
    ctx = current_context()
    saved = st.session_state.pop(SAVED_MESSAGE, None)
    if saved:
        st.success(saved)
    if ctx.dataset is not None:
        kind = "synthétique" if ctx.dataset.synthetic else "importé"
        st.info(
            f"Jeu courant : **{md_escape(ctx.dataset.name)}** ({kind}, {fmt_count(ctx.dataset.n_rows)} faits). "
            f"{md_escape(ctx.dataset.description)}"
        )
    writable = ctx.viewer.can(IMPORT)
    if writable:
        _import_section(ctx)
    else:
        st.info("Lecture seule : l'import, l'ajout et la suppression de données sont réservés aux analystes.")
    st.divider()
    saved_section(ctx.viewer, writable=writable)
    if writable:
        saved_review_section(ctx.viewer, imported_store())
        profiles_section(ctx.viewer)
    st.divider()
    statistics_section(ctx, writable=writable)
    st.divider()
    roads_section(ctx, writable=writable)


guarded(body, page="donnees")
