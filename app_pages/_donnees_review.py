"""Données page, the label review of a validated file and the mapping profiles."""

from __future__ import annotations

import streamlit as st

from core.access import Viewer
from core.escape import markdown_text as md_escape
from core.formatting import MISSING
from ui.access import access_store
from ui.inputs import CHOOSE
from usecases.donnees import (
    datasets_for_viewer,
    delete_profile,
    mapping_profiles,
    reclassify_for_viewer,
    rename_profile,
    review_for_viewer,
    save_profile,
)
from usecases.label_review import (
    OFFENCE_CHOICES,
    PLACE_CHOICES,
    label_review,
    profile_from_review,
    reviewed_result,
)

_STATUS = {
    "non reconnu": "⚠ non reconnu",
    "hors indicateurs": "hors des 14",
    "indicateur": "reconnu",
    "profil": "profil",
}


def _editor(table, options: list[str], key: str):
    shown = table.assign(statut=table["statut"].map(_STATUS))
    edited = st.data_editor(
        shown,
        hide_index=True,
        placeholder=MISSING,  # a missing cell: not « None »
        disabled=["libellé", "faits", "natinf", "statut", "référence", "confiance"],
        column_config={
            "libellé": st.column_config.TextColumn("Libellé du fichier"),
            "faits": st.column_config.NumberColumn("Faits"),
            "natinf": st.column_config.TextColumn("NATINF", width="small"),
            "statut": st.column_config.TextColumn("Reconnaissance", width="small"),
            "référence": st.column_config.TextColumn(
                "Libellé de référence",
                width="medium",
                help="Le libellé de la nomenclature (état 4001, indicateurs SSMSI) le plus proche.",
            ),
            "confiance": st.column_config.ProgressColumn(
                "Confiance",
                width="small",
                help="Proximité du libellé du fichier avec le libellé de référence (100 % : identique). "
                "Les moins sûrs sont en tête : vérifiez-les.",
                min_value=0.0,
                max_value=1.0,
                format="percent",
            ),
            "classe": st.column_config.SelectboxColumn("Classe", options=options, required=True),
        },
        key=key,
    )
    return edited.assign(statut=table["statut"].to_numpy())


def review_section(viewer: Viewer, result, columns: list[str], mapping: dict, profile, key: str):
    """Every offence and place label with its count and class, editable; the reviewed file."""
    st.subheader("Revue des libellés")
    offences, places = label_review(result, profile)
    unknown = int((offences["statut"] == "non reconnu").sum() + (places["statut"] == "non reconnu").sum())
    if profile is not None:
        st.caption(f"Profil « {md_escape(profile.name)} » appliqué (mêmes colonnes) : ses choix sont repris.")
    st.caption(
        f"{unknown} libellé(s) non reconnu(s), en tête (⚠) : choisissez leur classe. Chaque libellé peut être "
        "reclassé ; le choix vaut pour tous ses faits."
    )
    offences = _editor(offences, OFFENCE_CHOICES, f"rev_off_{key}")
    places = _editor(places, PLACE_CHOICES, f"rev_place_{key}")
    c1, c2 = st.columns([3, 1])
    name = c1.text_input(
        "Enregistrer cette correspondance (colonnes et libellés) comme profil",
        value=profile.name if profile else "",
        placeholder="Export GN Mayenne",
        key=f"profile_name_{key}",
    )
    if c2.button("Enregistrer le profil", key=f"profile_save_{key}", disabled=not name.strip()):
        new = profile_from_review(name.strip(), columns, mapping, offences, places)
        if profile is not None and name.strip() == profile.name:
            new.slug = profile.slug  # the same profile, updated
        saved = save_profile(mapping_profiles(), new, viewer=viewer, journal=access_store())
        st.success(
            f"Profil « {md_escape(saved.name)} » enregistré : il s'appliquera aux fichiers de mêmes colonnes."
        )
    return reviewed_result(result, offences, places)


def profiles_section(viewer: Viewer) -> None:
    """The saved profiles: list, rename, delete (audited)."""
    store = mapping_profiles()
    profiles = {p.slug: p for p in store.list()}
    with st.expander(f"Profils de correspondance ({len(profiles)})"):
        if not profiles:
            st.caption("Aucun profil : enregistrez-en un depuis la revue des libellés d'un fichier.")
            return
        target = st.selectbox(
            "Profil",
            list(profiles),
            format_func=lambda s: profiles[s].name,
            key="profile_target",
            placeholder=CHOOSE,
        )
        p = profiles[target]
        st.caption(f"{len(p.columns)} colonnes : {md_escape(', '.join(p.columns))}.")
        c1, c2, c3 = st.columns([3, 1, 1])
        new_name = c1.text_input("Nouveau nom", value=p.name, key=f"rename_{target}")
        if c2.button("Renommer", key="profile_rename") and new_name.strip():
            rename_profile(store, target, new_name.strip(), viewer=viewer, journal=access_store())
            st.rerun()
        if c3.button("Supprimer", key="profile_delete"):
            delete_profile(store, target, viewer=viewer, journal=access_store())
            st.rerun()


def saved_review_section(viewer: Viewer, store) -> None:
    """Re-classify one of the viewer's saved data sets from the labels it keeps (no file needed)."""
    infos = datasets_for_viewer(store, viewer)
    if not infos:
        return
    names = {i.slug: i.name for i in infos}
    with st.expander("Revoir les libellés d'un jeu enregistré"):
        slug = st.selectbox(
            "Jeu", list(names), format_func=names.get, key="reclass_target", placeholder=CHOOSE
        )
        offences, places = review_for_viewer(store, slug, viewer, access_store())
        if offences.empty and places.empty:
            st.caption("Ce jeu ne garde pas de libellés d'origine (jeu synthétique ou import ancien).")
            return
        offences = _editor(offences, OFFENCE_CHOICES, f"reclass_off_{slug}")
        places = _editor(places, PLACE_CHOICES, f"reclass_place_{slug}")
        if st.button("Reclasser le jeu", key="reclass_go"):
            info, changed = reclassify_for_viewer(
                store, slug, offences, places, viewer=viewer, journal=access_store()
            )
            st.success(
                f"« {md_escape(info.name)} » reclassé : {changed} fait(s) changé(s) de classe (nouvelle version)."
            )
