"""Sections of the Zones page: near-repeat risk and concentration on places."""

from __future__ import annotations

import altair as alt
import streamlit as st

from analysis.near_repeat import DEFAULT_DAYS, DEFAULT_DISTANCES
from core import model as m
from ui import cache
from ui.columns import column_config_from_frame, show_metrics
from ui.sidebar import Context
from usecases import repeats as uc


def near_repeat_section(ctx: Context) -> None:
    """Knox heat table of one offence, with the sentence a référent can repeat."""
    present = [o for o in uc.NEAR_REPEAT_OFFENCES if (ctx.incidents[m.OFFENCE] == o).any()]
    if not present:
        st.info("Ni cambriolage ni vol lié aux véhicules dans ce jeu de données : le test ne s'applique pas.")
        return
    c1, c2, c3 = st.columns([3, 2, 2])
    offence = c1.selectbox("Infraction", present, key="nr_offence")
    metric = c2.selectbox("Distance", list(uc.METRICS), format_func=uc.METRICS.get, key="nr_metric")
    permutations = int(c3.number_input("Permutations", 99, 9999, 999, 100, key="nr_perms"))
    d1, d2 = st.columns(2)
    distances = uc.bands_from_text(d1.text_input("Bornes des distances (m)", " ".join(f"{d:.0f}" for d in DEFAULT_DISTANCES), key="nr_distances"), float)
    days = uc.bands_from_text(d2.text_input("Bornes des durées (jours)", " ".join(str(d) for d in DEFAULT_DAYS), key="nr_days"), int)
    v = cache.near_repeat(*ctx.key(), ctx.departement, ctx.flt, offence, distances, days, permutations, metric, ctx.audience)
    show_metrics(v.metrics)
    st.info(v.sentence)
    base = alt.Chart(v.heat).encode(
        x=alt.X("duree:N", sort=v.duration_order, title="écart entre les deux faits"),
        y=alt.Y("distance:N", sort=v.distance_order, title="distance entre les deux faits"),
    )
    heat = base.mark_rect().encode(
        color=alt.Color("rapport:Q", title="observé / attendu", scale=alt.Scale(scheme="orangered", domainMin=0)),
        tooltip=[
            alt.Tooltip("distance:N", title="distance"),
            alt.Tooltip("duree:N", title="écart"),
            alt.Tooltip("observees:N", title="paires observées"),
            alt.Tooltip("attendues:N", title="paires attendues"),
            alt.Tooltip("rapport:Q", title="rapport", format=".2f"),
            alt.Tooltip("p_valeur:Q", title="p", format=".3f"),
        ],
    )
    text = base.mark_text(fontSize=11).encode(text="texte:N")
    st.altair_chart(alt.layer(heat, text), width="stretch")
    for note in v.notes:
        st.caption(note)
    with st.expander("Méthode et limites"):
        st.markdown(uc.NEAR_REPEAT_NOTE)


def concentration_section(ctx: Context) -> None:
    """Top shares, Gini and concentration curves; the repeat places in the internal view."""
    v = cache.concentration(*ctx.key(), ctx.departement, ctx.flt, ctx.audience)
    st.dataframe(v.table, hide_index=True, column_config=column_config_from_frame(v.table))
    if len(v.curves):
        shown = st.multiselect(
            "Courbes", sorted(v.curves["infraction"].unique()), default=["Ensemble"], key="cc_curves"
        )
        data = v.curves[v.curves["infraction"].isin(shown)]
        diagonal = alt.Chart(data.drop_duplicates("part_lieux")).mark_line(color="#999", strokeDash=[4, 4]).encode(
            x="part_lieux:Q", y="part_lieux:Q"
        )
        curve = alt.Chart(data).mark_line().encode(
            x=alt.X("part_lieux:Q", title="part des lieux (les plus touchés d'abord)", axis=alt.Axis(format="%")),
            y=alt.Y("part_faits:Q", title="part des faits", axis=alt.Axis(format="%")),
            color=alt.Color("infraction:N", title=None),
        )
        st.altair_chart(alt.layer(diagonal, curve), width="stretch")
    for note in v.notes:
        st.caption(note)
    if v.repeat_places is not None:
        st.markdown("**Lieux touchés plusieurs fois** (vue interne seulement ; jamais exporté)")
        st.dataframe(v.repeat_places, hide_index=True, height=300)
    with st.expander("Méthode et limites"):
        st.markdown(uc.CONCENTRATION_NOTE)
