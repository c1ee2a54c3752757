"""Organisation territoriale page: PN/GN zones, units, distances, tables by unit, EPCI and
canton, and the import of the three data.gouv.fr files.

In the published view, the counts per unit, EPCI and canton pass the privacy gate together
(they share the département total).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.organisation import counts_by_area, unit_statistics
from analysis.road_times import BANDS, ROAD, isochrones_from_units, road_times_for_assignment
from analysis.streets import StreetIndex
from core import model as m
from core.access import IMPORT, Viewer, departement_of_commune
from core.crs import metric_crs_for_departement
from core.formatting import fmt_count
from core.model import IncidentFilter, filter_incidents
from core.privacy import SECRET_LABEL, Audience, secret_mask_from_counts
from data.access import AccessStore
from data.locations import ORGANISATION_FILES, competence_store, units_store
from geo.communes import all_communes, population_points_from_communes
from geo.organisation import DEFAULT_DETOUR as DEFAULT_DETOUR  # for the pages
from geo.organisation import DEFAULT_SPEED_KMH as DEFAULT_SPEED_KMH
from geo.organisation import PN_TOWN_POPULATION as PN_TOWN_POPULATION
from geo.organisation import URBAN_DENSITY as URBAN_DENSITY
from geo.organisation import URBAN_MIN_POPULATION as URBAN_MIN_POPULATION
from geo.organisation import Organisation, canton_for_communes, organisation_for_departement
from readers.organisation import competence_from_bytes, gendarmerie_units_from_bytes, police_units_from_bytes
from rendering.exports import csv_bytes_from_frame, geojson_bytes_from_frame
from usecases.common import refusal


def organisation_stamp() -> str:
    """Changes whenever an organisation file is imported or deleted (cache key)."""
    stamps = []
    for slug in ORGANISATION_FILES:
        store = competence_store() if slug == "competence" else units_store()
        stamps.append(store.info(slug).imported_at if store.exists(slug) else "-")
    return "|".join(stamps)


def organisation_from_store(
    departement: str,
    communes: gpd.GeoDataFrame,
    cantons: gpd.GeoDataFrame,
    *,
    detour: float,
    speed_kmh: float,
) -> Organisation:
    """Organisation of a département: the imported official files, else the indicative rule."""
    units = []
    for slug in ("gendarmerie", "police"):
        if units_store().exists(slug):
            u = units_store().load(slug)
            units.append(u[u["commune"].isin(communes["code"])])
    unit_table = gpd.GeoDataFrame(pd.concat(units, ignore_index=True), crs="EPSG:4326") if units else None
    if unit_table is not None and unit_table.empty:
        unit_table = None
    comp = None
    if competence_store().exists("competence"):
        c = competence_store().load("competence")
        comp = c[c["code"].isin(communes["code"])]
        comp = comp if len(comp) else None
    return organisation_for_departement(
        communes, cantons, units=unit_table, competence=comp, detour=detour, speed_kmh=speed_kmh
    )


@dataclass(frozen=True)
class RoadOrganisation:
    """The organisation with its times by road, and the areas within 10/20/30 minutes of a unit."""

    organisation: Organisation
    isochrones: gpd.GeoDataFrame  # ``minutes``, EPSG:4326, nested
    by_road: int  # communes whose time is by road (the others keep the straight line)


def organisation_by_road(
    org: Organisation, communes: gpd.GeoDataFrame, streets: StreetIndex, *, departement: str
) -> RoadOrganisation:
    """Replace the straight-line times by times along the département's network, from each
    commune's unit to its town hall (:mod:`analysis.road_times`), and draw the isochrones."""
    crs = streets.roads.crs
    halls = population_points_from_communes(communes).to_crs(crs)
    hall_xy = np.column_stack([halls.x.to_numpy(), halls.y.to_numpy()])
    units = org.units.to_crs(crs)
    located = ~units.geometry.is_empty.to_numpy() & units.geometry.notna().to_numpy()
    units = units[located]
    unit_xy = np.column_stack([units.geometry.x.to_numpy(), units.geometry.y.to_numpy()])
    table = road_times_for_assignment(
        org.communes.loc[communes.index], units["id"].to_numpy(), unit_xy, hall_xy, streets.net
    )
    bounds = tuple(communes.to_crs(crs).total_bounds)
    bands = isochrones_from_units(streets.net, unit_xy, bounds)
    shapes = gpd.GeoDataFrame(bands[["minutes"]], geometry=bands["geometry"].to_numpy(), crs=crs).to_crs(
        "EPSG:4326"
    )
    return RoadOrganisation(
        Organisation(table, org.units, org.indicative), shapes, int((table["estimation"] == ROAD).sum())
    )


def time_caption(by_road: RoadOrganisation | None, network_sentence: str, communes: int) -> str:
    """Which estimate the page shows, in French."""
    if by_road is None:
        return "Temps estimé = distance à vol d'oiseau depuis le centre de population (mairie) × détour ÷ vitesse (pas de réseau routier pour ce département : importez-en un, page Données ou make roads)."
    rest = communes - by_road.by_road
    text = (
        f"Temps par la route : de l'unité de la commune à sa mairie, par le chemin le plus rapide du réseau "
        f"(vitesse de chaque tronçon), pour {fmt_count(by_road.by_road)} commune(s) ; isochrones "
        f"{' / '.join(str(b) for b in BANDS)} min depuis l'unité la plus proche. "
    )
    if rest:
        text += f"{fmt_count(rest)} commune(s) hors réseau gardent l'estimation à vol d'oiseau (colonne « estimation »). "
    return text + network_sentence


def loaded_files() -> list[str]:
    """Labels of the official organisation files imported so far."""
    return [
        label
        for slug, label in ORGANISATION_FILES.items()
        if (competence_store() if slug == "competence" else units_store()).exists(slug)
    ]


def _departements_of(table: pd.DataFrame, column: str) -> set[str]:
    return {departement_of_commune(c) for c in table[column].dropna().astype(str).unique()}


def import_organisation_file(
    slug: str, data: bytes, filename: str, *, viewer: Viewer, journal: AccessStore
) -> tuple[int, pd.DataFrame]:
    """Read and save one of the three files (audited); returns the rows saved and the report.

    The file applies to every département it names, and replaces the one saved before: the
    viewer's territory must cover every département of both (an administrator's does).

    Raises
    ------
    RefusedError
        Without the import capability, or with départements outside the territory (audited).
    """
    label = ORGANISATION_FILES[slug]
    store = competence_store() if slug == "competence" else units_store()
    column = "code" if slug == "competence" else "commune"
    if not viewer.can(IMPORT):
        raise refusal(journal, viewer, "import", filename, "votre rôle ne permet pas d'importer")
    if slug == "competence":
        result = competence_from_bytes(data, filename)
        table, report = result.table, result.report
    else:
        reader = gendarmerie_units_from_bytes if slug == "gendarmerie" else police_units_from_bytes
        result = reader(data, filename, communes_fr=all_communes())
        table, report = result.units, result.report
    deps = _departements_of(table, column)
    if store.exists(slug):
        deps |= _departements_of(store.load(slug), column)
    outside = sorted(d for d in deps if not viewer.may_see_departement(d))
    if outside:
        raise refusal(
            journal,
            viewer,
            "import",
            filename,
            f"ce fichier (ou celui qu'il remplace) couvre {len(outside)} département(s) hors de votre territoire "
            f"({', '.join(outside[:5])}{'…' if len(outside) > 5 else ''}) : seul un administrateur peut l'enregistrer",
        )
    with journal.audited(viewer, "import", filename, {"organisation": label, "lignes": len(table)}):
        store.save(table, name=label, source_file=filename, slug=slug, rejections=report, replace=True)
    return len(table), report


@dataclass
class OrganisationView:
    """Tables and exports of the Organisation page."""

    units: pd.DataFrame
    communes: pd.DataFrame
    epci: pd.DataFrame
    cantons: pd.DataFrame
    export_units_csv: bytes
    export_units_geojson: bytes
    export_communes_csv: bytes
    export_communes_geojson: bytes


def _masked(df: pd.DataFrame, hide: bool, cols: tuple[str, ...]) -> pd.DataFrame:
    out = df.copy()
    if hide and "secret" in out:
        for c in cols:
            out[c] = out[c].astype(object).where(~out["secret"].astype(bool), SECRET_LABEL)
    return out.drop(columns=["secret"], errors="ignore")


def organisation_view(
    org: Organisation,
    incidents: pd.DataFrame | None,
    communes: gpd.GeoDataFrame,
    cantons: gpd.GeoDataFrame,
    flt: IncidentFilter,
    *,
    departement: str,
    audience: Audience,
) -> OrganisationView:
    """Tables by unit, commune, EPCI and canton, for an audience (exports always published)."""
    sel = filter_incidents(incidents, flt) if incidents is not None else pd.DataFrame({m.COMMUNE: []})
    areas = communes.to_crs(metric_crs_for_departement(departement)).area / 1e6
    units_table = unit_statistics(org.communes, areas, sel)
    by_epci = counts_by_area(sel, communes, communes["epci_code"])
    names = communes.drop_duplicates("epci_code").set_index("epci_code")["epci_nom"]
    by_epci.insert(0, "epci", names.reindex(by_epci.index).to_numpy())
    by_canton = counts_by_area(sel, communes, canton_for_communes(communes, cantons))
    by_canton.insert(0, "canton", cantons.set_index("code")["nom"].reindex(by_canton.index).to_numpy())
    for t in (units_table, by_epci, by_canton):  # each shares the département total
        t["secret"] = secret_mask_from_counts(t["faits"].to_numpy())
    hide = audience.published
    status = "indicatif" if org.indicative else "fichiers officiels"
    export_units = _masked(units_table, True, ("faits", "faits_pour_mille")).assign(organisation=status)
    per_commune = org.communes.sort_values("distance_km", ascending=False)
    unit_points = org.units.set_index("id").geometry.reindex(export_units["unite_id"])
    return OrganisationView(
        units=_masked(units_table, hide, ("faits", "faits_pour_mille")),
        communes=per_commune.round({"distance_km": 1, "temps_min": 0}),
        epci=_masked(by_epci.reset_index(names="code_epci"), hide, ("faits", "taux_pour_mille")),
        cantons=_masked(by_canton.reset_index(names="code_canton"), hide, ("faits", "taux_pour_mille")),
        export_units_csv=csv_bytes_from_frame(export_units),
        export_units_geojson=geojson_bytes_from_frame(export_units, unit_points),
        export_communes_csv=csv_bytes_from_frame(per_commune.assign(organisation=status)),
        export_communes_geojson=geojson_bytes_from_frame(
            org.communes.assign(organisation=status), communes.geometry
        ),
    )
