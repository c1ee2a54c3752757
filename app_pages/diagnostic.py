"""Diagnostic territorial: rates per commune, offences, places, months, hours, profiles."""

from __future__ import annotations

import streamlit as st

from core.escape import markdown_text
from core.formatting import fmt_date
from rendering import charts
from rendering.maps import choropleth_from_official, choropleth_from_rates
from ui import cache, prefetch
from ui.access import export_button
from ui.charts import show_chart
from ui.columns import column_config_from_frame, show_metrics
from ui.guard import guarded
from ui.inputs import CHOOSE
from ui.layer_map import show_layer_map
from ui.sidebar import Context, current_context, dataset_or_notice
from ui.tables import show_table
from usecases.diagnostic import (
    CLASS_METHODS,
    CLASSES_METHOD_NOTE,
    LEVELS,
    RATE_EXPLANATION,
    RATE_KINDS,
    SMOOTHING_METHOD_NOTE,
)
from usecases.diagnostic_levels import commune_map
from usecases.organisation import DEFAULT_DETOUR, DEFAULT_SPEED_KMH, Organisation, organisation_stamp


def _overlay(ctx: Context, key: str) -> Organisation | None:
    """The organisation to lay over the map, when the user asks for it."""
    if st.toggle("Superposer l'organisation territoriale", key=key):
        return cache.organisation(ctx.departement, organisation_stamp(), DEFAULT_DETOUR, DEFAULT_SPEED_KMH)
    return None


def _incidents_view(ctx: Context) -> None:
    if not dataset_or_notice(ctx):
        return
    # One row that wraps (1024 x 768: no control cut or pushed off-screen).
    controls = st.container(horizontal=True, wrap=True, gap="medium")
    rate = controls.segmented_control(
        "Taux", list(RATE_KINDS), default="brut", format_func=RATE_KINDS.get, key="diag_rate"
    )
    level = controls.segmented_control(
        "Échelon", list(LEVELS), default="commune", format_func=LEVELS.get, key="diag_level"
    )
    method = controls.selectbox(
        "Classes de la carte",
        list(CLASS_METHODS),
        format_func=CLASS_METHODS.get,
        key="diag_method",
        width=260,
        placeholder=CHOOSE,
    )
    rate, method, level = rate or "brut", method or "fisher_jenks", level or "commune"
    st.caption(RATE_EXPLANATION[rate])
    stats_key = cache.statistics_key()
    d = cache.diagnostic(ctx.selection, method, ctx.audience, rate, stats_key)
    show_metrics(d.metrics)
    f = ctx.flt
    if f.start and f.end:
        st.caption(f"Période du {fmt_date(f.start)} au {fmt_date(f.end)}.")
    if d.n_incidents == 0:
        st.info("Aucun fait pour ces filtres : élargissez la période ou les infractions.")
        return
    left, right = st.columns([3, 2])
    with left:
        lm = (
            commune_map(d, cache.display_geometry(ctx.departement))
            if level == "commune"
            else cache.level_map(ctx.selection, method, ctx.audience, level, rate, stats_key)
        )
        st.subheader(lm.heading)
        if lm.note:
            st.caption(lm.note)
        show_layer_map(
            "diag_map",
            choropleth_from_rates,
            lm.rates,
            breaks=lm.breaks,
            classes=lm.classes,
            display_geometry=lm.display_geometry,
            base=ctx.base_map,
            hide_secret=d.hide_secret,
            title=lm.legend_title,
            value_column=lm.value_column,
            base_label=d.base_label,
            area_label=lm.area_label,
            secret_range=d.secret_range,
            height=560,
            label=lm.heading,
            organisation=_overlay(ctx, "diag_overlay"),
        )
    ranking = cache.ranking(ctx.selection, method, ctx.audience, level, rate, stats_key)
    with right:
        shown = ranking.table
        if ranking.warning:
            st.warning(ranking.warning)
        show_table(
            st,
            shown,
            hide_index=True,
            height=560,
            column_config=column_config_from_frame(
                shown, code=st.column_config.Column("Code INSEE" if level == "commune" else "Code")
            ),
        )
    # One chart at a time, computed and drawn when its tab is chosen: a filter change no
    # longer redraws five charts below the map (bench/bench_interactions.py, the Nord).
    by_offence, by_place, monthly, hours, profile = st.tabs(
        [
            "Par infraction",
            "Par type de lieu",
            "Évolution mensuelle",
            "Jour et heure",
            "Profil des mis en cause",
        ],
        key="diag_charts",
        on_change="rerun",
    )
    if by_offence.open:
        with by_offence:
            show_chart(charts.bars_from_counts, d.by_offence, "infraction", charts.BLUE)
    if by_place.open:
        with by_place:
            show_chart(charts.bars_from_counts, d.by_place, "lieu", charts.LIGHT_BLUE)
    if monthly.open:
        with monthly:
            show_chart(charts.line_from_monthly, d.monthly)
    if hours.open:
        with hours:
            st.caption(
                "Méthode aoristique : un fait connu seulement « entre … et … » est réparti sur toute sa "
                "plage horaire, pas placé à son début."
            )
            show_chart(charts.heatmap_from_hour_weekday, d.hour_weekday, d.weekdays)
    if profile.open:
        with profile:
            st.caption("Faits élucidés : sexe et âge des mis en cause.")
            show_table(st, d.profile, width="content")
    for note in d.notes:
        st.caption(note)
    with st.expander("Méthode : taux lissés, intervalles, classes"):
        st.markdown(SMOOTHING_METHOD_NOTE)
        st.markdown(CLASSES_METHOD_NOTE)
    st.subheader("Exports")
    e1, e2 = st.columns(2)
    export_button(
        e1,
        ctx.viewer,
        f"Tableau par {LEVELS[level]} (CSV)",
        lambda: ranking.export_csv,
        f"diagnostic_{level}.csv",
        "text/csv",
    )
    export_button(
        e2,
        ctx.viewer,
        f"Carte par {LEVELS[level]} (GeoJSON)",
        lambda: ranking.export_geojson,
        f"diagnostic_{level}.geojson",
        "application/geo+json",
    )
    st.caption("Les exports appliquent toujours le secret statistique ; aucun point de fait n'est exporté.")
    prefetch.warm_zones(ctx)  # the usual next step, computed while the analyst reads this page


def _official_view(ctx: Context) -> None:
    saved = cache.statistics_list()
    if not saved:
        st.info(
            "Aucune statistique officielle : importez une base SSMSI (communale ou départementale) dans la page « Données »."
        )
        return
    names = {i.slug: i.name for i in saved}
    c1, c2, c3 = st.columns([2, 3, 1])
    slug = c1.selectbox(
        "Statistiques", list(names), format_func=names.get, key="ssmsi_slug", placeholder=CHOOSE
    )
    stamp = next(i.imported_at for i in saved if i.slug == slug)
    stats = cache.official_statistics(slug, stamp)
    indicator = c2.selectbox(
        "Indicateur",
        sorted(stats["indicateur"].dropna().unique()),
        key="ssmsi_indicator",
        placeholder=CHOOSE,
    )
    year = c3.selectbox(
        "Année", sorted(stats["annee"].unique(), reverse=True), key="ssmsi_year", placeholder=CHOOSE
    )
    v = cache.official(slug, stamp, ctx.departement, indicator, int(year))
    show_metrics(v.metrics)
    left, right = st.columns([3, 2])
    with left:
        st.subheader(f"Taux pour 1 000 {v.unit} — {year}")
        if v.breaks is not None:
            show_layer_map(
                "ssmsi_map",
                choropleth_from_official,
                v.rates,
                breaks=v.breaks,
                classes=v.classes,
                display_geometry=cache.display_geometry(ctx.departement),
                base=ctx.base_map,
                title=f"Taux pour 1 000 {v.unit}",
                height=520,
                label=f"Taux pour 1 000 {v.unit} — {year}",
                organisation=_overlay(ctx, "ssmsi_overlay"),
            )
        else:
            st.info("Aucune commune de ce département n'est publiée pour cet indicateur et cette année.")
    with right:
        st.subheader("Communes")
        show_table(st, v.table, hide_index=True, height=520)
    st.caption(
        "Source : SSMSI, bases statistiques de la délinquance enregistrée par la police et la gendarmerie "
        "nationales (data.gouv.fr), Licence Ouverte 2.0. « Non diffusé » : commune sous le seuil de "
        "publication ; l'estimation départementale n'est pas la valeur de la commune."
    )
    st.subheader(f"Département {ctx.departement} — {markdown_text(indicator)}")
    if v.source is not None:
        st.caption(f"Source des chiffres départementaux : {markdown_text(v.source)}.")
        show_chart(charts.line_from_yearly, v.series)
    else:
        st.info("Pas de chiffres départementaux pour cet indicateur dans les statistiques choisies.")
    e1, e2 = st.columns(2)
    export_button(e1, ctx.viewer, "Tableau (CSV)", v.export_csv, f"ssmsi_{year}.csv", "text/csv")
    export_button(
        e2, ctx.viewer, "Carte (GeoJSON)", v.export_geojson, f"ssmsi_{year}.geojson", "application/geo+json"
    )


def body() -> None:
    ctx = current_context()
    st.title(f"Diagnostic territorial — {ctx.departement_nom}")
    source = st.segmented_control(
        "Source",
        ["faits", "ssmsi"],
        default="faits",
        key="diag_source",
        format_func={"faits": "Faits (jeu de données)", "ssmsi": "Statistiques officielles (SSMSI)"}.get,
    )
    if source == "ssmsi":
        _official_view(ctx)
    else:
        _incidents_view(ctx)


guarded(body, page="diagnostic")
