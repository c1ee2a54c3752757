"""Vidéoprotection: best camera sites for a budget, existing cameras kept."""

from __future__ import annotations

import hashlib

import altair as alt
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st
from streamlit_folium import st_folium

from analysis.siting import published_curve, published_sites, sites_from_geodataframes
from core import model as m
from core.crs import WGS84, metric_crs_for_departement
from core.model import filter_incidents
from core.settings import SETTINGS
from core.vocabulary import OFFENCES, OTHER_OFFENCE, PLACE_TYPES, PUBLIC_PLACES
from geo.candidates import MAX_LATTICE_SITES
from rendering.exports import csv_bytes_from_frame, geojson_bytes_from_frame
from rendering.formatting import filter_description, fmt_count, fmt_number, fmt_share
from rendering.maps import area_drawing_map, siting_map
from rendering.siting_report import SitingSheet, method_notes_markdown, pdf_sheet_from_sites, siting_map_png
from rendering.tables import site_table_from_sites
from ui.columns import column_config_from_frame
from ui.context import (
    Context,
    current_context,
    dataset_or_notice,
    display_geometry,
    guarded,
    lattice_near_demand,
    md_escape,
    priority_zones,
    sites_from_upload,
)

SOURCES = {
    "maillage": "Maillage régulier",
    "routes": "Réseau routier (carrefours, grands axes)",
    "points": "Liste de points",
}
AREAS = {
    "departement": "Tout le département",
    "commune": "Une commune",
    "zones": "Zones prioritaires",
    "dessin": "Secteur dessiné sur la carte",
}


def _digest(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else repr(part).encode())
    return h.hexdigest()


def _area(ctx: Context, communes: gpd.GeoDataFrame) -> tuple[shapely.Geometry | None, gpd.GeoDataFrame, str]:
    """Study area (metric geometry, None for the whole département), its communes, a label."""
    c1, c2 = st.columns(2)
    kind = c1.radio("Secteur étudié", list(AREAS), format_func=AREAS.get, key="v_area_kind")
    if kind == "departement":
        return None, communes, "departement"
    if kind == "commune":
        names = dict(zip(communes["code"], communes["nom"], strict=True))
        code = c2.selectbox(
            "Commune", list(names), format_func=lambda k: f"{names[k]} ({k})", key="v_area_commune"
        )
        one = communes[communes["code"] == code]
        return shapely.union_all(one.geometry.to_numpy()), one, f"commune:{code}"
    if kind == "zones":
        zones = priority_zones(
            ctx.store_kind, ctx.dataset.slug, ctx.dataset.imported_at, ctx.departement, ctx.flt
        ).to_crs(communes.crs)
        if zones.empty:
            st.info(
                "Aucune zone prioritaire sur la période et les filtres de la barre latérale : "
                "élargissez-les ou choisissez un autre secteur."
            )
            st.stop()
        c2.caption(
            f"{len(zones)} zone(s) prioritaire(s) détectée(s) sur la période de la barre latérale "
            "(réglages par défaut de la page « Zones prioritaires »)."
        )
        area = shapely.union_all(zones.geometry.to_numpy())
        return area, communes[communes.intersects(area)], f"zones:{_digest(area.wkb)}"
    c2.caption("Dessinez un ou plusieurs polygones ou rectangles, puis cliquez sur « Calculer ».")
    drawn = st_folium(
        area_drawing_map(ctx.communes.total_bounds, display_geometry(ctx.departement), base=ctx.base_map),
        key="v_draw",
        returned_objects=["all_drawings"],
        height=420,
        use_container_width=True,
    )
    shapes = [
        shapely.geometry.shape(f["geometry"])
        for f in (drawn or {}).get("all_drawings") or []
        if f and f.get("geometry", {}).get("type") in ("Polygon", "MultiPolygon")
    ]
    if not shapes:
        st.info("Aucun secteur dessiné : tracez un polygone sur la carte ci-dessus.")
        st.stop()
    area = gpd.GeoSeries([shapely.union_all(shapes)], crs=WGS84).to_crs(communes.crs).iloc[0]
    inside = communes[communes.intersects(area)]
    if inside.empty:
        st.warning("Le secteur dessiné est hors du département : tracez-le sur le territoire.")
        st.stop()
    return area, inside, f"dessin:{area.wkb_hex}"


def _candidates(
    territory: gpd.GeoDataFrame, area_key: str, crs: str, demand_xy: np.ndarray, radius: float
) -> tuple[gpd.GeoDataFrame, str]:
    source = st.radio(
        "Sites candidats", list(SOURCES), format_func=SOURCES.get, horizontal=True, key="v_source"
    )
    if source == "maillage":
        spacing = st.number_input(
            "Espacement du maillage (m)",
            25.0,
            2000.0,
            100.0,
            25.0,
            key="v_spacing",
            help="Seuls les nœuds à moins du rayon de couverture d'un fait sont candidats : "
            "une caméra ailleurs ne verrait rien.",
        )
        lattice = lattice_near_demand(
            area_key, territory, demand_xy, float(spacing), radius, MAX_LATTICE_SITES
        )
        used = lattice.attrs["espacement"]
        if used > spacing + 1e-6:
            st.caption(
                f"Espacement porté à {used:.0f} m : au plus {fmt_count(MAX_LATTICE_SITES)} sites candidats "
                "sur ce secteur."
            )
        if used > radius * np.sqrt(2):
            st.caption(
                f"Avec un espacement de {used:.0f} m et un rayon de {radius:.0f} m, certains faits n'ont "
                "aucun site candidat assez proche : réduisez le secteur ou augmentez le rayon."
            )
        return lattice, f"maillage:{used:.1f}"
    up = st.file_uploader(
        "Réseau routier (GeoJSON, GeoPackage)" if source == "routes" else "Points candidats (CSV, GeoJSON…)",
        type=["geojson", "json", "gpkg"]
        if source == "routes"
        else ["csv", "geojson", "json", "gpkg", "parquet"],
        key=f"v_up_{source}",
    )
    if up is None:
        st.info("Chargez un fichier pour continuer, ou choisissez le maillage régulier.")
        st.stop()
    digest = _digest(up.getvalue())
    sites, rejected = sites_from_upload(digest, up.name, crs, source == "routes", up.getvalue())
    if len(rejected):
        st.warning(f"{len(rejected)} ligne(s) rejetée(s) dans « {md_escape(up.name)} » :")
        st.dataframe(rejected, hide_index=True)
    return sites, f"{source}:{digest}"


def _existing(crs: str) -> tuple[gpd.GeoDataFrame | None, str]:
    up = st.file_uploader(
        "Caméras existantes (facultatif : CSV, GeoJSON…)",
        type=["csv", "geojson", "json", "gpkg", "parquet"],
        key="v_existing",
    )
    if up is None:
        return None, "-"
    digest = _digest(up.getvalue())
    sites, rejected = sites_from_upload(digest, up.name, crs, False, up.getvalue())
    if len(rejected):
        st.warning(f"{len(rejected)} caméra(s) existante(s) rejetée(s) dans « {md_escape(up.name)} » :")
        st.dataframe(rejected, hide_index=True)
    return sites, digest


def _area_label(area_sig: str, territory: gpd.GeoDataFrame) -> str:
    kind = area_sig.split(":")[0]
    if kind == "commune":
        return f"commune de {territory['nom'].iloc[0]} ({territory['code'].iloc[0]})"
    return AREAS[kind].lower()


def _sheet_pdf(
    ctx: Context, out: dict, table: pd.DataFrame, published: gpd.GeoDataFrame, communes: gpd.GeoDataFrame
) -> bytes:
    res = out["res"]
    figures = [
        ("Demande couverte", f"{fmt_share(res.share)} ({fmt_number(res.objective, 0)} pondérée)"),
        ("Faits couverts", f"{_covered_label(res.n_covered)} sur {fmt_count(out['n_demand'])}"),
        ("Nouvelles caméras", fmt_count(int((published["statut"] == "nouvelle").sum()))),
        ("Méthode", res.method),
        (
            "Qualité de la solution",
            res.status + ("" if res.gap is None else f" ; écart prouvé {res.gap:.2%}".replace(".", ",")),
        ),
    ]
    png = siting_map_png(published, communes, radius=out["radius"], area=out["area"])
    sheet = SitingSheet(
        territory=f"{ctx.departement_nom} ({ctx.departement})",
        area=dict(out["params"]).get("Secteur", ""),
        dataset=ctx.dataset.name,
        synthetic=ctx.dataset.synthetic,
        parameters=out["params"],
        figures=figures,
        map_png=png,
    )
    return pdf_sheet_from_sites(table, sheet)


def _covered_label(n: int) -> str:
    return "secret" if 0 < n <= SETTINGS.privacy_threshold else fmt_count(n)


def _results(ctx: Context, out: dict, communes: gpd.GeoDataFrame) -> None:
    res, sites, curve, radius = out["res"], out["sites"], out["curve"], out["radius"]
    k1, k2, k3, k4 = st.columns(4)
    covered = _covered_label(res.n_covered) if ctx.public_view else fmt_count(res.n_covered)
    k1.metric(
        "Demande couverte",
        f"{res.share:.0%}",
        f"{covered} faits sur {fmt_count(out['n_demand'])} (pondérés : {fmt_number(res.objective, 0)})",
        delta_color="off",
        delta_arrow="off",
    )
    n_new = int((sites["statut"] == "nouvelle").sum())
    k2.metric("Nouvelles caméras", n_new)
    asked = out.get("p")
    if asked is not None and n_new < asked:
        st.info(
            f"{n_new} caméra(s) suffisent : au-delà, aucun site candidat ne couvre de fait supplémentaire "
            f"(les {asked - n_new} autre(s) n'ajouteraient rien). Pour aller plus loin, élargissez le "
            "secteur, les lieux ou la période, ou augmentez le rayon."
        )
    if res.method == "couverture minimale":
        k3.metric(
            "Nombre minimal de caméras",
            "prouvé" if res.status in ("optimal", "déjà atteinte") else "non prouvé",
            res.status,
            delta_color="off",
            delta_arrow="off",
            help="Prouvé : aucune solution avec une caméra de moins n'atteint la couverture visée.",
        )
    else:
        k3.metric(
            "Écart d'optimalité prouvé",
            "–" if res.gap is None else f"{res.gap:.2%}".replace(".", ","),
            res.status,
            delta_color="off",
            delta_arrow="off",
            help="(borne prouvée − solution) / borne prouvée : 0 % signifie que la solution est optimale.",
        )
    k4.metric(
        "Temps de calcul",
        f"{res.seconds:.1f} s".replace(".", ","),
        res.method,
        delta_color="off",
        delta_arrow="off",
    )
    published = published_sites(sites)
    w84 = (published if ctx.public_view else sites).to_crs(WGS84)
    area = out["area"]
    bounds = (
        gpd.GeoSeries([area], crs=communes.crs).to_crs(WGS84).total_bounds
        if area is not None
        else communes.to_crs(WGS84).total_bounds
    )
    area84 = gpd.GeoSeries([area], crs=communes.crs).to_crs(WGS84) if area is not None else None
    fmap = siting_map(
        w84,
        radius=radius,
        bounds=bounds,
        base=ctx.base_map,
        area=area84,
        display_geometry=display_geometry(ctx.departement),
    )
    st_folium(fmap, key="v_map", returned_objects=[], height=520, use_container_width=True)
    st.caption(
        "Les faits eux-mêmes ne sont jamais affichés (données sensibles) : la couverture est donnée en "
        "nombre de faits et par site (gain marginal)."
    )

    st.subheader("Courbe de couverture")
    curve_df = published_curve(curve) if ctx.public_view else curve
    if len(curve_df) < len(curve):
        st.caption(
            f"Courbe arrêtée avant {len(curve_df)} nouvelle(s) caméra(s) : à ce pas, une caméra ajoute "
            f"de 1 à {SETTINGS.privacy_threshold} faits (secret statistique de la vue diffusable)."
        )
    st.altair_chart(
        alt.Chart(curve_df)
        .mark_line(point=True, color="#000091")
        .encode(
            x=alt.X("cameras:Q", title="nouvelles caméras"),
            y=alt.Y("couverture:Q", axis=alt.Axis(format="%"), title="demande couverte"),
            tooltip=["cameras:Q", alt.Tooltip("couverture:Q", format=".1%")],
        ),
        width="stretch",
    )
    raw = site_table_from_sites(sites, communes)
    table = site_table_from_sites(published, communes)  # exports always apply the secrecy rule
    st.subheader("Sites retenus")
    st.dataframe(
        table if ctx.public_view else raw,
        hide_index=True,
        column_config=column_config_from_frame(
            table,
            faits=st.column_config.Column(
                "Faits ajoutés",
                help="Faits que le site couvre en plus des sites mieux classés (lignes « existante » : "
                "faits couverts par l'ensemble des caméras existantes).",
            ),
            gain_pondere=st.column_config.Column(
                "Gain pondéré", help="Demande pondérée que le site ajoute aux précédents."
            ),
            couverture_cumulee=st.column_config.Column(
                "Couverture cumulée", help="Part de la demande pondérée couverte jusqu'à ce rang."
            ),
            longitude=st.column_config.NumberColumn("Longitude (WGS84)", format="%.6f"),
            latitude=st.column_config.NumberColumn("Latitude (WGS84)", format="%.6f"),
            x_lambert93=st.column_config.NumberColumn("X Lambert-93 (m)", format="%.1f"),
            y_lambert93=st.column_config.NumberColumn("Y Lambert-93 (m)", format="%.1f"),
        ),
    )
    e0, e1, e2 = st.columns(3)
    e0.download_button(
        "Fiche pour le maire (PDF)",
        data=lambda: _sheet_pdf(ctx, out, table, published, communes),
        file_name="videoprotection.pdf",
        mime="application/pdf",
        type="primary",
        on_click="ignore",
        key="v_pdf",
        help="Paramètres, résultat, carte des emplacements, liste des sites et méthode ; secret "
        "statistique appliqué.",
    )
    e1.download_button("Sites (CSV)", csv_bytes_from_frame(table), "sites_videoprotection.csv", "text/csv")
    e2.download_button(
        "Sites (GeoJSON)",
        geojson_bytes_from_frame(table, w84.geometry),
        "sites_videoprotection.geojson",
        "application/geo+json",
    )
    with st.expander("Méthode et limites"):
        st.markdown(method_notes_markdown())


def body() -> None:
    ctx: Context = current_context()
    st.title(f"Vidéoprotection — {ctx.departement_nom}")
    if not dataset_or_notice(ctx):
        return
    crs = metric_crs_for_departement(ctx.departement)
    communes = ctx.communes.to_crs(crs)
    area, territory, area_sig = _area(ctx, communes)
    places = st.multiselect(
        "Lieux visibles par une caméra", list(PLACE_TYPES), default=list(PUBLIC_PLACES), key="v_places"
    )
    sel = filter_incidents(ctx.incidents, ctx.flt)
    sel = sel[sel[m.PLACE].isin(places) & sel[m.COMMUNE].isin(territory["code"])].to_crs(crs)
    if area is not None:
        sel = sel[shapely.contains_xy(area, sel.geometry.x.to_numpy(), sel.geometry.y.to_numpy())]
    with st.expander("Poids des infractions"):
        weights = st.data_editor(
            pd.DataFrame({"infraction": [*OFFENCES, OTHER_OFFENCE], "poids": 1.0}),
            hide_index=True,
            disabled=["infraction"],
            column_config={"poids": st.column_config.NumberColumn(min_value=0.0, step=0.5, required=True)},
            key="v_weights",
        )
    poids = pd.to_numeric(weights["poids"], errors="coerce")
    bad = weights.loc[~(poids >= 0), "infraction"].tolist()  # NaN (emptied cell) or negative
    if bad:
        st.error(
            f"Poids manquant ou négatif pour : {md_escape(', '.join(bad))}. Saisissez un nombre positif "
            "ou nul (0 : l'infraction ne compte pas)."
        )
        st.stop()
    wmap = dict(zip(weights["infraction"], poids.astype(float), strict=True))
    w = sel[m.OFFENCE].astype(object).map(wmap).fillna(1.0).to_numpy()
    d1, d2, d3, d4 = st.columns(4)
    radius = float(d1.number_input("Rayon de couverture (m)", 10.0, 1000.0, 150.0, 10.0, key="v_radius"))
    lattice_area = territory
    if area is not None:
        inside = shapely.intersection(area, shapely.union_all(territory.geometry.to_numpy()))
        lattice_area = gpd.GeoDataFrame(geometry=[inside], crs=crs)
    demand_xy = np.column_stack([sel.geometry.x.to_numpy(), sel.geometry.y.to_numpy()])
    candidates, cand_sig = _candidates(lattice_area, f"{ctx.departement}|{area_sig}", crs, demand_xy, radius)
    if area is not None and len(candidates):
        # A camera just outside the area still sees into it.
        reach = shapely.buffer(area, radius)
        candidates = candidates[shapely.contains_xy(reach, candidates.geometry.x, candidates.geometry.y)]
    existing, exist_sig = _existing(crs)
    mode = d2.radio(
        "Objectif",
        ["budget", "cible"],
        format_func={"budget": "Nombre de caméras", "cible": "Couverture visée"}.get,
        key="v_mode",
    )
    if mode == "budget":
        p, target = int(d3.number_input("Nouvelles caméras", 1, 500, 10, key="v_p")), None
    else:
        p, target = (
            None,
            float(d3.slider("Part de la demande à couvrir", 0.05, 1.0, 0.5, 0.05, key="v_target")),
        )
    limit = float(d4.number_input("Temps de calcul maximal (s)", 2.0, 300.0, 20.0, 1.0, key="v_limit"))
    st.caption(
        f"{fmt_count(len(sel))} faits dans des lieux visibles sur le secteur ; "
        f"{fmt_count(len(candidates))} sites candidats"
        + (f" ; {fmt_count(len(existing))} caméras existantes." if existing is not None else ".")
    )
    if len(sel) == 0 or len(candidates) == 0:
        st.info(
            "Pas de faits visibles ou pas de sites candidats : élargissez la période, les lieux ou le secteur."
        )
        return
    sig = _digest(
        ctx.dataset.slug,
        ctx.dataset.imported_at,
        ctx.flt,
        area_sig,
        tuple(places),
        tuple(sorted(wmap.items())),
        cand_sig,
        exist_sig,
        radius,
        mode,
        p,
        target,
        limit,
    )
    ss = st.session_state
    if st.button("Calculer les emplacements", type="primary", key="v_go"):
        with st.spinner("Optimisation des emplacements…"):
            res, sites, curve = sites_from_geodataframes(
                sel, w, candidates, existing=existing, radius=radius, p=p, target=target, time_limit=limit
            )
        changed = {k: v for k, v in wmap.items() if v != 1.0}
        params = [
            ("Secteur", _area_label(area_sig, territory)),
            ("Lieux visibles", ", ".join(places)),
            ("Période et filtres", filter_description(ctx.flt)),
            ("Rayon de couverture", f"{radius:.0f} m"),
            (
                "Objectif",
                f"{p} nouvelles caméras" if mode == "budget" else f"couvrir {target:.0%} de la demande",
            ),
            ("Sites candidats", f"{fmt_count(len(candidates))} ({SOURCES[cand_sig.split(':')[0]]})"),
            ("Caméras existantes", fmt_count(0 if existing is None else len(existing))),
            (
                "Poids des infractions",
                "; ".join(f"{k} : {fmt_number(v, 1)}" for k, v in changed.items()) or "tous égaux à 1",
            ),
        ]
        ss["v_result"] = {
            "p": p,
            "params": [(a, b) for a, b in params if b],
            "sig": sig,
            "res": res,
            "sites": sites,
            "curve": curve,
            "radius": radius,
            "area": area,
            "n_demand": len(sel),
        }
    out = ss.get("v_result")
    if out is None:
        st.info("Réglez les paramètres puis cliquez sur « Calculer les emplacements ».")
        return
    if out["sig"] != sig:
        st.warning(
            "Les paramètres ont changé depuis le dernier calcul : cliquez sur « Calculer les emplacements »."
        )
        return
    _results(ctx, out, communes)


guarded(body)
