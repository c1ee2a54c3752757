"""Données page, the sections that write to the stores: save or append a validated file,
the saved data sets (history, deletion), the official statistics. Drawn by
:mod:`app_pages.donnees`."""

from __future__ import annotations

import pathlib

import streamlit as st

from core.access import Viewer
from core.escape import markdown_text as md_escape
from core.formatting import fmt_count
from data.append import DROP
from data.store import statistics_store
from readers.incidents import ImportResult
from readers.ssmsi import official_statistics_from_bytes
from rendering.exports import csv_bytes_from_frame
from ui.access import audited
from ui.cache import store_for
from ui.sidebar import Context
from ui.uploads import file_uploader
from usecases.donnees import (
    DATASET_COLUMNS,
    DUPLICATE_POLICIES,
    DUPLICATES_QUESTION,
    SAVE_MODES,
    STATISTICS_COLUMNS,
    append_to_dataset,
    history_table,
    table_from_infos,
)


def save_section(ctx: Context, filename: str, result: ImportResult, key: str) -> None:
    """Save as a new data set, or append to one of the département's (month after month)."""
    workspace = store_for("espace")
    targets = {i.slug: i.name for i in workspace.list() if i.departement == ctx.departement}
    mode = st.radio(
        "Enregistrer", list(SAVE_MODES), format_func=SAVE_MODES.get, horizontal=True, key=f"mode_{key}"
    )
    if mode == "nouveau" or not targets:
        if mode != "nouveau":
            st.info("Aucun jeu importé pour ce département : enregistrez d'abord un nouveau jeu.")
            return
        name = st.text_input("Nom du jeu de données", value=pathlib.Path(filename).stem, key=f"name_{key}")
        if st.button("Enregistrer le jeu de données"):
            with audited(ctx.viewer, "import", filename, {"nom": name, "faits": len(result.incidents), "rejets": result.n_rejected}):
                info = workspace.save(
                    result.incidents,
                    name=name or filename,
                    source_file=filename,
                    rejections=result.rejections,
                    departement=ctx.departement,
                    description=f"Import de {filename}",
                )
            st.session_state.pop("import_result", None)  # saved: the validated file is released
            st.success(
                f"Jeu « {md_escape(info.name)} » enregistré ({fmt_count(info.n_rows)} faits). Choisissez-le dans la barre latérale."
            )
        return
    slug = st.selectbox("Jeu à compléter", list(targets), format_func=targets.get, key=f"into_{key}")
    policy = DROP
    if not result.mapping.get("identifiant"):
        policy = st.radio(
            DUPLICATES_QUESTION,
            list(DUPLICATE_POLICIES),
            format_func=DUPLICATE_POLICIES.get,
            key=f"dup_{key}",
        )
    if st.button("Ajouter au jeu de données"):
        with audited(ctx.viewer, "ajout", slug, {"fichier": filename, "faits": len(result.incidents), "doublons": policy}):
            info, res = append_to_dataset(workspace, slug, result, source_file=filename, duplicates=policy)
        st.session_state.pop("import_result", None)  # saved: the validated file is released
        st.success(
            f"Ajout à « {md_escape(info.name)} » : {res.summary(result.n_rejected)} ({fmt_count(info.n_rows)} faits en tout)."
        )
        if len(res.updates):
            st.write("**Faits mis à jour** (la ligne du nouveau fichier l'emporte) :")
            st.dataframe(res.updates, hide_index=True)
        if len(res.duplicates):
            st.download_button(
                "Liste des doublons (CSV)",
                csv_bytes_from_frame(res.duplicates),
                "doublons.csv",
                "text/csv",
                on_click="ignore",
            )


def confirmed_deletion(viewer: Viewer, label: str, names: dict[str, str], delete, *, key: str, what: str) -> None:
    """Choose a saved item, tick the confirmation, delete it (audited: intent first), rerun."""
    c1, c2 = st.columns([3, 1])
    target = c1.selectbox(label, list(names), format_func=names.get, key=f"{key}_target")
    sure = c2.checkbox("Je confirme la suppression", key=f"{key}_sure")
    if st.button("Supprimer", key=f"{key}_button", disabled=not sure):
        with audited(viewer, "suppression", target, {what: names[target]}):
            delete(target)
        st.rerun()


def saved_section(viewer: Viewer, *, writable: bool) -> None:
    st.subheader("Jeux de données enregistrés")
    infos = store_for("espace").list()
    if not infos:
        st.caption("Aucun jeu importé pour l'instant.")
        return
    table = table_from_infos(infos, DATASET_COLUMNS)
    st.dataframe(table, hide_index=True)
    slugs = {i.slug: i.name for i in infos}
    with st.expander("Historique des imports d'un jeu"):
        shown = st.selectbox("Jeu", list(slugs), format_func=slugs.get, key="history_target")
        st.dataframe(history_table(next(i for i in infos if i.slug == shown)), hide_index=True)
    if not writable:
        return
    confirmed_deletion(viewer, "Supprimer un jeu", slugs, store_for("espace").delete, key="delete", what="nom")


def statistics_section(ctx: Context, *, writable: bool) -> None:
    st.subheader("Statistiques officielles (SSMSI)")
    st.caption(
        "Bases communale ou départementale de la délinquance enregistrée (data.gouv.fr), format "
        "actuel ou ancien, CSV ou CSV.gz. Les valeurs non diffusées restent « non diffusé »."
    )
    up = file_uploader("Base SSMSI", type=["csv", "gz"], key="upload_ssmsi") if writable else None
    if up is not None:
        stats = official_statistics_from_bytes(up.getvalue(), up.name)
        for note in stats.notes:
            st.caption(md_escape(note))
        st.dataframe(stats.table.head(20), hide_index=True)
        name = st.text_input(
            "Nom", value=pathlib.Path(up.name).stem.removesuffix(".csv"), key=f"ssmsi_name_{up.file_id}"
        )
        st.caption("Les statistiques enregistrées changent ce que voient tous les utilisateurs (taux par logement, page SSMSI).")
        sure = st.checkbox("Je confirme l'enregistrement", key="save_ssmsi_sure")
        if st.button("Enregistrer les statistiques", key="save_ssmsi", disabled=not sure):
            with audited(ctx.viewer, "import", up.name, {"statistiques": stats.kind, "lignes": len(stats.table)}):
                info = statistics_store().save(
                    stats.table,
                    name=name or up.name,
                    source_file=up.name,
                    description=stats.kind,
                    departement="",
                )
            st.success(f"Statistiques « {md_escape(info.name)} » enregistrées ({info.n_rows} lignes).")
    saved = statistics_store().list()
    if saved:
        st.dataframe(table_from_infos(saved, STATISTICS_COLUMNS), hide_index=True)
        slugs = {i.slug: i.name for i in saved}
        if not writable:
            return
        confirmed_deletion(ctx.viewer, "Supprimer des statistiques", slugs, statistics_store().delete, key="delete_stats", what="statistiques")
