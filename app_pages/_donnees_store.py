"""Données page, the sections that write to the stores: save or append a validated file,
the saved data sets (history, deletion), the official statistics, the road network. Drawn by
:mod:`app_pages.donnees`. Every read and action goes through :mod:`usecases.donnees` with the
viewer: the use case keeps to their territory and audits."""

from __future__ import annotations

import pathlib

import streamlit as st

from core.access import Viewer
from core.escape import markdown_text as md_escape
from core.formatting import fmt_count
from rendering.exports import csv_bytes_from_frame
from ui import cache
from ui.access import access_store, export_button
from ui.inputs import CHOOSE
from ui.sidebar import Context
from ui.tables import show_table
from ui.uploads import file_uploader
from usecases.donnees import (
    DATASET_COLUMNS,
    DUPLICATE_POLICIES,
    DUPLICATES_QUESTION,
    SAVE_MODES,
    append_for_viewer,
    datasets_for_viewer,
    delete_dataset,
    delete_statistics,
    history_for_viewer,
    imported_store,
    official_store,
    save_new_dataset,
    save_statistics,
    statistics_of_upload,
    statistics_table_for_viewer,
    table_from_infos,
)
from usecases.donnees import DROP as DROP_DUPLICATES
from usecases.roads import import_road_network_from_bytes

#: A message kept across the rerun that follows a save (shown at the top of the page).
SAVED_MESSAGE = "donnees_saved_message"


def save_section(ctx: Context, filename: str, result, key: str) -> None:
    """Save as a new data set, or append to one of the département's (month after month)."""
    workspace = imported_store()
    targets = {
        i.slug: i.name for i in datasets_for_viewer(workspace, ctx.viewer) if i.departement == ctx.departement
    }
    mode = st.radio(
        "Enregistrer", list(SAVE_MODES), format_func=SAVE_MODES.get, horizontal=True, key=f"mode_{key}"
    )
    if mode == "nouveau" or not targets:
        if mode != "nouveau":
            st.info("Aucun jeu importé pour ce département : enregistrez d'abord un nouveau jeu.")
            return
        name = st.text_input("Nom du jeu de données", value=pathlib.Path(filename).stem, key=f"name_{key}")
        if st.button("Enregistrer le jeu de données"):
            info = save_new_dataset(
                workspace,
                result,
                name=name,
                filename=filename,
                departement=ctx.departement,
                viewer=ctx.viewer,
                journal=access_store(),
            )
            st.session_state.pop("import_result", None)  # saved: the validated file is released
            # The sidebar was drawn before the save: the new data set is chosen there and the
            # page drawn again, the message shown at its top.
            st.session_state[f"keep_dataset_{ctx.departement}"] = f"espace:{info.slug}"
            st.session_state[SAVED_MESSAGE] = (
                f"Jeu « {md_escape(info.name)} » enregistré ({fmt_count(info.n_rows)} faits) et choisi dans la "
                "barre latérale : toutes les pages l'analysent désormais."
            )
            st.rerun()
        return
    slug = st.selectbox(
        "Jeu à compléter", list(targets), format_func=targets.get, key=f"into_{key}", placeholder=CHOOSE
    )
    policy = DROP_DUPLICATES
    if not result.mapping.get("identifiant"):
        policy = st.radio(
            DUPLICATES_QUESTION,
            list(DUPLICATE_POLICIES),
            format_func=DUPLICATE_POLICIES.get,
            key=f"dup_{key}",
        )
    if st.button("Ajouter au jeu de données"):
        info, res = append_for_viewer(
            workspace,
            slug,
            result,
            filename=filename,
            duplicates=policy,
            viewer=ctx.viewer,
            journal=access_store(),
        )
        st.session_state.pop("import_result", None)  # saved: the validated file is released
        st.success(
            f"Ajout à « {md_escape(info.name)} » : {res.summary(result.n_rejected)} ({fmt_count(info.n_rows)} faits en tout)."
        )
        if len(res.updates):
            st.write("**Faits mis à jour** (la ligne du nouveau fichier l'emporte) :")
            show_table(st, res.updates, hide_index=True)
        if len(res.duplicates):
            export_button(
                st,
                ctx.viewer,
                "Liste des doublons (CSV)",
                csv_bytes_from_frame(res.duplicates),
                "doublons.csv",
                "text/csv",
            )


def confirmed_deletion(label: str, names: dict[str, str], delete, *, key: str) -> None:
    """Choose a saved item, tick the confirmation, delete it (the use case audits), rerun."""
    c1, c2 = st.columns([3, 1])
    target = c1.selectbox(label, list(names), format_func=names.get, key=f"{key}_target", placeholder=CHOOSE)
    sure = c2.checkbox("Je confirme la suppression", key=f"{key}_sure")
    if st.button("Supprimer", key=f"{key}_button", disabled=not sure):
        delete(target)
        st.rerun()


def saved_section(viewer: Viewer, *, writable: bool) -> None:
    st.subheader("Jeux de données enregistrés")
    store = imported_store()
    infos = datasets_for_viewer(store, viewer)
    if not infos:
        st.caption("Aucun jeu importé pour votre territoire pour l'instant.")
        return
    show_table(st, table_from_infos(infos, DATASET_COLUMNS), hide_index=True)
    slugs = {i.slug: i.name for i in infos}
    with st.expander("Historique des imports d'un jeu"):
        shown = st.selectbox(
            "Jeu", list(slugs), format_func=slugs.get, key="history_target", placeholder=CHOOSE
        )
        show_table(st, history_for_viewer(store, shown, viewer, access_store()), hide_index=True)
    if not writable:
        return
    confirmed_deletion(
        "Supprimer un jeu",
        slugs,
        lambda slug: delete_dataset(store, slug, viewer=viewer, journal=access_store()),
        key="delete",
    )


def statistics_section(ctx: Context, *, writable: bool) -> None:
    st.subheader("Statistiques officielles (SSMSI)")
    st.caption(
        "Bases communale ou départementale de la délinquance enregistrée (data.gouv.fr), format "
        "actuel ou ancien, CSV ou CSV.gz. Les valeurs non diffusées restent « non diffusé »."
    )
    store = official_store()
    up = file_uploader("Base SSMSI", type=["csv", "gz"], key="upload_ssmsi") if writable else None
    if up is not None:
        stats = statistics_of_upload(up.getvalue(), up.name)
        for note in stats.notes:
            st.caption(md_escape(note))
        show_table(st, stats.table.head(20), hide_index=True)
        name = st.text_input(
            "Nom", value=pathlib.Path(up.name).stem.removesuffix(".csv"), key=f"ssmsi_name_{up.file_id}"
        )
        st.caption(
            "Les statistiques enregistrées changent ce que voient tous les utilisateurs (taux par logement, page SSMSI) : "
            "un fichier qui couvre des départements hors de votre territoire est refusé."
        )
        sure = st.checkbox("Je confirme l'enregistrement", key="save_ssmsi_sure")
        if st.button("Enregistrer les statistiques", key="save_ssmsi", disabled=not sure):
            info = save_statistics(
                store,
                stats.table,
                name=name,
                filename=up.name,
                kind=stats.kind,
                viewer=ctx.viewer,
                journal=access_store(),
            )
            st.success(
                f"Statistiques « {md_escape(info.name)} » enregistrées ({fmt_count(info.n_rows)} lignes)."
            )
    saved = statistics_table_for_viewer(store, ctx.viewer)
    if len(saved):
        show_table(st, saved.drop(columns="slug"), hide_index=True)
        if not writable:
            return
        slugs = dict(zip(saved["slug"], saved["nom"], strict=True))
        confirmed_deletion(
            "Supprimer des statistiques",
            slugs,
            lambda slug: delete_statistics(store, slug, viewer=ctx.viewer, journal=access_store()),
            key="delete_stats",
        )


def roads_section(ctx: Context, *, writable: bool) -> None:
    """The département's road network: what it is, and its import (roles that may import)."""
    st.subheader("Réseau routier du département")
    sentence = cache.road_network_sentence(ctx.departement)
    st.caption(
        md_escape(sentence)
        if sentence
        else "Aucun réseau routier : les temps d'intervention restent à vol d'oiseau et les sites candidats en maillage."
    )
    st.caption(
        "Extrait régional OpenStreetMap (.osm.pbf, Geofabrik) ou BD TOPO du département (GeoPackage, couche "
        "« troncon_de_route ») ; découpé au département, il remplace le réseau enregistré. Au-delà de la limite "
        "d'envoi (200 Mo), importez-le sur le serveur : make roads DEP=… FILE=…."
    )
    if not writable:
        return
    up = file_uploader("Réseau routier (.osm.pbf, .gpkg)", type=["pbf", "gpkg"], key="upload_roads")
    if up is None:
        return
    sure = st.checkbox(
        f"Je confirme le remplacement du réseau routier du département {ctx.departement}",
        key="save_roads_sure",
    )
    if st.button("Importer le réseau routier", key="save_roads", disabled=not sure):
        with st.spinner("Lecture et découpage du réseau routier…"):
            summary = import_road_network_from_bytes(
                up.getvalue(), up.name, ctx.departement, viewer=ctx.viewer, journal=access_store()
            )
        st.success(md_escape(summary.sentence()))
        for reason, count in summary.left_out.items():
            st.caption(md_escape(f"Écarté : {fmt_count(count)} — {reason}."))
