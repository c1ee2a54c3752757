"""Suivi: the period followed against a year earlier and the period before, with exact tests,
and the one-click report for the préfet."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._suivi_evaluation import section as evaluation_section
from core.access import REPORT
from core.crs import metric_crs_for_departement
from rendering import charts
from rendering.maps import change_map
from rendering.report import (
    ReportContent,
    html_report_from_followup,
    pdf_report_from_followup,
)
from ui import cache
from ui.access import export_button
from ui.charts import show_chart
from ui.columns import show_metrics
from ui.guard import guarded
from ui.inputs import CHOOSE, CHOOSE_SEVERAL, choose_by_name
from ui.layer_map import show_layer_map
from ui.sidebar import Context, current_context, dataset_or_notice
from ui.state import valid_or_reset
from ui.tables import show_table
from usecases.evaluation import kept_evaluations
from usecases.evaluation import record_rows as evaluation_record_rows
from usecases.packs import all_canton_packs_zip, all_commune_sheets_zip, canton_pack_pdf, commune_sheet_pdf
from usecases.suivi import (
    DIMENSIONS,
    MAP_LEVELS,
    REFERENCE_LABELS,
    SPLITS,
    SuiviData,
    change_map_for,
    default_followed_period,
    monthly_series_for_selection,
    report_content,
    suivi_view,
)

MODES = {"periodes": "Comparaison des périodes", "evaluation": "Évaluer une action"}


def _period_widget(ctx: Context) -> tuple[pd.Timestamp, pd.Timestamp]:
    start, end, lo, hi = default_followed_period(ctx.incidents)
    key = f"s_period_{ctx.selection.kind}_{ctx.selection.slug}"
    valid_or_reset(
        key,
        (start, end),
        lambda v: isinstance(v, tuple) and len(v) in (1, 2) and all(lo <= d <= hi for d in v),
    )
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
    return period[0], period[1]


def _trend(ctx: Context, data: SuiviData, spans: pd.DataFrame, split: str | None) -> None:
    long = monthly_series_for_selection(data, split=split, audience=ctx.audience)
    show_chart(charts.trend_from_periods, spans, long, split=bool(split))


def _report(ctx: Context, data: SuiviData, reference: str) -> None:
    fu = data.published  # the report is an export: always the published view
    kept = kept_evaluations(ctx.selection)
    chosen: list[dict] = []
    if kept:
        titles = {r["id"]: evaluation_record_rows(r)[0] for r in kept}
        ids = st.multiselect(
            "Évaluations d'actions à joindre au rapport",
            list(titles),
            format_func=titles.get,
            key="s_report_evaluations",
            help="Gardées depuis « Évaluer une action ». Le secret statistique s'applique.",
            placeholder=CHOOSE_SEVERAL,
        )
        chosen = [r for r in kept if r["id"] in ids]

    def content() -> ReportContent:
        return report_content(
            data,
            ctx.communes,
            reference=reference,
            territory=f"{ctx.departement_nom} ({ctx.departement})",
            dataset=ctx.dataset.name,
            synthetic=ctx.dataset.synthetic,
            flt=ctx.flt,
            crs=metric_crs_for_departement(ctx.departement),
            evaluations=chosen,
            backtest=cache.report_backtest(ctx.selection),
        )

    name = f"suivi_{ctx.departement}_{fu.current.start:%Y%m}_{fu.current.end:%Y%m}"
    r1, r2 = st.columns(2)
    export_button(
        r1,
        ctx.viewer,
        "Rapport pour le préfet (PDF)",
        lambda: pdf_report_from_followup(fu, content()),
        f"{name}.pdf",
        "application/pdf",
        action="rapport",
        type="primary",
        key="s_pdf",
    )
    export_button(
        r2,
        ctx.viewer,
        "Rapport (HTML)",
        lambda: html_report_from_followup(fu, content()).encode("utf-8"),
        f"{name}.html",
        "text/html",
        action="rapport",
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
    mode = st.segmented_control(
        "Vue",
        list(MODES),
        default="periodes",
        format_func=MODES.get,
        key="s_mode",
        label_visibility="collapsed",
    )
    if mode == "evaluation":
        evaluation_section(ctx)
        return
    _followup_body(ctx)


def _followup_body(ctx: Context) -> None:
    start, end = _period_widget(ctx)
    data = cache.followup(ctx.selection.undated(), start, end)
    fu = data.followup
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
    valid_or_reset("s_reference", next(iter(fu.references)), lambda v: v in fu.references)
    reference = st.radio(
        "Comparer à",
        list(fu.references),
        format_func=lambda k: f"{REFERENCE_LABELS[k]} ({fu.references[k].label})",
        horizontal=True,
        key="s_reference",
    )
    dims = [d for d in DIMENSIONS if (reference, d) in fu.tables]
    dim = st.session_state.get("s_dimension") if st.session_state.get("s_dimension") in dims else dims[0]
    only_sig = bool(st.session_state.get("s_only_sig", False))
    v = suivi_view(
        data,
        reference=reference,
        dimension=dim,
        only_significant=only_sig,
        audience=ctx.audience,
        commune_codes=ctx.communes["code"],
    )
    show_metrics(v.metrics)
    st.caption(
        "Évolution du nombre de faits par jour ; test exact conditionnel (binomial) du rapport de taux. "
        "Une hausse est en rouge seulement si elle est significative."
    )
    geometry = cache.display_geometry(ctx.departement)
    epci = cache.group_display_geometry(ctx.departement, "epci")
    cm = change_map_for(data, ctx.communes, geometry, epci, reference=reference, audience=ctx.audience)
    asked = st.segmented_control(
        "Carte par",
        list(MAP_LEVELS),
        default=cm.level,
        format_func=MAP_LEVELS.get,
        key="s_map_level",
        help="Par défaut par commune, ou par EPCI quand le secret statistique masque la plupart des communes.",
    )
    if asked and asked != cm.level:
        cm = change_map_for(
            data, ctx.communes, geometry, epci, reference=reference, audience=ctx.audience, level=asked
        )
    st.subheader(f"Carte des changements significatifs par {MAP_LEVELS[cm.level]}")
    st.caption(cm.note)
    show_layer_map(
        "s_map",
        change_map,
        cm.table,
        cm.units,
        cm.display_geometry,
        base=ctx.base_map,
        classes=cm.classes,
        zones=data.zones,
        area_label=MAP_LEVELS[cm.level],
        height=520,
        label=f"Carte des changements significatifs par {MAP_LEVELS[cm.level]}",
    )
    unit = "commune(s)" if cm.level == "commune" else "EPCI"
    st.caption(
        f"{cm.n_significant} {unit} en changement significatif (correction de Benjamini-Hochberg, 5 %). "
        f"Zones prioritaires suivies : {fu.n_zones}, détectées sur {fu.zones_period.label} : celles que la "
        "page « Zones prioritaires » montre à ses réglages d'ouverture pour cette période (choisissez-la dans "
        "la barre latérale pour les retrouver)."
    )
    st.subheader("Tableau des évolutions")
    st.selectbox("Par", dims, format_func=DIMENSIONS.get, key="s_dimension", placeholder=CHOOSE)
    st.toggle("Seulement les changements significatifs", key="s_only_sig")
    show_table(st, v.table, hide_index=True, width="stretch")
    export_button(
        st,
        ctx.viewer,
        "Tableau (CSV, secret statistique appliqué)",
        v.export_csv,
        f"suivi_{dim}_{reference}.csv",
        "text/csv",
        key="s_csv",
    )
    st.subheader("Évolution mensuelle")
    split = st.selectbox(
        "Détailler par", list(SPLITS), format_func=SPLITS.get, key="s_split", placeholder=CHOOSE
    )
    _trend(ctx, data, v.spans, split)
    st.subheader("Rapport")
    _report(ctx, data, reference)
    if ctx.viewer.can(REPORT):
        _packs(ctx)


def _packs(ctx: Context) -> None:
    """Packs for partners: a sheet per commune (mayors), a meeting pack per canton."""
    st.subheader("Dossiers pour les partenaires")
    st.caption(
        "Vue diffusable, secret statistique appliqué : chaque commune, son canton, son EPCI et le département "
        "sont masqués ensemble, pour qu'aucun effectif caché ne se retrouve par différence d'un document à l'autre."
    )
    pack = cache.pack_data(ctx.selection)
    territory = f"{ctx.departement_nom} ({ctx.departement})"
    common = {"territory": territory, "dataset": ctx.dataset.name, "synthetic": ctx.dataset.synthetic}
    names = dict(zip(pack.communes.index, pack.communes["nom"], strict=True))
    c1, c2 = st.columns(2)
    code = choose_by_name(c1, "Commune", names, key="pk_commune")
    export_button(
        c1,
        ctx.viewer,
        "Fiche de la commune (PDF)",
        lambda: commune_sheet_pdf(pack, code, **common).data,
        f"fiche_{code}.pdf",
        "application/pdf",
        action="rapport",
        key="pk_sheet",
    )
    export_button(
        c1,
        ctx.viewer,
        "Toutes les fiches communes (ZIP)",
        lambda: all_commune_sheets_zip(pack, **common),
        f"fiches_communes_{ctx.departement}.zip",
        "application/zip",
        action="rapport",
        key="pk_sheets",
    )
    cantons = dict(zip(pack.cantons.index, pack.cantons["nom"], strict=True))
    canton = choose_by_name(c2, "Canton", cantons, key="pk_canton")
    export_button(
        c2,
        ctx.viewer,
        "Dossier de réunion publique du canton (PDF)",
        lambda: canton_pack_pdf(pack, canton, **common).data,
        f"canton_{canton}.pdf",
        "application/pdf",
        action="rapport",
        key="pk_canton_pdf",
    )
    export_button(
        c2,
        ctx.viewer,
        "Tous les cantons et le plan des réunions (ZIP)",
        lambda: all_canton_packs_zip(pack, **common),
        f"reunions_cantons_{ctx.departement}.zip",
        "application/zip",
        action="rapport",
        key="pk_cantons",
    )


guarded(body, page="suivi")
