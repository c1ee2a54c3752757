"""Diagnostic territorial: rates per commune, offences, places, months, hours, profiles."""

from __future__ import annotations

import altair as alt
import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from analysis.diagnostic import (
    class_breaks_from_values,
    classes_from_values,
    diagnostic_from_incidents,
    published_commune_table,
)
from analysis.official import (
    STATUS_ABSENT,
    STATUS_PUBLISHED,
    STATUS_SECRET,
    departement_series,
    official_commune_table,
    official_rates_for_communes,
)
from analysis.organisation import counts_by_area
from core.privacy import SECRET_LABEL
from data.store import statistics_store
from geo.communes import geometry_by_group
from geo.organisation import DEFAULT_DETOUR, DEFAULT_SPEED_KMH
from readers.ssmsi import PER_DWELLING
from rendering.exports import csv_bytes_from_frame, geojson_bytes_from_frame
from rendering.maps import add_organisation_layer, choropleth_from_official, choropleth_from_rates
from ui.columns import column_config_from_frame
from ui.context import (
    Context,
    area_keys,
    current_context,
    dataset_or_notice,
    display_geometry,
    guarded,
    official_statistics,
    organisation,
    organisation_stamp,
)


def _fmt(x: float, d: int = 0) -> str:
    return f"{x:,.{d}f}".replace(",", "\u202f").replace(".", ",")


def _bars(counts: pd.DataFrame, label: str, colour: str) -> alt.Chart:
    """Horizontal bars of a ``categorie``/``faits``/``part`` table."""
    return (
        alt.Chart(counts)
        .mark_bar(color=colour)
        .encode(
            x=alt.X("faits:Q", title="faits"),
            y=alt.Y("categorie:N", sort="-x", title=None),
            tooltip=[alt.Tooltip("categorie:N", title=label), "faits:Q", alt.Tooltip("part:Q", format=".1%")],
        )
    )


def _ranking(ctx: Context, d, level: str, *, hide_secret: bool) -> tuple[pd.DataFrame, gpd.GeoSeries]:
    """Ranked table at the chosen level (commune, EPCI, canton) and its geometry."""
    if level == "commune":
        table = published_commune_table(d.rates, hide_secret=hide_secret)
        return table, d.rates.set_index("code").geometry.loc[table["code"]]
    keys = area_keys(ctx.departement)
    agg = counts_by_area(d.incidents, ctx.communes, keys[level])
    names = keys.drop_duplicates(level).set_index(level)[f"{level}_nom"]
    rates = agg.reset_index(names="code").assign(nom=lambda t: t["code"].map(names))
    table = published_commune_table(rates, hide_secret=hide_secret)
    geometry = geometry_by_group(ctx.communes, keys[level]).loc[table["code"]]
    return table, geometry


def _incidents_view(ctx: Context) -> None:
    if not dataset_or_notice(ctx):
        return
    f = ctx.flt
    method = (
        st.segmented_control(
            "Classes",
            ["quantiles", "equal"],
            default="quantiles",
            format_func={"quantiles": "Quantiles", "equal": "Intervalles égaux"}.get,
            key="diag_method",
        )
        or "quantiles"
    )
    d = diagnostic_from_incidents(ctx.incidents, ctx.communes, f, method=method)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Faits", _fmt(d.figures["faits"]))
    c2.metric("Pour 1 000 habitants", _fmt(d.figures["taux_pour_mille"], 2))
    c3.metric("Communes concernées", f"{d.figures['communes_touchees']} / {len(ctx.communes)}")
    c4.metric("Faits datés sur une plage", f"{d.figures['part_fenetre']:.0%}".replace(".", ","))
    st.caption(f"Période du {f.start:%d/%m/%Y} au {f.end:%d/%m/%Y}." if f.start and f.end else "")
    if d.figures["faits"] == 0:
        st.info("Aucun fait pour ces filtres : élargissez la période ou les infractions.")
        return

    left, right = st.columns([3, 2])
    with left:
        st.subheader("Taux pour 1 000 habitants par commune")
        fmap = choropleth_from_rates(
            d.rates,
            breaks=d.breaks,
            classes=d.classes,
            display_geometry=display_geometry(ctx.departement),
            base=ctx.base_map,
            hide_secret=ctx.public_view,
        )
        if st.toggle("Superposer l'organisation territoriale", key="diag_overlay"):
            org = organisation(ctx.departement, organisation_stamp(), DEFAULT_DETOUR, DEFAULT_SPEED_KMH)
            add_organisation_layer(fmap, org.units, indicative=org.indicative)
        st_folium(fmap, key="diag_map", returned_objects=[], height=560, use_container_width=True)
    levels = {"commune": "Commune", "epci": "EPCI", "canton": "Canton"}
    with right:
        level = (
            st.segmented_control(
                "Échelon", list(levels), default="commune", format_func=levels.get, key="diag_level"
            )
            or "commune"
        )
        ranked, geometry = _ranking(ctx, d, level, hide_secret=ctx.public_view)
        shown = ranked[ranked["faits"].astype(str) != "0"].astype(str).replace({"None": "", "nan": ""})
        st.dataframe(
            shown.rename(columns={"commune": levels[level]}),
            hide_index=True,
            height=520,
            column_config=column_config_from_frame(
                shown, code=st.column_config.Column("Code INSEE" if level == "commune" else "Code")
            ),
        )

    a, b = st.columns(2)
    with a:
        st.subheader("Par infraction")
        st.altair_chart(_bars(d.by_offence, "infraction", "#000091"), width="stretch")
    with b:
        st.subheader("Par type de lieu")
        st.altair_chart(_bars(d.by_place, "lieu", "#6a6af4"), width="stretch")

    st.subheader("Évolution mensuelle")
    monthly = d.monthly.reset_index()
    st.altair_chart(
        alt.Chart(monthly)
        .mark_line(point=True, color="#000091")
        .encode(
            x=alt.X("mois:T", title=None, axis=alt.Axis(format="%m/%Y")),
            y=alt.Y("faits:Q"),
            tooltip=[alt.Tooltip("mois:T", format="%m/%Y"), "faits:Q"],
        ),
        width="stretch",
    )

    st.subheader("Jour et heure (méthode aoristique)")
    st.caption(
        "Un fait connu seulement « entre … et … » est réparti sur toute sa plage horaire, pas placé à son début."
    )
    hw = d.hour_weekday.reset_index(names="jour").melt(id_vars="jour", var_name="heure", value_name="faits")
    st.altair_chart(
        alt.Chart(hw)
        .mark_rect()
        .encode(
            x=alt.X("heure:O", title="heure"),
            y=alt.Y("jour:N", sort=list(d.hour_weekday.index), title=None),
            color=alt.Color("faits:Q", scale=alt.Scale(scheme="orangered"), title="faits"),
            tooltip=["jour:N", "heure:O", alt.Tooltip("faits:Q", format=".1f")],
        ),
        width="stretch",
    )

    st.subheader("Profil des mis en cause (faits élucidés)")
    profile = d.profile.astype(object).mask(d.profile_mask, SECRET_LABEL)
    st.dataframe(profile.astype(str), width="content")
    st.caption(
        "Effectifs de 1 à 5 masqués, ainsi que ceux qui permettraient de les retrouver (secret statistique)."
    )

    st.subheader("Exports")
    export, geometry = _ranking(ctx, d, level, hide_secret=True)
    export = export.rename(columns={"commune": levels[level]})
    e1, e2 = st.columns(2)
    e1.download_button(
        f"Tableau par {levels[level]} (CSV)",
        csv_bytes_from_frame(export),
        f"diagnostic_{level}.csv",
        "text/csv",
    )
    e2.download_button(
        f"Carte par {levels[level]} (GeoJSON)",
        geojson_bytes_from_frame(export, geometry),
        f"diagnostic_{level}.geojson",
        "application/geo+json",
    )
    st.caption("Les exports appliquent toujours le secret statistique ; aucun point de fait n'est exporté.")


def _official_view(ctx: Context) -> None:
    saved = statistics_store().list()
    if not saved:
        st.info(
            "Aucune statistique officielle : importez une base SSMSI (communale ou départementale) dans la page « Données »."
        )
        return
    names = {i.slug: i.name for i in saved}
    c1, c2, c3 = st.columns([2, 3, 1])
    slug = c1.selectbox("Statistiques", list(names), format_func=names.get, key="ssmsi_slug")
    stats = official_statistics(slug, next(i.imported_at for i in saved if i.slug == slug))
    indicators = sorted(stats["indicateur"].dropna().unique())
    indicator = c2.selectbox("Indicateur", indicators, key="ssmsi_indicator")
    years = sorted(stats["annee"].unique(), reverse=True)
    year = c3.selectbox("Année", years, key="ssmsi_year")
    unit = "logements" if indicator in PER_DWELLING else "habitants"
    rates = official_rates_for_communes(stats, ctx.communes, indicateur=indicator, annee=int(year))
    published = rates["statut"] == STATUS_PUBLISHED
    m1, m2, m3 = st.columns(3)
    m1.metric("Communes publiées", f"{int(published.sum())} / {len(rates)}")
    m2.metric("Non diffusées", int((rates["statut"] == STATUS_SECRET).sum()))
    m3.metric("Absentes de la base", int((rates["statut"] == STATUS_ABSENT).sum()))
    left, right = st.columns([3, 2])
    with left:
        st.subheader(f"Taux pour 1 000 {unit} — {year}")
        if published.any():
            breaks = class_breaks_from_values(rates["taux_pour_mille"].where(published).to_numpy())
            classes = classes_from_values(rates["taux_pour_mille"].to_numpy(), breaks)
            fmap = choropleth_from_official(
                rates,
                breaks=breaks,
                classes=classes,
                display_geometry=display_geometry(ctx.departement),
                base=ctx.base_map,
                title=f"Taux pour 1 000 {unit}",
            )
            if st.toggle("Superposer l'organisation territoriale", key="ssmsi_overlay"):
                org = organisation(ctx.departement, organisation_stamp(), DEFAULT_DETOUR, DEFAULT_SPEED_KMH)
                add_organisation_layer(fmap, org.units, indicative=org.indicative)
            st_folium(fmap, key="ssmsi_map", returned_objects=[], height=520, use_container_width=True)
        else:
            st.info("Aucune commune de ce département n'est publiée pour cet indicateur et cette année.")
    with right:
        st.subheader("Communes")
        table = official_commune_table(rates)
        st.dataframe(table, hide_index=True, height=520)
    st.caption(
        "Source : SSMSI, bases statistiques de la délinquance enregistrée par la police et la gendarmerie "
        "nationales (data.gouv.fr), Licence Ouverte 2.0. « Non diffusé » : commune sous le seuil de "
        "publication ; l'estimation départementale n'est pas la valeur de la commune."
    )
    st.subheader(f"Département {ctx.departement} — {indicator}")
    series = departement_series(stats, ctx.departement, indicateur=indicator)
    if len(series):
        st.caption(f"Source des chiffres départementaux : {series['source'].iloc[0]}.")
        st.altair_chart(
            alt.Chart(series)
            .mark_line(point=True, color="#000091")
            .encode(
                x=alt.X("annee:O", title="année"),
                y=alt.Y("nombre:Q", title="nombre"),
                tooltip=["annee:O", "nombre:Q"],
            ),
            width="stretch",
        )
    else:
        st.info("Pas de chiffres départementaux pour cet indicateur dans les statistiques choisies.")
    e1, e2 = st.columns(2)
    e1.download_button("Tableau (CSV)", csv_bytes_from_frame(table), f"ssmsi_{year}.csv", "text/csv")
    e2.download_button(
        "Carte (GeoJSON)",
        geojson_bytes_from_frame(table, rates.geometry.loc[table.index]),
        f"ssmsi_{year}.geojson",
        "application/geo+json",
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


guarded(body)
