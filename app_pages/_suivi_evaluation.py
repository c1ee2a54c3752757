"""« Évaluer une action », a section of the Suivi page: before/after with displacement."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from core import model as m
from core.crs import metric_crs_for_departement
from core.escape import markdown_text
from core.formatting import fmt_date
from rendering import charts
from rendering.maps import area_drawing_map, evaluation_map
from ui import cache
from ui.access import audited
from ui.charts import show_chart
from ui.columns import column_config_from_frame
from ui.inputs import CHOOSE, choose_by_name
from ui.maps import show_map
from ui.sidebar import Context
from ui.tables import show_table
from ui.uploads import file_uploader
from usecases import evaluation as uc
from usecases.videoprotection import study_area


def _drawn(ctx: Context, key: str, caption: str, communes):
    """A polygon drawn on a map (metric CRS), or None (the Vidéoprotection page's reading of a drawing)."""
    st.caption(caption)
    out = st_folium(
        area_drawing_map(
            ctx.communes.total_bounds, cache.display_geometry(ctx.departement), base=ctx.base_map
        ),
        key=key,
        returned_objects=["all_drawings"],
        height=380,
        use_container_width=True,
    )
    drawn = (out or {}).get("all_drawings") or []
    if not drawn:
        return None
    return study_area(communes, "dessin", drawn=drawn).geometry


def _target(ctx: Context, communes, crs: str) -> tuple[object, str]:
    c1, c2 = st.columns([2, 3])
    kind = c1.radio(
        "Zone cible", list(uc.TARGET_KINDS), format_func=uc.TARGET_KINDS.get, key="ev_target_kind"
    )
    with c2:
        if kind == "zone":
            zones = cache.default_zones(ctx.selection)
            if zones.empty:
                st.info(
                    "Aucune zone prioritaire sur la période de la barre latérale : élargissez-la ou choisissez une autre cible."
                )
                st.stop()
            labels = {
                int(r["rang"]): f"Zone n° {int(r['rang'])} — {r['communes']}" for _, r in zones.iterrows()
            }
            rank = st.selectbox(
                "Zone prioritaire",
                list(labels),
                format_func=lambda k: markdown_text(labels[k]),
                key="ev_zone",
                placeholder=CHOOSE,
            )
            st.caption(
                "Zones détectées sur la période de la barre latérale (réglages par défaut de la page « Zones prioritaires »)."
            )
            return zones.loc[zones["rang"] == rank].geometry.iloc[0], labels[rank]
        if kind == "commune":
            names = dict(zip(communes["code"], communes["nom"], strict=True))
            code = choose_by_name(st, "Commune", names, key="ev_commune")
            return communes.loc[communes["code"] == code].geometry.iloc[0], f"commune de {names[code]}"
        if kind == "cameras":
            up = file_uploader(
                "Caméras existantes (CSV, GeoJSON, GeoPackage…)",
                type=["csv", "xlsx", "xls", "ods", "geojson", "json", "gpkg", "parquet"],
                key="ev_cameras",
            )
            radius = st.number_input("Portée utile d'une caméra (m)", 10, 500, 50, 10, key="ev_radius")
            if up is None:
                st.info(
                    "Déposez le fichier des caméras installées (une ligne par caméra, avec ses coordonnées)."
                )
                st.stop()
            read = cache.sites_from_upload(up, crs, False)
            if len(read.rejected):
                st.warning(f"{len(read.rejected)} ligne(s) rejetée(s) dans « {markdown_text(up.name)} » :")
                show_table(st, read.rejected, hide_index=True)
            return uc.target_from_cameras(
                read.sites, float(radius)
            ), f"couverture de {len(read.sites)} caméra(s) ({radius:.0f} m)"
        geom = _drawn(ctx, "ev_draw_target", "Dessinez la zone cible (polygone ou rectangle).", communes)
        if geom is None:
            st.info("Tracez la zone cible sur la carte.")
            st.stop()
        return geom, "secteur dessiné"


def _windows(ctx: Context) -> tuple[uc.Windows, float]:
    lo, hi = ctx.incidents[m.START].min().date(), ctx.incidents[m.START].max().date()
    c1, c2, c3, c4 = st.columns(4)
    days = int(c2.number_input("Durée de chaque fenêtre (jours)", 7, 730, 90, 1, key="ev_days"))
    gap = int(c3.number_input("Mise en place exclue (jours)", 0, 365, 0, 1, key="ev_gap"))
    default = max(lo + dt.timedelta(days=days), hi - dt.timedelta(days=days + gap - 1))
    start = c1.date_input(
        "Début de l'action",
        value=min(default, hi),
        min_value=lo,
        max_value=hi,
        format="DD/MM/YYYY",
        key="ev_start",
    )
    buffer_m = c4.number_input("Largeur de la zone tampon (m)", 50, 5000, 300, 50, key="ev_buffer")
    return uc.windows_from_start(start, days=days, gap_days=gap), float(buffer_m)


def _chart(view: uc.EvaluationView) -> None:
    show_chart(
        charts.evaluation_from_monthly,
        view.monthly,
        pd.Timestamp(view.windows.before_end + dt.timedelta(days=1)),
    )


def _kept(ctx: Context) -> None:
    records = uc.kept_evaluations(ctx.selection)
    if not records:
        return
    st.markdown("**Évaluations gardées** (elles peuvent figurer dans le rapport pour le préfet)")
    for r in records:
        title, _ = uc.record_rows(r, published=ctx.audience.published)
        a, b = st.columns([5, 1])
        a.write(markdown_text(f"{title} — {r.get('filtres') or 'toutes infractions'}"))
        if not ctx.audience.published and b.button("Retirer", key=f"ev_del_{r['id']}"):
            with audited(ctx.viewer, "évaluation retirée", ctx.dataset.slug, {"evaluation": r["id"]}):
                uc.withdraw_evaluation(ctx.selection, r["id"])
            st.rerun()


def section(ctx: Context) -> None:
    """The « Évaluer une action » section (the sidebar's offence, place and force filters apply)."""
    st.caption(
        "Comparez une zone où une action a été menée (caméras, patrouilles, aménagement) avant et après, "
        "avec une zone tampon autour (déplacement ou diffusion des bénéfices) et une zone témoin "
        "(tendance générale). La période de la barre latérale ne s'applique pas ; ses autres filtres, si."
    )
    crs = metric_crs_for_departement(ctx.departement)
    communes = cache.communes_metric(ctx.departement)
    target, label = _target(ctx, communes, crs)
    windows, buffer_m = _windows(ctx)
    control = st.radio(
        "Zone témoin",
        list(uc.CONTROL_KINDS),
        format_func=uc.CONTROL_KINDS.get,
        horizontal=True,
        key="ev_control",
    )
    drawn = None
    if control == "dessin":
        drawn = _drawn(
            ctx,
            "ev_draw_control",
            "Dessinez la zone témoin (la cible et sa zone tampon en seront retirées).",
            communes,
        )
        if drawn is None:
            st.info("Tracez la zone témoin sur la carte.")
            st.stop()
    areas = uc.evaluation_areas(
        target, communes, target_label=label, buffer_m=buffer_m, control=control, control_geometry=drawn
    )
    view = uc.evaluation_for_selection(ctx.incidents, ctx.flt, areas, windows, crs=crs, audience=ctx.audience)
    left, right = st.columns([2, 3])
    with left:
        show_map(
            "ev_map",
            evaluation_map,
            uc.areas_for_map(areas, crs),
            cache.display_geometry(ctx.departement),
            base=ctx.base_map,
            height=420,
        )
    with right:
        st.markdown(markdown_text(view.reading))
        show_table(
            st,
            view.counts,
            hide_index=True,
            width="stretch",
            column_config=column_config_from_frame(view.counts),
        )
        if view.figures:
            cols = st.columns(len(view.figures))
            for col, (name, value) in zip(cols, view.figures, strict=True):
                col.metric(name, value)
    _chart(view)
    for note in view.notes:
        st.caption(note)
    with st.expander("Méthode et limites"):
        st.markdown(uc.METHOD_NOTE)
    keep = not view.withheld and not ctx.audience.published
    if keep and st.button("Garder cette évaluation pour le rapport", key="ev_keep"):
        with audited(
            ctx.viewer, "évaluation gardée", ctx.dataset.slug, {"cible": str(view.record.get("cible", ""))}
        ):
            uc.keep_evaluation(ctx.selection, view.record)
        st.success(f"Évaluation gardée ({fmt_date(dt.date.today())}) : cochez-la au moment du rapport.")
    _kept(ctx)
