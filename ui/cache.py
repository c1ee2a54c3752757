"""Cached loaders and one-line ``st.cache_*`` wrappers over the use cases.

A wrapper's key is the sidebar's :class:`usecases.selection.Selection` (data set, département,
filter) and the page's own settings; loaded frames travel as underscore arguments (not
hashed). Nothing here decides anything: which store, which table, whether a truth applies
are the use cases' questions. Cached objects are shared between sessions: callers never
modify them.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from analysis.zone_detectors import ZoneSettings
from analysis.zones import ZoneAnalysis
from core.access import Viewer
from core.crs import WGS84, metric_crs_for_departement
from core.model import IncidentFilter
from core.privacy import Audience
from core.settings import SETTINGS
from data.store import DatasetInfo
from geo.communes import (
    cantons_for_departement,
    communes_for_departement,
    departement_outlines,
    departements_table,
    display_geometry_from_communes,
    geometry_by_group,
)
from geo.organisation import Organisation, area_keys_from_communes
from usecases import backtest as uc_backtest
from usecases import diagnostic as uc_diag
from usecases import diagnostic_levels as uc_levels
from usecases import hot_streets as uc_hot
from usecases import organisation as uc_org
from usecases import repeats as uc_repeats
from usecases import roads as uc_roads
from usecases import street_backtest as uc_street_bt
from usecases import suivi as uc_suivi
from usecases import videoprotection as uc_video
from usecases import zones as uc_zones
from usecases.france import FranceView, france_view
from usecases.ma_commune import CommuneSheet
from usecases.national import summary_stamp, summary_table
from usecases.packs import PackData
from usecases.selection import Selection, store_for


@st.cache_data(show_spinner=False)
def departements() -> pd.DataFrame:
    """Every département (code, name)."""
    return departements_table()


@st.cache_resource(show_spinner=False)
def france_outlines() -> gpd.GeoDataFrame:
    """The 101 départements' simplified outlines (shared, never mutated)."""
    return departement_outlines()


def national_results_stamp() -> str:
    """Changes whenever the national batch writes a département's summary (one ``stat`` each)."""
    return summary_stamp(SETTINGS.national_results_dir)


@st.cache_resource(show_spinner="Résultats du calcul national…", max_entries=2)
def national_summary(stamp: str) -> pd.DataFrame:
    """The national batch's summary rows (``stamp``: :func:`national_results_stamp`)."""
    return summary_table(SETTINGS.national_results_dir)


@st.cache_resource(show_spinner=False, max_entries=16)
def france(stamp: str, measure: str, viewer: Viewer) -> FranceView:
    """The France page's map and table for a viewer (see :func:`usecases.france.france_view`)."""
    return france_view(national_summary(stamp), france_outlines(), measure=measure, viewer=viewer)


@st.cache_resource(show_spinner="Chargement des communes…", max_entries=8)
def communes(dep: str) -> gpd.GeoDataFrame:
    """Communes of a département (shared, never mutated)."""
    return communes_for_departement(dep)


@st.cache_resource(show_spinner=False, max_entries=8)
def communes_metric(dep: str) -> gpd.GeoDataFrame:
    """Communes of a département in its metric CRS."""
    return communes(dep).to_crs(metric_crs_for_departement(dep))


@st.cache_resource(show_spinner=False, max_entries=8)
def display_geometry(dep: str) -> gpd.GeoSeries:
    """Simplified commune geometry of a département for maps."""
    return display_geometry_from_communes(communes(dep))


@st.cache_resource(show_spinner=False, max_entries=8)
def cantons(dep: str) -> gpd.GeoDataFrame:
    """Cantons of a département."""
    return cantons_for_departement(dep)


@st.cache_resource(show_spinner=False, max_entries=8)
def area_keys(dep: str) -> pd.DataFrame:
    """EPCI and canton of every commune, with their names (indexed like the communes)."""
    return area_keys_from_communes(communes(dep), cantons(dep))


@st.cache_resource(show_spinner=False, max_entries=16)
def group_display_geometry(dep: str, level: str) -> gpd.GeoSeries:
    """Outlines of the EPCI or cantons of a département for maps, indexed by their code: the
    simplified communes (a coverage) dissolved by group, so neighbouring groups meet exactly."""
    shown = gpd.GeoDataFrame(geometry=display_geometry(dep).to_numpy(), crs=WGS84)
    outlines = geometry_by_group(shown, area_keys(dep)[level])
    outlines.index = outlines.index.astype(str)
    return outlines


@st.cache_resource(show_spinner="Chargement du jeu de données…", max_entries=6)
def dataset(kind: str, slug: str, stamp: str) -> gpd.GeoDataFrame:
    """Incidents of a saved data set (``stamp`` invalidates the cache on re-import)."""
    return store_for(kind).load(slug)


def incidents(sel: Selection) -> gpd.GeoDataFrame:
    """Incidents of the selection's data set, whatever its filter (loaded once per version)."""
    return dataset(*sel.dataset_key)


@st.cache_resource(show_spinner=False, max_entries=4)
def _dataset_metric(kind: str, slug: str, stamp: str, dep: str) -> gpd.GeoDataFrame:
    return dataset(kind, slug, stamp).to_crs(metric_crs_for_departement(dep))


def incidents_metric(sel: Selection) -> gpd.GeoDataFrame:
    """The incidents of :func:`incidents` in the département's metric CRS, projected once per
    data set version: the zone use cases project what they read (``to_crs(crs)``), a no-op
    on these, where it was 0.8 s of the Nord's zone analysis on every new selection (the
    other columns are shared with :func:`incidents`, pandas copying on write only)."""
    return _dataset_metric(*sel.dataset_key, sel.departement)


@st.cache_resource(show_spinner="Chargement des statistiques…", max_entries=4)
def official_statistics(slug: str, stamp: str) -> pd.DataFrame:
    """A saved SSMSI table (``stamp`` invalidates the cache on re-import)."""
    return uc_diag.statistics_table(slug)


def statistics_list() -> list[DatasetInfo]:
    """Saved SSMSI tables, newest first."""
    return uc_diag.saved_statistics()


def statistics_key() -> str:
    """Identifier of the saved SSMSI tables (changes on import or deletion)."""
    return uc_diag.statistics_key(statistics_list())


@st.cache_resource(show_spinner=False, max_entries=8)
def dwellings(dep: str, key: str) -> pd.Series | None:
    """Dwellings per commune from the saved SSMSI tables (``key``: :func:`statistics_key`)."""
    saved = (official_statistics(i.slug, i.imported_at) for i in statistics_list())
    return uc_diag.dwellings_from_saved_statistics(communes(dep)["code"], saved)


@st.cache_resource(show_spinner="Organisation territoriale…", max_entries=8)
def _straight_organisation(dep: str, stamp: str, detour: float, speed_kmh: float) -> Organisation:
    return uc_org.organisation_from_store(
        dep, communes(dep), cantons(dep), detour=detour, speed_kmh=speed_kmh
    )


@st.cache_resource(show_spinner="Temps d'intervention par la route…", max_entries=8)
def _organisation_by_road(dep: str, stamp: str, detour: float, speed_kmh: float, roads: str):
    streets = street_index(dep)
    if streets is None:
        return None
    org = _straight_organisation(dep, stamp, detour, speed_kmh)
    return uc_org.organisation_by_road(org, communes(dep), streets, departement=dep)


def road_organisation(dep: str, stamp: str, detour: float, speed_kmh: float):
    """The organisation with its times by road and its isochrones, for the département's current
    network (None without one)."""
    return _organisation_by_road(dep, stamp, detour, speed_kmh, road_stamp(dep))


def organisation(dep: str, stamp: str, detour: float, speed_kmh: float) -> Organisation:
    """Organisation of a département: imported official files, else the indicative rule; times
    by road when the département has a network."""
    by_road = road_organisation(dep, stamp, detour, speed_kmh)
    return _straight_organisation(dep, stamp, detour, speed_kmh) if by_road is None else by_road.organisation


@st.cache_resource(show_spinner=False, max_entries=8)
def organisation_tables(
    dep: str,
    sel: Selection | None,
    org_stamp: str,
    detour: float,
    speed_kmh: float,
    audience: Audience,
) -> uc_org.OrganisationView:
    """Tables and exports of the Organisation page (``sel`` None: no data set)."""
    return uc_org.organisation_view(
        organisation(dep, org_stamp, detour, speed_kmh),
        incidents(sel) if sel is not None else None,
        communes(dep),
        cantons(dep),
        sel.flt if sel is not None else IncidentFilter(),
        departement=dep,
        audience=audience,
    )


# -- use cases ---------------------------------------------------------------------------
@st.cache_resource(show_spinner="Calcul du diagnostic…", max_entries=16)
def diagnostic(
    sel: Selection, method: str, audience: Audience, rate: str = "brut", statistics_key: str = ""
) -> uc_diag.DiagnosticView:
    """The Diagnostic page of a selection (see :func:`usecases.diagnostic.diagnostic_for_selection`).

    ``statistics_key`` (:func:`statistics_key`) changes when SSMSI tables are imported: their
    dwelling counts give burglary rates per 1,000 dwellings.
    """
    dep = sel.departement
    return uc_diag.diagnostic_for_selection(
        incidents(sel),
        communes(dep),
        sel.flt,
        keys=area_keys(dep),
        audience=audience,
        method=method,
        rate=rate,
        dwellings=dwellings(dep, statistics_key),
    )


@st.cache_resource(show_spinner=False, max_entries=32)
def ranking(
    sel: Selection,
    method: str,
    audience: Audience,
    level: str,
    rate: str = "brut",
    statistics_key: str = "",
) -> uc_diag.Ranking:
    """The Diagnostic's ranking at a level (switching level does not recompute the diagnostic)."""
    view = diagnostic(sel, method, audience, rate, statistics_key)
    dep = sel.departement
    return uc_diag.ranking_for_level(view, communes(dep), area_keys(dep), level, audience=audience)


@st.cache_resource(show_spinner=False, max_entries=32)
def level_map(
    sel: Selection,
    method: str,
    audience: Audience,
    level: str,
    rate: str = "brut",
    statistics_key: str = "",
) -> uc_levels.LevelMap:
    """The Diagnostic's map at the EPCI or canton level (see :func:`usecases.diagnostic_levels.level_map_for`)."""
    view = diagnostic(sel, method, audience, rate, statistics_key)
    dep = sel.departement
    return uc_levels.level_map_for(
        view,
        communes(dep),
        area_keys(dep),
        level,
        group_display_geometry(dep, level),
        audience=audience,
        method=method,
    )


@st.cache_resource(show_spinner=False, max_entries=16)
def official(slug: str, stamp: str, dep: str, indicator: str, year: int) -> uc_diag.OfficialView:
    """The Diagnostic on a saved SSMSI table (see :func:`usecases.diagnostic.official_for_selection`)."""
    return uc_diag.official_for_selection(
        official_statistics(slug, stamp), communes(dep), dep, indicator=indicator, year=year
    )


@st.cache_resource(show_spinner="Détection des zones prioritaires…", max_entries=8)
def default_zones(sel: Selection) -> gpd.GeoDataFrame:
    """Priority zones of a selection, default settings (metric CRS; may be empty)."""
    dep = sel.departement
    return uc_zones.default_zones_for_selection(
        incidents_metric(sel), communes_metric(dep), sel.flt, crs=metric_crs_for_departement(dep)
    )


@st.cache_resource(show_spinner="Calcul des zones…", max_entries=8)
def zones(
    sel: Selection,
    settings: ZoneSettings,
    severity: tuple[tuple[str, float], ...],
    bandwidth: float | None,
    audience: Audience,
) -> uc_zones.ZonesView:
    """The Zones page of the sidebar selection and the page's settings."""
    res, n_truth = _zone_analysis(sel, settings, severity, bandwidth)
    return uc_zones.zones_view(
        res, n_truth, crs=metric_crs_for_departement(sel.departement), audience=audience
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def _zone_analysis(
    sel: Selection,
    settings: ZoneSettings,
    severity: tuple[tuple[str, float], ...],
    bandwidth: float | None,
) -> tuple[ZoneAnalysis, int | None]:
    """The zone analysis (shared by both views: switching the view does not recompute it)."""
    return uc_zones.zone_analysis_for_selection(
        incidents_metric(sel),
        communes_metric(sel.departement),
        sel.flt,
        crs=metric_crs_for_departement(sel.departement),
        settings=settings,
        severity=dict(severity),
        bandwidth=bandwidth,
        truth=uc_zones.planted_truth(sel),
    )


@st.cache_resource(show_spinner="Rétro-évaluation des zones (fenêtres glissantes)…", max_entries=8)
def backtest(
    sel: Selection, settings: ZoneSettings, request: uc_backtest.BacktestRequest, audience: Audience
) -> uc_backtest.BacktestView:
    """The back-test of the selection's history, for an audience (pass ``sel.undated()``)."""
    table, curves, windows = _backtest_table(sel, uc_backtest.settings_of_the_table(settings), request)
    return uc_backtest.backtest_view(table, curves, windows, request=request, audience=audience)


@st.cache_resource(show_spinner="Rétro-évaluation par tronçon de rue…", max_entries=8)
def _street_backtest_table(sel: Selection, request: uc_backtest.BacktestRequest, roads: str):
    streets = street_index(sel.departement)
    if streets is None:
        return None
    return uc_street_bt.street_backtest_table(
        incidents(sel),
        sel.flt,
        streets,
        train_months=request.train_months,
        horizon_months=request.horizon_months,
        windows=request.windows,
    )


def street_backtest(
    sel: Selection, request: uc_backtest.BacktestRequest, audience: Audience
) -> uc_street_bt.StreetBacktestView | None:
    """The back-test by street segment (None without a network; pass ``sel.undated()``)."""
    table = _street_backtest_table(sel, request, road_stamp(sel.departement))
    if table is None:
        return None
    return uc_street_bt.street_backtest_view(table, audience=audience, horizon_months=request.horizon_months)


def report_backtest(sel: Selection) -> str:
    """The préfet's report's back-test sentence (published; the Suivi's two months -> the next
    two), or why there is none (see :func:`usecases.backtest.report_sentence`)."""
    view = backtest(sel.undated(), uc_zones.default_zone_settings(), uc_backtest.REPORT_REQUEST, Audience())
    return uc_backtest.report_sentence(view)


@st.cache_resource(show_spinner=False, max_entries=8)
def _backtest_table(sel: Selection, settings: ZoneSettings, request: uc_backtest.BacktestRequest):
    """The back-test's scores (shared by both views)."""
    dep = sel.departement
    return uc_backtest.backtest_table_for_selection(
        incidents_metric(sel),
        communes_metric(dep),
        sel.flt,
        crs=metric_crs_for_departement(dep),
        settings=settings,
        request=request,
    )


def pack_data(sel: Selection) -> PackData:
    """The département's published figures by commune and canton, computed once per data set
    and shared by every session, whatever the filter (see
    :func:`usecases.packs.pack_data_for_departement`)."""
    return _pack_data(sel.with_filter(IncidentFilter()))


@st.cache_resource(show_spinner="Chiffres diffusables des communes et cantons…", max_entries=8)
def _pack_data(sel: Selection) -> PackData:
    from usecases.packs import pack_data_for_departement

    dep = sel.departement
    return pack_data_for_departement(
        incidents(sel), communes(dep), area_keys(dep), departement=dep, crs=metric_crs_for_departement(dep)
    )


def commune_sheet(sel: Selection, code: str, viewer: Viewer) -> CommuneSheet:
    """« Ma commune » (see :func:`usecases.ma_commune.commune_sheet_for_viewer`), whatever the
    filter."""
    return _commune_sheet(sel.with_filter(IncidentFilter()), code, viewer)


@st.cache_resource(show_spinner="Fiche de la commune…", max_entries=64)
def _commune_sheet(sel: Selection, code: str, viewer: Viewer) -> CommuneSheet:
    from usecases.ma_commune import commune_sheet_for_viewer

    return commune_sheet_for_viewer(viewer, code, pack_data(sel), incidents(sel))


@st.cache_resource(show_spinner=False, max_entries=8)
def cell_count(dep: str) -> int:
    """100 m cells of the département (for the concentration shares)."""
    return uc_repeats.cell_count_for_communes(communes_metric(dep))


@st.cache_resource(show_spinner="Test de Knox (permutations des dates)…", max_entries=8)
def near_repeat(
    sel: Selection,
    offence: str,
    distances: tuple[float, ...],
    days: tuple[int, ...],
    permutations: int,
    metric: str,
    audience: Audience,
) -> uc_repeats.NearRepeatView:
    """Near-repeat table of one offence (see :func:`usecases.repeats.near_repeat_for_selection`)."""
    return uc_repeats.near_repeat_for_selection(
        incidents(sel),
        sel.flt,
        offence=offence,
        crs=metric_crs_for_departement(sel.departement),
        audience=audience,
        distances=distances,
        days=days,
        permutations=permutations,
        metric=metric,
    )


@st.cache_resource(show_spinner="Concentration sur les lieux…", max_entries=8)
def concentration(sel: Selection, audience: Audience) -> uc_repeats.ConcentrationView:
    """Concentration of the selection on places (see :func:`usecases.repeats.concentration_for_selection`)."""
    dep = sel.departement
    return uc_repeats.concentration_for_selection(
        incidents(sel),
        sel.flt,
        crs=metric_crs_for_departement(dep),
        n_cells=cell_count(dep),
        audience=audience,
    )


@st.cache_resource(show_spinner="Rues les plus touchées…", max_entries=4)
def _hot_streets(sel: Selection, audience: Audience, roads: str) -> uc_hot.HotStreetsView | None:
    streets = street_index(sel.departement)
    if streets is None:
        return None
    return uc_hot.hot_streets_for_selection(
        incidents(sel), sel.flt, streets, communes(sel.departement), audience=audience
    )


def hot_streets(sel: Selection, audience: Audience) -> uc_hot.HotStreetsView | None:
    """The selection's incidents on the département's streets (None without a network)."""
    return _hot_streets(sel, audience, road_stamp(sel.departement))


@st.cache_resource(show_spinner="Points chauds émergents…", max_entries=4)
def emerging(sel: Selection, settings: ZoneSettings, freq: str) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Emerging hot spots of the selection over the whole data set (pass ``sel.undated()``)."""
    dep = sel.departement
    return uc_zones.emerging_for_selection(
        incidents_metric(sel),
        communes(dep),
        sel.flt,
        crs=metric_crs_for_departement(dep),
        settings=settings,
        freq=freq,
    )


@st.cache_resource(show_spinner="Calcul du suivi…", max_entries=8)
def followup(sel: Selection, start: dt.date, end: dt.date) -> uc_suivi.SuiviData:
    """Follow-up of a period against its references, its zones and monthly series, gated
    (``sel`` undated: the references lie outside the sidebar's period)."""
    dep = sel.departement
    return uc_suivi.followup_for_selection(
        incidents(sel), communes(dep), sel.flt, start=start, end=end, crs=metric_crs_for_departement(dep)
    )


@st.cache_data(show_spinner="Lecture du fichier de sites…", max_entries=8)
def sites_from_upload(upload: UploadedFile, crs: str, roads: bool) -> uc_video.SitesFile:
    """Sites from an uploaded file, parsed once per file (Streamlit hashes its name and bytes)."""
    return uc_video.sites_from_file(upload.getvalue(), upload.name, crs=crs, roads=roads)


@st.cache_resource(show_spinner=False, max_entries=8)
def lattice_near_demand(
    area_key: str,
    _territory: gpd.GeoDataFrame,
    demand_xy: np.ndarray,
    spacing: float,
    radius: float,
    max_sites: int,
) -> gpd.GeoDataFrame:
    """Candidate lattice near the incidents, once per study area, demand and settings."""
    return uc_video.lattice_candidates(
        _territory, spacing, demand_xy=demand_xy, radius=radius, max_sites=max_sites
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def demand(sel: Selection, area_key: str, places: tuple[str, ...], _area) -> gpd.GeoDataFrame:
    """Incidents a camera could see in the study area (``area_key`` identifies ``_area``)."""
    return uc_video.demand_in_area(
        incidents(sel), sel.flt, _area, places=list(places), crs=metric_crs_for_departement(sel.departement)
    )


@st.cache_resource(show_spinner=False, max_entries=16)
def _siting_view(
    run_id: str, dep: str, audience: Audience, roads: str, _run: uc_video.SitingRun
) -> uc_video.SitingView:
    return uc_video.siting_view(_run, communes_metric(dep), audience=audience, streets=street_index(dep))


def siting_view(run_id: str, dep: str, audience: Audience, _run: uc_video.SitingRun) -> uc_video.SitingView:
    """What an audience sees of one optimisation (``run_id`` identifies ``_run``), named by the
    streets of the département's current network."""
    return _siting_view(run_id, dep, audience, road_stamp(dep), _run)


@st.cache_resource(show_spinner="Chargement du réseau routier…", max_entries=4)
def _street_index(dep: str, stamp: str):
    return uc_roads.street_index_for_departement(dep)


def road_stamp(dep: str) -> str:
    """Changes whenever the département's network does (read from the store's pointer)."""
    return uc_roads.road_network_stamp(dep)


def street_index(dep: str):
    """The département's streets (:class:`analysis.streets.StreetIndex`), or None without a
    network; reloaded when a network is imported."""
    return _street_index(dep, road_stamp(dep))


@st.cache_resource(show_spinner=False, max_entries=16)
def _road_network_sentence(dep: str, stamp: str) -> str:
    summary = uc_roads.road_network_summary(dep)
    return "" if summary is None else summary.sentence()


def road_network_sentence(dep: str) -> str:
    """What the département's network is (source, date, size), or an empty string (its
    manifest read once per network)."""
    return _road_network_sentence(dep, road_stamp(dep))


@st.cache_resource(show_spinner=False, max_entries=4)
def _network_candidates(dep: str, stamp: str) -> gpd.GeoDataFrame:
    return uc_video.network_candidates(street_index(dep))


def network_candidates(dep: str) -> gpd.GeoDataFrame:
    """Candidate camera sites on the département's network (crossings, main roads)."""
    return _network_candidates(dep, road_stamp(dep))
