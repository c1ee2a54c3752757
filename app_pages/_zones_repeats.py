"""Sections of the Zones page: back-test, near-repeat risk, concentration on places, hot streets."""

from __future__ import annotations

import streamlit as st

from core import model as m
from core.escape import markdown_text
from rendering import charts
from rendering.maps import hot_streets_map
from ui import cache
from ui.access import export_button
from ui.charts import show_chart
from ui.columns import column_config_from_frame, show_metrics
from ui.inputs import CHOOSE, CHOOSE_SEVERAL
from ui.maps import show_map
from ui.sidebar import Context
from ui.tables import show_table
from usecases import repeats as uc
from usecases.backtest import BacktestRequest
from usecases.hot_streets import HOT_STREETS_NOTE
from usecases.repeats import DEFAULT_DAYS, DEFAULT_DISTANCES
from usecases.zones import ZoneSettings


def near_repeat_section(ctx: Context) -> None:
    """Knox heat table of one offence, with the sentence a référent can repeat."""
    present = [o for o in uc.NEAR_REPEAT_OFFENCES if (ctx.incidents[m.OFFENCE] == o).any()]
    if not present:
        st.info("Ni cambriolage ni vol lié aux véhicules dans ce jeu de données : le test ne s'applique pas.")
        return
    c1, c2, c3 = st.columns([3, 2, 2])
    offence = c1.selectbox("Infraction", present, key="nr_offence", placeholder=CHOOSE)
    metric = c2.selectbox(
        "Distance", list(uc.METRICS), format_func=uc.METRICS.get, key="nr_metric", placeholder=CHOOSE
    )
    permutations = int(c3.number_input("Permutations", 99, 9999, 999, 100, key="nr_perms"))
    d1, d2 = st.columns(2)
    distances = uc.bands_from_text(
        d1.text_input(
            "Bornes des distances (m)", " ".join(f"{d:.0f}" for d in DEFAULT_DISTANCES), key="nr_distances"
        ),
        float,
    )
    days = uc.bands_from_text(
        d2.text_input("Bornes des durées (jours)", " ".join(str(d) for d in DEFAULT_DAYS), key="nr_days"), int
    )
    v = cache.near_repeat(ctx.selection, offence, distances, days, permutations, metric, ctx.audience)
    show_metrics(v.metrics)
    st.info(v.sentence)
    show_chart(charts.heatmap_from_near_repeat, v.heat, v.duration_order, v.distance_order)
    for note in v.notes:
        st.caption(note)
    with st.expander("Méthode et limites"):
        st.markdown(uc.NEAR_REPEAT_NOTE)


def concentration_section(ctx: Context) -> None:
    """Top shares, Gini and concentration curves; the repeat places in the internal view."""
    v = cache.concentration(ctx.selection, ctx.audience)
    show_table(st, v.table, hide_index=True, column_config=column_config_from_frame(v.table))
    if len(v.curves):
        shown = st.multiselect(
            "Courbes",
            sorted(v.curves["infraction"].unique()),
            default=["Ensemble"],
            key="cc_curves",
            placeholder=CHOOSE_SEVERAL,
        )
        show_chart(charts.curves_from_concentration, v.curves[v.curves["infraction"].isin(shown)])
    for note in v.notes:
        st.caption(note)
    if v.repeat_places is not None:
        st.markdown("**Lieux touchés plusieurs fois** (vue interne seulement ; jamais exporté)")
        show_table(st, v.repeat_places, hide_index=True, height=300)
    with st.expander("Méthode et limites"):
        st.markdown(uc.CONCENTRATION_NOTE)


def backtest_section(ctx: Context, settings: ZoneSettings) -> None:
    """Rolling-origin back-test of every method against the three baselines at the same area."""
    c1, c2, c3 = st.columns(3)
    train = int(c1.number_input("Fenêtre d'apprentissage (mois)", 1, 12, 3, key="bt_train"))
    horizon = int(c2.number_input("Horizon (mois)", 1, 6, 1, key="bt_horizon"))
    count = int(c3.number_input("Nombre de fenêtres", 1, 24, 12, key="bt_windows"))
    request = BacktestRequest(train_months=train, horizon_months=horizon, windows=count)
    v = cache.backtest(ctx.selection.undated(), settings, request, ctx.audience)
    st.info(v.sentence)
    if v.summary.empty:
        return
    show_table(st, v.summary, hide_index=True)
    if len(v.curves):
        st.markdown(
            "**Taux de réussite selon la part du territoire** : les références et les méthodes à "
            "superficie choisie (moyenne des fenêtres)"
        )
        show_chart(charts.curves_from_backtest, v.curves)
    if len(v.monthly):
        with st.expander("Détail par fenêtre"):
            show_table(st, v.monthly, hide_index=True)
    for note in v.captions:
        st.caption(note)
    streets = cache.street_backtest(ctx.selection.undated(), request, ctx.audience)
    if streets is not None:
        st.markdown(
            "**Par tronçon de rue** (même fenêtres ; part de la longueur du réseau au lieu de la superficie)"
        )
        st.info(streets.sentence)
        if len(streets.table):
            show_table(st, streets.table, hide_index=True)
        for note in streets.captions:
            st.caption(note)


def hot_streets_section(ctx: Context) -> None:
    """Incidents per street segment: concentration, map and table of the busiest segments."""
    v = cache.hot_streets(ctx.selection, ctx.audience)
    if v is None:
        st.info(
            "Ce département n'a pas de réseau routier : importez un extrait OpenStreetMap ou la BD TOPO "
            "(page « Données » ou make roads) pour compter les faits par rue."
        )
        return
    st.caption(markdown_text(cache.road_network_sentence(ctx.departement)))
    show_metrics(v.metrics)
    if len(v.segments_wgs84):
        show_map(
            "hs_map",
            hot_streets_map,
            v.segments_wgs84,
            cache.display_geometry(ctx.departement),
            base=ctx.base_map,
            height=480,
        )
    show_table(st, v.table, hide_index=True, column_config=column_config_from_frame(v.table))
    for note in v.notes:
        st.caption(note)
    e1, e2 = st.columns(2)
    export_button(e1, ctx.viewer, "Tronçons (CSV)", v.export_csv, "rues_les_plus_touchees.csv", "text/csv")
    export_button(
        e2,
        ctx.viewer,
        "Tronçons (GeoJSON)",
        v.export_geojson,
        "rues_les_plus_touchees.geojson",
        "application/geo+json",
    )
    with st.expander("Méthode et limites"):
        st.markdown(HOT_STREETS_NOTE)
