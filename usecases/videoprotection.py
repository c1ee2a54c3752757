"""Vidéoprotection page: the study area, the demand (incidents in places a camera sees),
candidate sites, the optimisation, and what each audience may see of the result.

In the published view: no demand count of 1 to 5 (captions, metrics), no share that gives
one back, the site counts of :func:`analysis.siting_publication.published_sites`, the coverage curve
cut before a step adding 1 to 5, and no site within the published resolution of 1 to 5
incidents of the demand (it would say where they are). Exports and the mayor's sheet are
always in the published view.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.siting_adapter import sites_from_geodataframes
from analysis.siting_base import COVER, NEW_SITE, SitingResult
from analysis.siting_publication import published_curve, published_sites
from analysis.streets import (
    StreetIndex,
    candidates_from_network,
    descriptions_of_points,
    street_index_from_roads,
)
from core import model as m
from core.crs import WGS84
from core.errors import DelinquanceError
from core.formatting import filter_description, fmt_count, fmt_number, fmt_share
from core.model import IncidentFilter, filter_incidents
from core.privacy import SECRET_LABEL, Audience, is_secret, places_to_withhold
from core.settings import SETTINGS
from geo.candidates import MAX_LATTICE_SITES as MAX_LATTICE_SITES  # for the page
from geo.candidates import candidates_from_lattice
from readers.roads import road_table_from_lines
from readers.sites import roads_from_bytes, sites_from_bytes
from rendering.exports import csv_bytes_from_frame, geojson_bytes_from_frame
from rendering.siting_report import SitingSheet, pdf_sheet_from_sites, siting_map_png
from rendering.tables import site_table_from_sites
from usecases.common import Metric, metric_xy
from usecases.roads import streets_for_map
from usecases.selection import Selection

SOURCES = {
    "reseau": "Réseau routier du département (carrefours, grands axes)",
    "maillage": "Maillage régulier",
    "routes": "Fichier de réseau routier (carrefours, grands axes)",
    "points": "Liste de points",
}


def candidate_sources(has_network: bool) -> dict[str, str]:
    """The candidate sources the page offers, the default first: the département's network
    when it has one (its crossings and main roads), else the lattice."""
    return {k: v for k, v in SOURCES.items() if has_network or k != "reseau"}


def network_candidates(streets: StreetIndex) -> gpd.GeoDataFrame:
    """Candidate sites on the département's network (:func:`analysis.streets.candidates_from_network`)."""
    return candidates_from_network(streets)


AREAS = {
    "departement": "Tout le département",
    "commune": "Une commune",
    "zones": "Zones prioritaires",
    "dessin": "Secteur dessiné sur la carte",
}
MODES = {"budget": "Nombre de caméras", "cible": "Couverture visée"}


def digest_of(*parts: object) -> str:
    """A stable digest of values (bytes hashed as they are, others by their repr)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else repr(part).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class StudyArea:
    """The area studied: a metric geometry (None: the whole département) and its communes."""

    geometry: shapely.Geometry | None
    communes: gpd.GeoDataFrame = field(compare=False, hash=False)
    key: str
    label: str

    def lattice_territory(self) -> gpd.GeoDataFrame:
        """Where lattice nodes may lie: the area within the département."""
        if self.geometry is None:
            return self.communes
        inside = shapely.intersection(self.geometry, shapely.union_all(self.communes.geometry.to_numpy()))
        return gpd.GeoDataFrame(geometry=[inside], crs=self.communes.crs)


def study_area(
    communes: gpd.GeoDataFrame,
    kind: str,
    *,
    commune: str | None = None,
    zones: gpd.GeoDataFrame | None = None,
    drawn: list[dict] | None = None,
) -> StudyArea:
    """The study area from the page's choice.

    Parameters
    ----------
    communes : GeoDataFrame
        Communes of the département in its metric CRS.
    kind : {"departement", "commune", "zones", "dessin"}
        The choice.
    commune : str, optional
        INSEE code (``kind="commune"``).
    zones : GeoDataFrame, optional
        Priority zones (``kind="zones"``), any CRS.
    drawn : list of dict, optional
        GeoJSON features drawn on the map, EPSG:4326 (``kind="dessin"``).

    Raises
    ------
    DelinquanceError
        No zone, nothing drawn, or a drawing outside the département (French message).
    """
    if kind == "departement":
        return StudyArea(None, communes, "departement", AREAS["departement"].lower())
    if kind == "commune":
        one = communes[communes["code"] == commune]
        if one.empty:
            raise DelinquanceError(
                f"Commune {commune} inconnue dans ce département : choisissez-en une dans la liste."
            )
        label = f"commune de {one['nom'].iloc[0]} ({one['code'].iloc[0]})"
        return StudyArea(shapely.union_all(one.geometry.to_numpy()), one, f"commune:{commune}", label)
    if kind == "zones":
        if zones is None or zones.empty:
            raise DelinquanceError(
                "Aucune zone prioritaire sur la période et les filtres de la barre latérale : "
                "élargissez-les ou choisissez un autre secteur."
            )
        area = shapely.union_all(zones.to_crs(communes.crs).geometry.to_numpy())
        return StudyArea(
            area, communes[communes.intersects(area)], f"zones:{digest_of(area.wkb)}", "zones prioritaires"
        )
    shapes = [
        shapely.geometry.shape(f["geometry"])
        for f in drawn or []
        if f and (f.get("geometry") or {}).get("type") in ("Polygon", "MultiPolygon")
    ]
    if not shapes:
        raise DelinquanceError("Aucun secteur dessiné : tracez un polygone sur la carte ci-dessus.")
    area = gpd.GeoSeries([shapely.union_all(shapes)], crs=WGS84).to_crs(communes.crs).iloc[0]
    inside = communes[communes.intersects(area)]
    if inside.empty:
        raise DelinquanceError("Le secteur dessiné est hors du département : tracez-le sur le territoire.")
    return StudyArea(area, inside, f"dessin:{area.wkb_hex}", "secteur dessiné sur la carte")


def demand_in_area(
    incidents: gpd.GeoDataFrame, flt: IncidentFilter, area: StudyArea, *, places: list[str], crs: str
) -> gpd.GeoDataFrame:
    """Incidents of the selection in places a camera sees, inside the study area (metric CRS)."""
    sel = filter_incidents(incidents, flt)
    sel = sel[sel[m.PLACE].isin(places) & sel[m.COMMUNE].isin(area.communes["code"])].to_crs(crs)
    if area.geometry is not None:
        sel = sel[shapely.contains_xy(area.geometry, sel.geometry.x.to_numpy(), sel.geometry.y.to_numpy())]
    return sel


def weights_from_table(table: pd.DataFrame) -> dict[str, float]:
    """Offence weights from the page's editable table.

    Raises
    ------
    DelinquanceError
        A weight emptied or negative, with the offences named.
    """
    poids = pd.to_numeric(table["poids"], errors="coerce")
    bad = table.loc[~(poids >= 0), "infraction"].tolist()
    if bad:
        raise DelinquanceError(
            f"Poids manquant ou négatif pour : {', '.join(map(str, bad))}. Saisissez un nombre positif "
            "ou nul (0 : l'infraction ne compte pas)."
        )
    return dict(zip(table["infraction"], poids.astype(float), strict=True))


def lattice_captions(
    lattice: gpd.GeoDataFrame, *, spacing: float, radius: float, max_sites: int
) -> list[str]:
    """What the page says about the lattice it got (spacing raised, incidents out of reach)."""
    used = float(lattice.attrs["espacement"])
    out = []
    if used > spacing + 1e-6:
        out.append(
            f"Espacement porté à {used:.0f} m : au plus {fmt_count(max_sites)} sites candidats sur ce secteur."
        )
    if used > radius * np.sqrt(2):
        out.append(
            f"Avec un espacement de {used:.0f} m et un rayon de {radius:.0f} m, certains faits n'ont "
            "aucun site candidat assez proche : réduisez le secteur ou augmentez le rayon."
        )
    return out


def candidates_in_reach(candidates: gpd.GeoDataFrame, area: StudyArea, radius: float) -> gpd.GeoDataFrame:
    """Candidates that can see into the area (a camera just outside it still does)."""
    if area.geometry is None or not len(candidates):
        return candidates
    reach = shapely.buffer(area.geometry, radius)
    return candidates[shapely.contains_xy(reach, candidates.geometry.x, candidates.geometry.y)]


@dataclass
class SitingRun:
    """One optimisation and what it was asked (kept in the session until parameters change)."""

    signature: str
    res: SitingResult
    sites: gpd.GeoDataFrame
    curve: pd.DataFrame
    radius: float
    area: StudyArea
    n_demand: int
    demand_xy: np.ndarray
    asked: int | None
    params: list[tuple[str, str]]
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)  # one optimisation (cache key)


def run_siting(
    demand: gpd.GeoDataFrame,
    weights: dict[str, float],
    candidates: gpd.GeoDataFrame,
    *,
    existing: gpd.GeoDataFrame | None,
    area: StudyArea,
    radius: float,
    p: int | None,
    target: float | None,
    time_limit: float,
    flt: IncidentFilter,
    places: list[str],
    source: str,
    signature: str,
) -> SitingRun:
    """Optimise the camera sites and describe the parameters for the sheet."""
    w = demand[m.OFFENCE].astype(object).map(weights).fillna(1.0).to_numpy()
    res, sites, curve = sites_from_geodataframes(
        demand, w, candidates, existing=existing, radius=radius, p=p, target=target, time_limit=time_limit
    )
    changed = {k: v for k, v in weights.items() if v != 1.0}
    params = [
        ("Secteur", area.label),
        ("Lieux visibles", ", ".join(places)),
        ("Période et filtres", filter_description(flt)),
        ("Rayon de couverture", f"{radius:.0f} m"),
        (
            "Objectif",
            f"{p} nouvelles caméras" if p is not None else f"couvrir {fmt_share(target)} de la demande",
        ),
        ("Sites candidats", f"{fmt_count(len(candidates))} ({SOURCES[source]})"),
        ("Caméras existantes", fmt_count(0 if existing is None else len(existing))),
        (
            "Poids des infractions",
            "; ".join(f"{k} : {fmt_number(v, 1)}" for k, v in changed.items()) or "tous égaux à 1",
        ),
    ]
    return SitingRun(
        signature=signature,
        res=res,
        sites=sites,
        curve=curve,
        radius=radius,
        area=area,
        n_demand=len(demand),
        demand_xy=metric_xy(demand),
        asked=p,
        params=[(a, b) for a, b in params if b],
    )


def lattice_candidates(
    territory: gpd.GeoDataFrame, spacing: float, *, demand_xy: np.ndarray, radius: float, max_sites: int
) -> gpd.GeoDataFrame:
    """Candidate sites on a regular lattice of the territory, kept within ``radius`` of an
    incident (see :func:`geo.candidates.candidates_from_lattice`)."""
    return candidates_from_lattice(
        territory, spacing, demand_xy=demand_xy, radius=radius, max_sites=max_sites
    )


@dataclass(frozen=True)
class SitesFile:
    """Sites read from an uploaded file: the sites, the rows it rejected, and the file's digest
    (what identifies the candidates or the existing cameras in a :class:`SitingRequest`)."""

    sites: gpd.GeoDataFrame = field(compare=False, hash=False)
    rejected: pd.DataFrame = field(compare=False, hash=False)
    digest: str


def sites_from_file(data: bytes, name: str, *, crs: str, roads: bool) -> SitesFile:
    """Candidate or existing sites from an uploaded file: a road network gives its crossings
    and main-road points, a list of points its points (with the rows it rejected)."""
    digest = digest_of(data)
    if roads:
        network = road_table_from_lines(roads_from_bytes(data, name)).to_crs(crs)
        sites = candidates_from_network(street_index_from_roads(network))
        return SitesFile(sites, pd.DataFrame(), digest)
    sites, rejected = sites_from_bytes(data, name, crs=crs)
    return SitesFile(sites, rejected, digest)


def candidates_key(source: str, *, spacing: float | None = None, digest: str = "") -> str:
    """What identifies the candidate sites: the lattice's spacing, or the uploaded file's digest."""
    return f"maillage:{float(spacing or 0):.1f}" if source == "maillage" else f"{source}:{digest}"


@dataclass(frozen=True)
class SitingRequest:
    """What the référent asked for: one optimisation, identified by :attr:`signature`.

    The page fills it from its widgets and hands it to :func:`siting_from_request`; a result is
    shown only while the request that made it is the current one (same signature).
    """

    selection: Selection  # data set, département and filter
    area_key: str
    places: tuple[str, ...]
    weights: tuple[tuple[str, float], ...]
    source: str
    candidates: str  # :func:`candidates_key`
    existing: str  # digest of the existing cameras' file, « - » without
    radius: float
    p: int | None
    target: float | None
    time_limit: float

    @property
    def signature(self) -> str:
        """A digest of every field: two requests with the same signature give the same sites."""
        return digest_of(
            *self.selection.dataset_key,
            self.selection.flt,
            self.area_key,
            self.places,
            self.weights,
            self.candidates,
            self.existing,
            self.radius,
            self.p,
            self.target,
            self.time_limit,
        )


def siting_from_request(
    request: SitingRequest,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    existing: gpd.GeoDataFrame | None,
    area: StudyArea,
) -> SitingRun:
    """:func:`run_siting` for a request (its signature kept on the run)."""
    return run_siting(
        demand,
        dict(request.weights),
        candidates,
        existing=existing,
        area=area,
        radius=request.radius,
        p=request.p,
        target=request.target,
        time_limit=request.time_limit,
        flt=request.selection.flt,
        places=list(request.places),
        source=request.source,
        signature=request.signature,
    )


def demand_caption(n_demand: int, n_candidates: int, n_existing: int | None, audience: Audience) -> str:
    """The caption under the settings (demand count gated in the published view)."""
    n = SECRET_LABEL if audience.published and is_secret(n_demand) else fmt_count(n_demand)
    text = f"{n} faits dans des lieux visibles sur le secteur ; {fmt_count(n_candidates)} sites candidats"
    return text + (f" ; {fmt_count(n_existing)} caméras existantes." if n_existing is not None else ".")


@dataclass
class SitingView:
    """What the page draws of a run, for an audience."""

    metrics: list[Metric]
    n_new: int
    sites_wgs84: gpd.GeoDataFrame
    bounds: np.ndarray
    area_wgs84: gpd.GeoSeries | None
    curve: pd.DataFrame
    curve_cut: bool
    table: pd.DataFrame
    notes: list[str]
    export_table: pd.DataFrame
    export_csv: bytes
    export_geojson: bytes
    published_sites: gpd.GeoDataFrame
    technical: list[str] = field(default_factory=list)  # how it was computed (an expander)
    streets_wgs84: gpd.GeoDataFrame | None = None  # the streets around the sites (the map)


def _addresses(sites: gpd.GeoDataFrame, streets: StreetIndex | None) -> pd.Series | None:
    """Each site's place by its streets, indexed like ``sites`` (None without a network)."""
    if streets is None:
        return None
    xy = metric_xy(sites.to_crs(streets.roads.crs)) if len(sites) else np.zeros((0, 2))
    return pd.Series(descriptions_of_points(streets, xy[:, 0], xy[:, 1]), index=sites.index, dtype=object)


def siting_view(
    run: SitingRun, communes: gpd.GeoDataFrame, *, audience: Audience, streets: StreetIndex | None = None
) -> SitingView:
    """The result of a run as an audience may see it (exports always published); with the
    département's ``streets``, each site is described by its streets and the map draws them."""
    res, sites = run.res, run.sites
    withhold = places_to_withhold(metric_xy(sites), run.demand_xy) & (sites["statut"] == NEW_SITE).to_numpy()
    published = published_sites(sites, withheld=withhold)[~withhold]
    pub = audience.published
    covered = int(res.n_covered)
    uncovered = run.n_demand - covered
    hide_share = pub and (is_secret(covered) or is_secret(uncovered) or is_secret(run.n_demand))
    cov_text = SECRET_LABEL if pub and is_secret(covered) else fmt_count(covered)
    dem_text = SECRET_LABEL if pub and is_secret(run.n_demand) else fmt_count(run.n_demand)
    n_new = int((sites["statut"] == NEW_SITE).sum())
    metrics = [
        Metric(
            "Demande couverte",
            SECRET_LABEL if hide_share else fmt_share(res.share),
            f"{cov_text} faits sur {dem_text} (pondérés : {SECRET_LABEL if hide_share else fmt_number(res.objective, 0)})",
        ),
        Metric("Nouvelles caméras", fmt_count(n_new)),
    ]
    if res.kind == COVER:
        metrics.append(
            Metric(
                "Nombre de caméras",
                "le plus petit possible" if res.proven else "peut-être réductible",
                help="« Le plus petit possible » : le calcul a démontré qu'avec une caméra de moins, la couverture "
                "visée n'est pas atteinte.",
            )
        )
    else:
        optimal = res.gap is not None and res.gap <= 1e-9
        metrics.append(
            Metric(
                "Qualité du choix",
                "le meilleur possible"
                if optimal
                else ("non démontrée" if res.gap is None else f"à {fmt_share(res.gap)} près du meilleur"),
                help="« Le meilleur possible » : aucun autre choix du même nombre de caméras ne couvre plus de "
                "faits (démontré par le calcul). Sinon, l'écart au meilleur choix possible, au plus.",
            )
        )
    # For whoever wants to know how (an expander on the page): the method, its status, the time.
    technical = [
        f"Méthode de calcul : {res.method} ; état : {res.status} ; durée : {fmt_number(res.seconds, 1)} s.",
    ]
    if res.kind != COVER and res.gap is not None:
        technical.append(
            f"Écart d'optimalité démontré : {fmt_share(res.gap)} ((borne démontrée − solution) / borne démontrée)."
        )
    notes = []
    if withhold.any():
        notes.append(
            f"{int(withhold.sum())} site(s) non publié(s) : à moins de {SETTINGS.published_resolution_m:.0f} m "
            f"de 1 à {SETTINGS.privacy_threshold} faits (ils les localiseraient)."
        )
    shown_sites = published if pub else sites
    w84 = shown_sites.to_crs(WGS84)
    area84 = (
        gpd.GeoSeries([run.area.geometry], crs=communes.crs).to_crs(WGS84)
        if run.area.geometry is not None
        else None
    )
    bounds = area84.total_bounds if area84 is not None else communes.to_crs(WGS84).total_bounds
    curve = published_curve(run.curve) if pub else run.curve
    places = _addresses(sites, streets)  # once for every site: the published ones are among them
    export_table = site_table_from_sites(
        published, communes, addresses=None if places is None else list(places.loc[published.index])
    )
    streets_map = None
    if streets is not None:
        frame = gpd.GeoSeries(shown_sites.geometry.buffer(max(run.radius, 300.0)), crs=sites.crs)
        box = (
            frame.to_crs(streets.roads.crs).total_bounds
            if len(shown_sites)
            else communes.to_crs(streets.roads.crs).total_bounds
        )
        near = metric_xy(shown_sites.to_crs(streets.roads.crs)) if len(shown_sites) else None
        streets_map = streets_for_map(streets, tuple(box), near=near)
    return SitingView(
        metrics=metrics,
        n_new=n_new,
        sites_wgs84=w84,
        bounds=bounds,
        area_wgs84=area84,
        curve=curve,
        curve_cut=len(curve) < len(run.curve),
        table=export_table
        if pub
        else site_table_from_sites(sites, communes, addresses=None if places is None else list(places)),
        notes=notes if pub else [],
        technical=technical,
        export_table=export_table,
        export_csv=csv_bytes_from_frame(export_table),
        export_geojson=geojson_bytes_from_frame(export_table, published.to_crs(WGS84).geometry),
        published_sites=published,
        streets_wgs84=streets_map,
    )


def mayor_sheet_pdf(
    run: SitingRun,
    communes: gpd.GeoDataFrame,
    *,
    territory: str,
    dataset_name: str,
    synthetic: bool,
    streets: StreetIndex | None = None,
    streets_sentence: str = "",
) -> bytes:
    """The mayor's one-page sheet: always the published view, whatever the page shows; with
    the département's ``streets``, the map draws them and each site is named by its streets."""
    res = run.res
    published_view = siting_view(run, communes, audience=Audience.public(), streets=streets)
    figures = [
        (x.label, f"{x.value} ({x.delta})" if x.delta else x.value) for x in published_view.metrics[:2]
    ]
    figures.append(("Méthode", res.method))
    figures.append(
        (
            "Qualité de la solution",
            res.status + ("" if res.gap is None else f" ; écart prouvé {fmt_share(res.gap)}"),
        )
    )
    png = siting_map_png(
        published_view.published_sites,
        communes,
        radius=run.radius,
        area=run.area.geometry,
        streets=published_view.streets_wgs84,
    )
    sheet = SitingSheet(
        territory=territory,
        area=run.area.label,
        dataset=dataset_name,
        synthetic=synthetic,
        parameters=run.params,
        figures=figures,
        map_png=png,
        streets=streets_sentence,
    )
    return pdf_sheet_from_sites(published_view.export_table, sheet)
