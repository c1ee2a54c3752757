"""Vidéoprotection: best camera sites for a budget, existing cameras kept."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from core.access import PUBLISH_PROPOSAL
from core.crs import metric_crs_for_departement
from core.escape import markdown_text
from core.formatting import MISSING
from core.settings import SETTINGS
from core.vocabulary import OFFENCES, OTHER_OFFENCE, PLACE_TYPES, PUBLIC_PLACES
from rendering import charts
from rendering.maps import area_drawing_map, siting_map
from rendering.siting_report import method_notes_markdown
from ui import cache
from ui.access import access_store, export_button
from ui.charts import show_chart
from ui.columns import show_metrics, site_columns
from ui.guard import guarded
from ui.inputs import CHOOSE_SEVERAL, choose_by_name
from ui.maps import show_map
from ui.sidebar import Context, current_context, dataset_or_notice
from ui.tables import show_table
from ui.uploads import file_uploader
from usecases import videoprotection as uc
from usecases.videoprotection import MAX_LATTICE_SITES


def _area(ctx: Context, communes) -> uc.StudyArea:
    c1, c2 = st.columns(2)
    kind = c1.radio("Secteur étudié", list(uc.AREAS), format_func=uc.AREAS.get, key="v_area_kind")
    if kind == "commune":
        names = dict(zip(communes["code"], communes["nom"], strict=True))
        code = choose_by_name(c2, "Commune", names, key="v_area_commune")
        return uc.study_area(communes, kind, commune=code)
    if kind == "zones":
        zones = cache.default_zones(ctx.selection)
        c2.caption(
            f"{len(zones)} zone(s) prioritaire(s) détectée(s) sur la période de la barre latérale "
            "(réglages par défaut de la page « Zones prioritaires »)."
        )
        return uc.study_area(communes, kind, zones=zones)
    drawn = None
    if kind == "dessin":
        c2.caption("Dessinez un ou plusieurs polygones ou rectangles, puis cliquez sur « Calculer ».")
        out = st_folium(
            area_drawing_map(
                ctx.communes.total_bounds, cache.display_geometry(ctx.departement), base=ctx.base_map
            ),
            key="v_draw",
            returned_objects=["all_drawings"],
            height=420,
            use_container_width=True,
        )
        drawn = (out or {}).get("all_drawings") or []
    return uc.study_area(communes, kind, drawn=drawn)


def _upload(label: str, types: list[str], key: str, crs: str, roads: bool):
    up = file_uploader(label, type=types, key=key)
    if up is None:
        return None, "-"
    read = cache.sites_from_upload(up, crs, roads)
    if len(read.rejected):
        st.warning(f"{len(read.rejected)} ligne(s) rejetée(s) dans « {markdown_text(up.name)} » :")
        show_table(st, read.rejected, hide_index=True)
    return read.sites, read.digest


def _candidates(ctx: Context, area: uc.StudyArea, crs: str, demand_xy, radius: float):
    sources = uc.candidate_sources(cache.street_index(ctx.departement) is not None)
    source = st.radio(
        "Sites candidats", list(sources), format_func=sources.get, horizontal=True, key="v_source"
    )
    if source == "reseau":
        st.caption(markdown_text(cache.road_network_sentence(ctx.departement)))
        sites = cache.network_candidates(ctx.departement)
        return sites, source, uc.candidates_key(source, digest=cache.road_stamp(ctx.departement))
    if source == "maillage":
        spacing = st.number_input(
            "Espacement du maillage (m)",
            25,
            2000,
            100,
            25,
            key="v_spacing",
            help="Seuls les nœuds à moins du rayon de couverture d'un fait sont candidats : une caméra ailleurs ne verrait rien.",
        )
        lattice = cache.lattice_near_demand(
            f"{ctx.departement}|{area.key}",
            area.lattice_territory(),
            demand_xy,
            float(spacing),
            radius,
            MAX_LATTICE_SITES,
        )
        for caption in uc.lattice_captions(
            lattice, spacing=float(spacing), radius=radius, max_sites=MAX_LATTICE_SITES
        ):
            st.caption(caption)
        return lattice, source, uc.candidates_key(source, spacing=lattice.attrs["espacement"])
    roads = source == "routes"
    sites, digest = _upload(
        "Réseau routier (GeoJSON, GeoPackage)" if roads else "Points candidats (CSV, GeoJSON…)",
        ["geojson", "json", "gpkg"]
        if roads
        else ["csv", "xlsx", "xls", "ods", "geojson", "json", "gpkg", "parquet"],
        f"v_up_{source}",
        crs,
        roads,
    )
    if sites is None:
        st.info("Chargez un fichier pour continuer, ou choisissez le maillage régulier.")
        st.stop()
    return sites, source, uc.candidates_key(source, digest=digest)


def _results(ctx: Context, run: uc.SitingRun, communes) -> None:
    v = cache.siting_view(run.run_id, ctx.departement, ctx.audience, run)
    show_metrics(v.metrics)
    if run.asked is not None and v.n_new < run.asked:
        st.info(
            f"{v.n_new} caméra(s) suffisent : au-delà, aucun site candidat ne couvre de fait supplémentaire "
            f"(les {run.asked - v.n_new} autre(s) n'ajouteraient rien). Pour aller plus loin, élargissez le "
            "secteur, les lieux ou la période, ou augmentez le rayon."
        )
    for note in v.notes:
        st.caption(note)
    if v.technical:
        with st.expander("Détails du calcul"):
            for line in v.technical:
                st.caption(line)
    show_map(
        "v_map",
        siting_map,
        v.sites_wgs84,
        radius=run.radius,
        bounds=v.bounds,
        base=ctx.base_map,
        area=v.area_wgs84,
        display_geometry=cache.display_geometry(ctx.departement),
        streets=v.streets_wgs84,
        height=520,
    )
    if v.streets_wgs84 is not None:
        st.caption(markdown_text(cache.road_network_sentence(ctx.departement)))
    st.caption(
        "Les faits eux-mêmes ne sont jamais affichés (données sensibles) : la couverture est donnée en "
        "nombre de faits et par site (gain marginal)."
    )
    st.subheader("Courbe de couverture")
    if v.curve_cut:
        st.caption(
            f"Courbe arrêtée avant {len(v.curve)} nouvelle(s) caméra(s) : à ce pas, une caméra ajoute "
            f"de 1 à {SETTINGS.privacy_threshold} faits (secret statistique de la vue diffusable)."
        )
    show_chart(charts.coverage_from_curve, v.curve)
    st.subheader("Sites retenus")
    show_table(st, v.table, hide_index=True, column_config=site_columns(v.table))
    e0, e1, e2 = st.columns(3)
    export_button(
        e0,
        ctx.viewer,
        "Fiche pour le maire (PDF)",
        lambda: uc.mayor_sheet_pdf(
            run,
            communes,
            territory=f"{ctx.departement_nom} ({ctx.departement})",
            dataset_name=ctx.dataset.name,
            synthetic=ctx.dataset.synthetic,
            streets=cache.street_index(ctx.departement),
            streets_sentence=cache.road_network_sentence(ctx.departement),
        ),
        "videoprotection.pdf",
        "application/pdf",
        type="primary",
        key="v_pdf",
        help="Paramètres, résultat, carte des emplacements, liste des sites et méthode ; secret statistique appliqué.",
    )
    export_button(e1, ctx.viewer, "Sites (CSV)", v.export_csv, "sites_videoprotection.csv", "text/csv")
    export_button(
        e2,
        ctx.viewer,
        "Sites (GeoJSON)",
        v.export_geojson,
        "sites_videoprotection.geojson",
        "application/geo+json",
    )
    with st.expander("Méthode et limites"):
        st.markdown(method_notes_markdown())
    if ctx.viewer.can(PUBLISH_PROPOSAL):
        _publish(ctx, run, communes)


def _publish(ctx: Context, run, communes) -> None:
    """Publish the proposal (its published sheet) to the communes of the studied area."""
    st.subheader("Publier la proposition aux communes")
    names = dict(zip(run.area.communes["code"], run.area.communes["nom"], strict=True))
    chosen = st.multiselect(
        "Communes destinataires (leur maire verra la fiche dans « Ma commune »)",
        list(names),
        format_func=lambda k: f"{names[k]} ({k})",
        key="v_pub_communes",
        placeholder=CHOOSE_SEVERAL,
    )
    sure = st.checkbox(
        "Je confirme la publication (vue diffusable, secret statistique appliqué)", key="v_pub_sure"
    )
    if st.button("Publier", key="v_pub_go", disabled=not (chosen and sure)):
        sheet = uc.mayor_sheet_pdf(
            run,
            communes,
            territory=f"{ctx.departement_nom} ({ctx.departement})",
            dataset_name=ctx.dataset.name,
            synthetic=ctx.dataset.synthetic,
            streets=cache.street_index(ctx.departement),
            streets_sentence=cache.road_network_sentence(ctx.departement),
        )
        title = f"Vidéoprotection — {run.area.label}"
        access_store().publish_proposal(
            by=ctx.viewer, communes=chosen, title=title, parameters=run.params, sheet_pdf=sheet
        )
        st.success(f"Proposition publiée à {len(chosen)} commune(s).")


def body() -> None:
    ctx: Context = current_context()
    st.title(f"Vidéoprotection — {ctx.departement_nom}")
    if not dataset_or_notice(ctx):
        return
    crs = metric_crs_for_departement(ctx.departement)
    communes = cache.communes_metric(ctx.departement)
    area = _area(ctx, communes)
    places = st.multiselect(
        "Lieux visibles par une caméra",
        list(PLACE_TYPES),
        default=list(PUBLIC_PLACES),
        key="v_places",
        placeholder=CHOOSE_SEVERAL,
    )
    demand = cache.demand(ctx.selection, area.key, tuple(places), area)
    with st.expander("Poids des infractions"):
        table = st.data_editor(
            pd.DataFrame({"infraction": [*OFFENCES, OTHER_OFFENCE], "poids": 1.0}),
            hide_index=True,
            placeholder=MISSING,  # a missing cell: not « None »
            disabled=["infraction"],
            column_config={
                "poids": st.column_config.NumberColumn(
                    min_value=0.0, step=0.5, required=True, format="localized"
                )
            },
            key="v_weights",
        )
    weights = uc.weights_from_table(table)
    d1, d2, d3, d4 = st.columns(4)
    radius = float(d1.number_input("Rayon de couverture (m)", 10, 1000, 150, 10, key="v_radius"))
    candidates, source, cand_sig = _candidates(ctx, area, crs, uc.metric_xy(demand), radius)
    candidates = uc.candidates_in_reach(candidates, area, radius)
    existing, exist_sig = _upload(
        "Caméras existantes (facultatif : CSV, GeoJSON…)",
        ["csv", "xlsx", "xls", "ods", "geojson", "json", "gpkg", "parquet"],
        "v_existing",
        crs,
        False,
    )
    mode = d2.radio("Objectif", list(uc.MODES), format_func=uc.MODES.get, key="v_mode")
    if mode == "budget":
        p, target = int(d3.number_input("Nouvelles caméras", 1, 500, 10, key="v_p")), None
    else:
        p, target = (
            None,
            d3.slider("Part de la demande à couvrir", 5, 100, 50, 5, format="%d %%", key="v_target") / 100.0,
        )
    limit = 20.0
    with d4.popover("Options de calcul"):
        limit = float(
            st.number_input(
                "Temps de calcul maximal (s)",
                2,
                300,
                20,
                1,
                key="v_limit",
                help="Au-delà, le meilleur choix trouvé est retenu, avec son écart au meilleur possible.",
            )
        )
    st.caption(
        uc.demand_caption(
            len(demand), len(candidates), None if existing is None else len(existing), ctx.audience
        )
    )
    if len(demand) == 0 or len(candidates) == 0:
        st.info(
            "Pas de faits visibles ou pas de sites candidats : élargissez la période, les lieux ou le secteur."
        )
        return
    request = uc.SitingRequest(
        selection=ctx.selection,
        area_key=area.key,
        places=tuple(places),
        weights=tuple(sorted(weights.items())),
        source=source,
        candidates=cand_sig,
        existing=exist_sig,
        radius=radius,
        p=p,
        target=target,
        time_limit=limit,
    )
    if st.button("Calculer les emplacements", type="primary", key="v_go"):
        with st.spinner("Optimisation des emplacements…"):
            st.session_state["v_result"] = uc.siting_from_request(
                request, demand, candidates, existing=existing, area=area
            )
    run = st.session_state.get("v_result")
    if run is None:
        st.info("Réglez les paramètres puis cliquez sur « Calculer les emplacements ».")
    elif run.signature != request.signature:
        st.warning(
            "Les paramètres ont changé depuis le dernier calcul : cliquez sur « Calculer les emplacements »."
        )
    else:
        _results(ctx, run, communes)


guarded(body, page="videoprotection")
