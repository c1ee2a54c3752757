"""« Ma commune »: the mayor's diagnostic and follow-up of their commune (published view only)."""

from __future__ import annotations

import streamlit as st

from core.access import departement_of_commune
from core.escape import markdown_text
from rendering import charts
from rendering.maps import commune_sheet_map
from ui import cache
from ui.access import access_store, current_viewer, export_button, sidebar_identity
from ui.charts import show_chart
from ui.columns import show_metrics
from ui.guard import guarded
from ui.inputs import CHOOSE
from ui.maps import show_map
from ui.tables import show_table
from usecases.ma_commune import dataset_for_mayor
from usecases.packs import commune_sheet_pdf


def body() -> None:
    viewer = current_viewer()
    sidebar_identity(viewer)
    communes_by_dep = {}
    for code in viewer.communes:
        communes_by_dep.setdefault(departement_of_commune(code), []).append(code)
    if not communes_by_dep:
        st.error(
            "Aucune commune dans votre territoire : demandez à l'administrateur de la préfecture de l'ajouter."
        )
        return
    choices = {}
    for dep, codes in communes_by_dep.items():
        names = cache.communes(dep).set_index("code")["nom"]
        choices.update({c: f"{names.get(c, c)} ({c})" for c in codes})
    code = (
        st.selectbox("Commune", list(choices), format_func=choices.get, key="mc_commune", placeholder=CHOOSE)
        if len(choices) > 1
        else next(iter(choices))
    )
    dep = departement_of_commune(code)
    found = dataset_for_mayor(dep)
    if found is None:
        st.info("Aucune donnée pour votre département pour le moment.")
        return
    selection, info = found
    sheet = cache.commune_sheet(selection, code, viewer)
    st.title(f"Ma commune — {markdown_text(sheet.name)}")
    if info.synthetic:
        st.warning(
            "Données de démonstration : les faits sont synthétiques (la géographie est réelle).", icon="⚠️"
        )
    st.caption(f"Douze derniers mois : {sheet.period}.")
    show_metrics(sheet.metrics)
    left, right = st.columns([2, 3])
    with left:
        show_map("mc_map", commune_sheet_map, sheet.outline, sheet.zones, height=360)
    with right:
        st.subheader("Par infraction")
        show_table(st, sheet.offences, hide_index=True)
    st.subheader("Évolution mensuelle")
    show_chart(charts.line_from_monthly, sheet.monthly, "faits par mois")
    for note in sheet.notes:
        st.caption(note)
    pack = cache.pack_data(selection)
    export_button(
        st,
        viewer,
        "Fiche de la commune (PDF)",
        lambda: (
            commune_sheet_pdf(
                pack, code, territory=choices[code], dataset=info.name, synthetic=info.synthetic
            ).data
        ),
        f"fiche_{code}.pdf",
        "application/pdf",
        type="primary",
        key="mc_pdf",
    )
    _proposals(viewer, code)


def _proposals(viewer, code: str) -> None:
    """Camera-site proposals published to the commune (read-only, the sheet to download)."""
    store = access_store()
    found = store.proposals(code)
    st.subheader("Propositions de vidéoprotection")
    if found.empty:
        st.caption("Aucune proposition publiée à votre commune pour le moment.")
        return
    for row in found.itertuples():
        a, b = st.columns([4, 1])
        a.write(markdown_text(f"{row.titre} — publiée le {row.publie_le[:10]} par {row.auteur}"))
        export_button(
            b,
            viewer,
            "Fiche (PDF)",
            lambda pid=row.id: store.proposal_sheet(pid, code),
            f"proposition_{row.id}.pdf",
            "application/pdf",
            key=f"mc_prop_{row.id}",
        )


guarded(body, page="ma_commune")
