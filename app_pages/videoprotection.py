"""Vidéoprotection: best camera sites for a budget, existing cameras kept."""

from __future__ import annotations

import altair as alt
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from analysis.diagnostic import filter_incidents
from analysis.siting import sites_from_geodataframes
from data import model as m
from data.vocabulary import OFFENCES, OTHER_OFFENCE, PLACE_TYPES, PUBLIC_PLACES
from geo.crs import WGS84, metric_crs_for_departement
from geo.exports import csv_bytes_from_frame, geojson_bytes_from_frame
from geo.maps import base_map
from geo.siting_io import candidates_from_lattice, candidates_from_roads, roads_from_bytes, sites_from_bytes
from ui.context import Context, current_context, dataset_or_notice, guarded, md_escape

MAX_LATTICE = 4000
SOURCES = {
    "maillage": "Maillage régulier",
    "routes": "Réseau routier (carrefours, grands axes)",
    "points": "Liste de points",
}


def _candidates(crs: str, territory: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    source = st.radio(
        "Sites candidats", list(SOURCES), format_func=SOURCES.get, horizontal=True, key="v_source"
    )
    if source == "maillage":
        spacing = st.number_input("Espacement du maillage (m)", 25.0, 2000.0, 100.0, 25.0, key="v_spacing")
        area_m2 = float(territory.area.sum())
        needed = float(np.sqrt(area_m2 / MAX_LATTICE))
        if needed > spacing:
            st.caption(
                f"Espacement porté à {needed:.0f} m : au plus {MAX_LATTICE} sites candidats sur ce secteur."
            )
            spacing = needed
        return candidates_from_lattice(territory, float(spacing))
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
    if source == "routes":
        return candidates_from_roads(roads_from_bytes(up.getvalue(), up.name).to_crs(crs))
    sites, rejected = sites_from_bytes(up.getvalue(), up.name, crs=crs)
    if len(rejected):
        st.warning(f"{len(rejected)} ligne(s) rejetée(s) dans « {md_escape(up.name)} ».")
        st.dataframe(rejected, hide_index=True)
    return sites


def body() -> None:
    ctx: Context = current_context()
    st.title(f"Vidéoprotection — {ctx.departement_nom}")
    if not dataset_or_notice(ctx):
        return
    crs = metric_crs_for_departement(ctx.departement)
    communes = ctx.communes.to_crs(crs)
    c1, c2 = st.columns(2)
    names = dict(zip(communes["code"], communes["nom"], strict=True))
    area = c1.selectbox(
        "Secteur",
        ["*", *names],
        format_func=lambda k: "Tout le département" if k == "*" else names[k],
        key="v_area",
    )
    places = c2.multiselect(
        "Lieux visibles par une caméra", list(PLACE_TYPES), default=list(PUBLIC_PLACES), key="v_places"
    )
    territory = communes if area == "*" else communes[communes["code"] == area]
    sel = filter_incidents(ctx.incidents, ctx.flt)
    sel = sel[sel[m.PLACE].isin(places) & sel[m.COMMUNE].isin(territory["code"])].to_crs(crs)
    with st.expander("Poids des infractions"):
        weights = st.data_editor(
            pd.DataFrame({"infraction": [*OFFENCES, OTHER_OFFENCE], "poids": 1.0}),
            hide_index=True,
            disabled=["infraction"],
            key="v_weights",
        )
    wmap = dict(zip(weights["infraction"], weights["poids"].astype(float), strict=True))
    w = sel[m.OFFENCE].astype(object).map(wmap).fillna(1.0).to_numpy()
    candidates = _candidates(crs, territory)
    up = st.file_uploader(
        "Caméras existantes (facultatif : CSV, GeoJSON…)",
        type=["csv", "geojson", "json", "gpkg", "parquet"],
        key="v_existing",
    )
    existing = sites_from_bytes(up.getvalue(), up.name, crs=crs)[0] if up is not None else None
    d1, d2, d3 = st.columns(3)
    radius = d1.number_input("Rayon de couverture (m)", 10.0, 1000.0, 150.0, 10.0, key="v_radius")
    mode = d2.radio(
        "Objectif",
        ["budget", "cible"],
        format_func={"budget": "Nombre de caméras", "cible": "Couverture visée"}.get,
        key="v_mode",
    )
    if mode == "budget":
        p = int(d3.number_input("Nouvelles caméras", 1, 500, 10, key="v_p"))
        target = None
    else:
        target = d3.slider("Part de la demande à couvrir", 0.05, 1.0, 0.5, 0.05, key="v_target")
        p = None
    st.caption(
        f"{len(sel)} faits dans des lieux visibles ; {len(candidates)} sites candidats"
        + (f" ; {len(existing)} caméras existantes." if existing is not None else ".")
    )
    if len(sel) == 0 or len(candidates) == 0:
        st.info(
            "Pas de faits visibles ou pas de sites candidats : élargissez la période, les lieux ou le secteur."
        )
        return
    res, sites, curve = sites_from_geodataframes(
        sel, w, candidates, existing=existing, radius=float(radius), p=p, target=target, time_limit=20.0
    )
    k1, k2, k3 = st.columns(3)
    k1.metric("Demande couverte", f"{res.share:.0%}")
    k2.metric("Nouvelles caméras", int((sites["statut"] == "nouvelle").sum()))
    k3.metric(
        "Écart d'optimalité prouvé",
        "–" if res.gap is None else f"{res.gap:.2%}".replace(".", ","),
        res.status,
        delta_color="off",
    )

    w84 = sites.to_crs(WGS84)
    fmap = base_map(territory.to_crs(WGS84).total_bounds, base=ctx.base_map)
    for r, g in zip(sites.itertuples(), w84.geometry, strict=True):
        colour = "#777777" if r.statut == "existante" else "#000091"
        label = "caméra existante" if r.statut == "existante" else f"site n° {r.rang}"
        folium.Circle(
            [g.y, g.x], radius=float(radius), color=colour, weight=1, fill=True, fill_opacity=0.12
        ).add_to(fmap)
        folium.CircleMarker(
            [g.y, g.x], radius=4, color=colour, fill=True, fill_opacity=1, tooltip=label
        ).add_to(fmap)
    st_folium(fmap, key="v_map", returned_objects=[], height=520, use_container_width=True)

    st.subheader("Courbe de couverture")
    curve_df = pd.DataFrame({"cameras": np.arange(len(curve)), "couverture": curve})
    st.altair_chart(
        alt.Chart(curve_df)
        .mark_line(point=True, color="#000091")
        .encode(
            x=alt.X("cameras:Q", title="nouvelles caméras"),
            y=alt.Y("couverture:Q", axis=alt.Axis(format="%")),
        ),
        width="stretch",
    )
    joined = gpd.sjoin(sites, communes[["nom", "geometry"]], how="left", predicate="within")
    table = pd.DataFrame(
        {
            "rang": sites["rang"].to_numpy(),
            "statut": sites["statut"].to_numpy(),
            "gain_pondere": sites["gain"].round(1).to_numpy(),
            "couverture_cumulee": sites["part_cumulee"].round(4).to_numpy(),
            "commune": joined["nom"].groupby(level=0).first().reindex(sites.index).to_numpy(),
            "longitude": w84.geometry.x.round(6).to_numpy(),
            "latitude": w84.geometry.y.round(6).to_numpy(),
            "x_lambert93": sites.to_crs("EPSG:2154").geometry.x.round(1).to_numpy(),
            "y_lambert93": sites.to_crs("EPSG:2154").geometry.y.round(1).to_numpy(),
        }
    )
    st.subheader("Sites retenus")
    st.dataframe(table, hide_index=True)
    e1, e2 = st.columns(2)
    e1.download_button("Sites (CSV)", csv_bytes_from_frame(table), "sites_videoprotection.csv", "text/csv")
    e2.download_button(
        "Sites (GeoJSON)",
        geojson_bytes_from_frame(table, w84.geometry),
        "sites_videoprotection.geojson",
        "application/geo+json",
    )


guarded(body)
