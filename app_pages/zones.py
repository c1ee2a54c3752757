"""Zones prioritaires: hot spots and density clusters turned into ranked zones, evaluated."""

from __future__ import annotations

import io

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st
from pyproj import Transformer
from streamlit_folium import st_folium

from analysis.emerging import CATEGORIES, emerging_hotspots_from_points
from analysis.hotspots import grid_for_territory
from analysis.zones import (
    DEFAULT_SEVERITY,
    ZoneSettings,
    concentration_from_zones,
    published_zones,
)
from core.crs import WGS84, metric_crs_for_departement
from core.model import IncidentFilter, filter_incidents
from core.settings import SETTINGS
from rendering.exports import csv_bytes_from_frame, geojson_bytes_from_frame
from rendering.formatting import fmt_change, fmt_share
from rendering.maps import emerging_map, zones_map
from ui.columns import column_config_from_frame
from ui.context import Context, current_context, dataset_or_notice, display_geometry, guarded, zone_analysis

METHODS = {
    "local": "Excès local (disque contre anneau, Poisson + FDR)",
    "gi": "Points chauds Getis-Ord Gi* (FDR)",
    "dbscan": "Agrégats de densité DBSCAN",
    "hdbscan": "Agrégats de densité HDBSCAN",
}
CONFIDENCE = {3: "99 %", 2: "95 %", 1: "90 %"}


def _settings() -> tuple[ZoneSettings, dict[str, float], float | None]:
    with st.expander("Méthode et paramètres", expanded=False):
        c1, c2, c3 = st.columns(3)
        method = c1.selectbox("Méthode", list(METHODS), format_func=METHODS.get, key="z_method")
        cell = c2.number_input("Maille (m)", 50.0, 1000.0, 100.0, 25.0, key="z_cell")
        band = c3.number_input("Distance de voisinage Gi* (m)", 100.0, 3000.0, 450.0, 50.0, key="z_band")
        c4, c5, c6 = st.columns(3)
        conf = c4.selectbox("Confiance Gi*", list(CONFIDENCE), format_func=CONFIDENCE.get, key="z_conf")
        eps = c5.number_input("Rayon DBSCAN (m)", 50.0, 2000.0, 200.0, 25.0, key="z_eps")
        min_samples = c6.number_input("Faits minimum par noyau DBSCAN", 2, 500, 25, key="z_min_samples")
        l1, l2, l3 = st.columns(3)
        inner = l1.number_input("Excès local : rayon du disque (m)", 50.0, 2000.0, 250.0, 25.0, key="z_inner")
        outer = l2.number_input(
            "Excès local : rayon de l'anneau (m)", 100.0, 5000.0, 1000.0, 50.0, key="z_outer"
        )
        ratio = l3.number_input(
            "Excès local : rapport minimal observé / attendu", 1.0, 20.0, 2.0, 0.5, key="z_ratio"
        )
        c7, c8 = st.columns(2)
        min_incidents = c7.number_input("Faits minimum par zone", 6, 1000, 20, key="z_min")
        bw = c8.number_input(
            "Largeur de bande de la densité (m, 0 = automatique)", 0.0, 3000.0, 0.0, 25.0, key="z_bw"
        )
        st.caption("Poids de gravité des infractions dans le score (modifiables) :")
        weights = st.data_editor(
            pd.DataFrame({"infraction": list(DEFAULT_SEVERITY), "poids": list(DEFAULT_SEVERITY.values())}),
            hide_index=True,
            disabled=["infraction"],
            key="z_weights",
        )
    settings = ZoneSettings(
        method=method,
        cell=float(cell),
        band=float(band),
        confidence=int(conf),
        eps=float(eps),
        min_samples=int(min_samples),
        min_incidents=int(min_incidents),
        local_inner=float(inner),
        local_outer=float(max(outer, inner + cell)),
        min_ratio=float(ratio),
    )
    return (
        settings,
        dict(zip(weights["infraction"], weights["poids"].astype(float), strict=True)),
        (float(bw) or None),
    )


def _emerging_section(ctx: Context, crs: str, settings: ZoneSettings) -> None:
    flt = ctx.flt
    other = IncidentFilter(offences=flt.offences, places=flt.places, forces=flt.forces)
    incidents = filter_incidents(ctx.incidents, other).to_crs(crs)
    territory = ctx.communes.to_crs(crs)
    c1, c2 = st.columns(2)
    freq = c1.selectbox(
        "Pas de temps", ["QS", "MS"], format_func={"QS": "Trimestre", "MS": "Mois"}.get, key="e_freq"
    )
    c2.caption(f"Maille {settings.cell:.0f} m, voisinage {settings.band:.0f} m (paramètres ci-dessus).")
    pts = incidents[incidents.geometry.notna() & ~incidents.geometry.is_empty]
    area = shapely.union_all(territory.geometry.to_numpy())
    grid = grid_for_territory(area, settings.cell)
    res = emerging_hotspots_from_points(
        pts.geometry.x.to_numpy(),
        pts.geometry.y.to_numpy(),
        pts["date_debut"],
        grid,
        band=settings.band,
        freq=freq,
    )
    cells = gpd.GeoDataFrame(res, geometry=grid.polygons(), crs=territory.crs).to_crs(WGS84)
    counts = res["categorie"].value_counts().reindex([c for c in CATEGORIES if c != "aucun"], fill_value=0)
    st.dataframe(pd.DataFrame({"catégorie": counts.index, "cellules": counts.to_numpy()}), hide_index=True)
    st_folium(
        emerging_map(cells, display_geometry(ctx.departement), base=ctx.base_map),
        key="emerging_map",
        returned_objects=[],
        height=480,
        use_container_width=True,
    )
    st.caption(
        "Définitions d'ArcGIS « Emerging Hot Spot Analysis » ; tendance : test de Mann-Kendall sur les z de Gi*."
    )


def _zone_columns(table: pd.DataFrame) -> dict[str, object]:
    """French headers and formats of the zone table's columns."""
    num = st.column_config.NumberColumn
    offences = {c: st.column_config.Column(c[2:]) for c in table.columns if c.startswith("n_")}
    return column_config_from_frame(
        table,
        id=st.column_config.TextColumn("Zone"),
        score=num("Score", format="%.1f", help="Faits pondérés par la gravité des infractions."),
        superficie_km2=num("Superficie (km²)", format="%.2f"),
        part_faits=num("Part des faits", format="percent"),
        part_superficie=num("Part du territoire (%)", format="%.3f"),
        faits_periode_precedente=st.column_config.Column("Faits, période précédente"),
        evolution=st.column_config.TextColumn("Évolution", help="Par rapport à la période précédente."),
        **offences,
    )


def body() -> None:
    ctx: Context = current_context()
    st.title(f"Zones prioritaires — {ctx.departement_nom}")
    if not dataset_or_notice(ctx):
        return
    settings, severity, bandwidth = _settings()
    crs = metric_crs_for_departement(ctx.departement)
    flt = ctx.flt
    res, n_truth = zone_analysis(
        ctx.store_kind,
        ctx.dataset.slug,
        ctx.dataset.imported_at,
        ctx.departement,
        flt,
        settings,
        tuple(severity.items()),
        bandwidth,
    )
    zones = res.zones
    if zones.empty:
        st.info(
            "Aucune zone ne ressort sur cette période avec ces paramètres : aucun secteur ne dépasse "
            "nettement son environnement. Élargissez la période ou essayez la méthode Gi* (qui fait "
            "aussi ressortir les centres urbains denses)."
        )
    share_inc, share_area = concentration_from_zones(zones)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Zones", len(zones))
    c2.metric(
        "Concentration",
        f"{fmt_share(share_inc)} des faits",
        f"sur {fmt_share(share_area)} du territoire",
        delta_color="off",
        delta_arrow="off",
    )
    if res.evaluation:
        c3.metric("Taux de réussite (période suivante)", f"{res.evaluation['taux_de_reussite']:.0%}")
        c4.metric("PAI (période suivante)", f"{res.evaluation['pai']:.1f}".replace(".", ","))
    else:
        c3.caption(
            f"Évaluation impossible : les données ne couvrent pas la période suivante ({res.next_period[0]:%d/%m/%Y} – {res.next_period[1]:%d/%m/%Y})."
        )
    if res.truth_scores is not None:
        st.caption(
            f"Contrôle sur les points chauds plantés dans les données synthétiques actifs sur la période "
            f"({n_truth}) : rappel {res.truth_scores['rappel']:.0%}, précision {res.truth_scores['precision']:.0%}."
        )
    w84 = zones.to_crs(WGS84)
    g = res.density_grid
    tr = Transformer.from_crs(crs, WGS84, always_xy=True)
    (w, e), (s, n) = tr.transform([g.x0, g.x0 + g.nx * g.cell], [g.y0, g.y0 + g.ny * g.cell])
    fmap = zones_map(w84, res.density, (w, s, e, n), display_geometry(ctx.departement), base=ctx.base_map)
    st_folium(fmap, key="zones_map", returned_objects=[], height=560, use_container_width=True)
    st.caption(
        "Densité en mètres (noyau gaussien) ; elle n'apparaît que là où au moins "
        f"{SETTINGS.privacy_threshold + 1} faits se concentrent (secret statistique)."
    )
    st.subheader("Points chauds émergents")
    if st.toggle(
        "Calculer les tendances sur tout le jeu de données (Gi* par pas de temps, Mann-Kendall)", key="e_on"
    ):
        _emerging_section(ctx, crs, settings)
    st.subheader("Zones classées")
    raw = pd.DataFrame(zones.drop(columns="geometry"))
    table = published_zones(raw)  # exports always apply the secrecy rule
    source = table if ctx.public_view else raw
    shown = source.assign(
        part_superficie=raw["part_superficie"] * 100.0,
        evolution=[v if isinstance(v, str) else fmt_change(v) for v in source["evolution"]],
    )
    st.dataframe(shown, hide_index=True, column_config=_zone_columns(raw))
    st.caption(
        "Les exports appliquent toujours le secret statistique (effectifs de 1 à "
        f"{SETTINGS.privacy_threshold} et ceux qui permettraient de les retrouver)"
        + ("." if ctx.public_view else " ; le tableau ci-dessus les montre (vue interne).")
    )
    st.subheader("Exports")
    e1, e2, e3 = st.columns(3)
    e1.download_button(
        "Zones (GeoJSON)",
        geojson_bytes_from_frame(table, w84.geometry),
        "zones.geojson",
        "application/geo+json",
    )
    e2.download_button("Zones (CSV)", csv_bytes_from_frame(table), "zones.csv", "text/csv")
    buf = io.BytesIO()
    as_text = {c: table[c].astype(str) for c in table.columns if table[c].dtype == object}
    gpd.GeoDataFrame(table.assign(**as_text), geometry=zones.geometry.to_numpy(), crs=crs).to_file(
        buf, driver="GPKG", layer="zones"
    )
    e3.download_button("Zones (GeoPackage)", buf.getvalue(), "zones.gpkg", "application/geopackage+sqlite3")


guarded(body)
