"""Administration (administrators only): people, roles, territories, and the audit log."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access import ASSIGNABLE_ROLES, ROLE_LABELS
from core.escape import markdown_text
from core.formatting import fmt_count
from rendering.exports import csv_bytes_from_frame
from ui.access import access_store, current_viewer, export_button, sidebar_identity
from ui.guard import guarded
from ui.inputs import CHOOSE
from ui.tables import show_table


def _people(viewer) -> None:
    store = access_store()
    st.subheader("Ajouter une personne ou changer son rôle")
    with st.form("adm_person", clear_on_submit=True):
        c1, c2 = st.columns(2)
        email = c1.text_input(
            "Adresse électronique (vérifiée par le fournisseur d'identité)", key="adm_email"
        )
        name = c2.text_input("Nom (facultatif)", key="adm_name")
        c3, c4 = st.columns(2)
        role = c3.selectbox(
            "Rôle", list(ASSIGNABLE_ROLES), format_func=ROLE_LABELS.get, key="adm_role", placeholder=CHOOSE
        )
        territory = c4.text_input(
            "Territoire",
            key="adm_territory",
            help="Codes de département (53, 72) ; pour un maire, codes de commune (53130).",
        )
        if st.form_submit_button("Enregistrer", type="primary"):
            person = store.save_person(by=viewer, role=role, territory=territory, email=email, name=name)
            st.success(
                markdown_text(
                    f"{person.email} : {ROLE_LABELS[person.role]}, territoire {', '.join(person.territory) or 'tous'}."
                )
            )
    people = store.people()
    st.subheader(f"Personnes ayant accès ({len(people)})")
    show_table(
        st,
        [
            {
                "adresse": p.email or f"{p.issuer} | {p.subject}",
                "nom": p.name,
                "rôle": ROLE_LABELS.get(p.role, p.role),
                "territoire": ", ".join(p.territory) or "tous",
                "ajouté par": p.added_by,
                "ajouté le": pd.to_datetime(p.added_at, errors="coerce") if p.added_at else None,
            }
            for p in people
        ],
        hide_index=True,
    )
    others = {
        p.id: p.email or f"{p.issuer}|{p.subject}" for p in people if (p.email or "") != viewer.identity
    }
    if others:
        c1, c2 = st.columns([3, 1])
        target = c1.selectbox(
            "Retirer l'accès de", list(others), format_func=others.get, key="adm_remove", placeholder=CHOOSE
        )
        sure = c2.checkbox("Je confirme", key="adm_remove_sure")
        if st.button("Retirer l'accès", key="adm_remove_go", disabled=not sure):
            store.remove_person(target, by=viewer)
            st.rerun()


def _journal(viewer) -> None:
    store = access_store()
    st.subheader("Journal d'audit")
    st.caption(
        "Connexions, déconnexions, imports, ajouts, suppressions, reclassements, profils, exports, rapports, "
        "propositions publiées, changements de rôle, et chaque refus. Lignes ajoutées seulement, chacune chaînée "
        "à la précédente (HMAC) : une ligne modifiée ou supprimée se voit."
    )
    line, head = store.journal_head()
    st.markdown(
        f"**Tête de la chaîne** : ligne {fmt_count(line)}, `{head}`. Notez-la (ou gardez l'export) : "
        "`python -m scripts.audit verify --tete <tête>` dira plus tard si une ligne a été modifiée ou supprimée, "
        "ou si la fin du journal a été coupée."
    )
    log = store.journal(limit=1000)
    # The journal's times are the server's local time (naive ISO): shown « 01/12/2026 09:00 ».
    shown = log.drop(columns="chaine").assign(quand=pd.to_datetime(log["quand"], errors="coerce"))
    show_table(st, shown, height=420)
    export_button(
        st,
        viewer,
        "Journal complet (CSV)",
        lambda: csv_bytes_from_frame(store.journal()),
        "journal_audit.csv",
        "text/csv",
        key="adm_csv",
    )


def body() -> None:
    viewer = current_viewer()
    sidebar_identity(viewer)
    st.title("Administration")
    _people(viewer)
    _journal(viewer)


guarded(body, page="administration")
