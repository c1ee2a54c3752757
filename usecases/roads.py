"""A département's road network: imported once (``make roads`` or the Données page), kept as
GeoParquet with its source and date, read by the maps, the camera candidates, the
intervention times and the hot streets.

The import reads the file in bounded memory (:mod:`readers.roads`: an OSM extract streamed by
osmium, a BD TOPO GeoPackage in batches through its spatial index), keeps the segments within
:data:`geo.roads.ROAD_MARGIN_M` of the département, cut there, and replaces the network saved
before. Nothing is lost silently: the manifest counts the segments read, kept, and left out
with their reason.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.streets import StreetIndex, street_index_from_roads
from core.access import IMPORT, Viewer
from core.crs import metric_crs_for_departement
from core.errors import TerritoryError
from core.formatting import fmt_count
from data.access import AccessStore
from data.locations import demo_roads_store, roads_store
from geo.communes import communes_for_departement
from geo.roads import ROAD_MARGIN_M, area_bbox_wgs84, roads_clipped_to_area
from readers.road_model import ROAD_COLUMNS, RoadFileError
from readers.roads import roads_from_file
from usecases.common import refusal

#: What the import adds to the segments it keeps.
STORED_COLUMNS = (*ROAD_COLUMNS[:-1], "longueur_m", "geometry")


@dataclass(frozen=True)
class RoadNetworkSummary:
    """What a saved network is: shown on the Données page and said under every map that draws it."""

    departement: str
    source: str
    source_file: str
    data_date: str | None
    imported_at: str
    segments: int
    length_km: float
    left_out: dict[str, int]
    rejected: int
    synthetic: bool = False

    def sentence(self) -> str:
        """« Réseau routier : OpenStreetMap (extrait du …), 12 345 tronçons, 6 789 km. »"""
        if self.synthetic:
            return (
                f"Réseau routier synthétique (démonstration : routes et noms de rues inventés), "
                f"{fmt_count(self.segments)} tronçons, {fmt_count(round(self.length_km))} km : importez un extrait "
                "OpenStreetMap ou la BD TOPO du département (make roads, ou la page Données)."
            )
        when = f" du {pd.Timestamp(self.data_date):%d/%m/%Y}" if self.data_date else ""
        return (
            f"Réseau routier : {self.source}{when} (« {self.source_file} », importé le "
            f"{pd.Timestamp(self.imported_at):%d/%m/%Y}), {fmt_count(self.segments)} tronçons, "
            f"{fmt_count(round(self.length_km))} km."
        )


def _slug(departement: str) -> str:
    return str(departement).lower()


def import_road_network(
    path: Path | str,
    departement: str,
    *,
    filename: str | None = None,
    viewer: Viewer | None = None,
    journal: AccessStore | None = None,
) -> RoadNetworkSummary:
    """Read a road file, clip it to the département and save it (replacing the previous one).

    Parameters
    ----------
    path : Path or str
        An OSM extract (``.osm.pbf``) or a BD TOPO GeoPackage.
    departement : str
        INSEE code of the département.
    filename : str, optional
        The name said in messages and kept in the manifest (default: the file's).
    viewer, journal : optional
        The person importing and the audit log (the Données page); without them, the
        operator's command (``make roads``).

    Returns
    -------
    RoadNetworkSummary

    Raises
    ------
    RefusedError
        The viewer may not import, or not for this département (audited).
    RoadFileError
        The file is not a road network, or does not cover the département.
    """
    path = Path(path)
    name = filename or path.name
    if viewer is not None and journal is not None:
        if not viewer.can(IMPORT):
            raise refusal(journal, viewer, "import", name, "votre rôle ne permet pas d'importer")
        if not viewer.may_see_departement(departement):
            raise refusal(
                journal, viewer, "import", name, f"le département {departement} est hors de votre territoire"
            )
    communes = communes_for_departement(departement)
    crs = metric_crs_for_departement(departement)
    area = communes.to_crs(crs)
    read = roads_from_file(path, bbox=area_bbox_wgs84(area.geometry), filename=name)
    try:
        kept, outside = roads_clipped_to_area(read.roads, area.union_all(), crs=crs)
    except TerritoryError as exc:
        raise RoadFileError(f"« {name} » : {exc}") from exc
    left_out = dict(read.left_out)
    if outside:
        left_out[f"tronçon à plus de {fmt_count(ROAD_MARGIN_M / 1000)} km du département"] = outside
    extra = {
        "source": read.source,
        "couche": read.layer,
        "date_donnees": read.data_date,
        "lus": read.read,
        "ecartes": left_out,
        "longueur_km": float(kept["longueur_m"].sum() / 1000.0),
    }
    stored = gpd.GeoDataFrame(kept[list(STORED_COLUMNS)], geometry="geometry", crs=crs).to_crs("EPSG:4326")
    rejections = read.rejected.rename(columns={"id_source": "ligne"}).assign(champ="geometrie", valeur="")

    def save() -> None:
        roads_store().save(
            stored,
            name=f"Réseau routier {departement}",
            source_file=name,
            rejections=rejections[["ligne", "champ", "motif", "valeur"]],
            departement=departement,
            description=f"{read.source} : {fmt_count(len(stored))} tronçons",
            slug=_slug(departement),
            extra=extra,
            replace=True,
        )

    if viewer is not None and journal is not None:
        with journal.audited(
            viewer, "import", name, {"reseau_routier": departement, "troncons": len(stored)}
        ):
            save()
    else:
        save()
    return road_network_summary(departement)


def import_road_network_from_bytes(
    data: bytes, filename: str, departement: str, *, viewer: Viewer, journal: AccessStore
) -> RoadNetworkSummary:
    """:func:`import_road_network` for an upload (written to a temporary file first: osmium and
    GDAL read files; the upload limit bounds it)."""
    suffix = ".osm.pbf" if filename.lower().endswith(".pbf") else ".gpkg"
    with tempfile.TemporaryDirectory(prefix="routes-") as tmp:
        path = Path(tmp) / f"reseau{suffix}"
        path.write_bytes(data)
        return import_road_network(path, departement, filename=filename, viewer=viewer, journal=journal)


def _store_of(departement: str):
    """The store holding the département's network: an imported one, else the demonstration's."""
    for store in (roads_store(), demo_roads_store()):
        if store.exists(_slug(departement)):
            return store
    return None


def road_network_summary(departement: str) -> RoadNetworkSummary | None:
    """The network's manifest (imported, else the demonstration's), or None when there is none."""
    store = _store_of(departement)
    if store is None:
        return None
    info = store.info(_slug(departement))
    extra = info.extra
    return RoadNetworkSummary(
        departement=info.departement,
        source=str(extra.get("source", "")),
        source_file=info.source_file,
        data_date=extra.get("date_donnees"),  # type: ignore[arg-type]
        imported_at=info.imported_at,
        segments=info.n_rows,
        length_km=float(extra.get("longueur_km", 0.0)),  # type: ignore[arg-type]
        left_out=dict(extra.get("ecartes", {})),  # type: ignore[arg-type]
        rejected=info.n_rejected,
        synthetic=info.synthetic,
    )


def road_network_for_departement(departement: str, *, crs: str | None = None) -> gpd.GeoDataFrame | None:
    """The département's network (imported, else the demonstration's) in its metric CRS unless
    ``crs``, or None."""
    store = _store_of(departement)
    if store is None:
        return None
    roads = store.load(_slug(departement))
    return roads.to_crs(crs or metric_crs_for_departement(departement))


def road_network_stamp(departement: str) -> str:
    """Changes whenever the département's network does (cache key): the saved version's name,
    read from the store's pointer (no manifest, no table)."""
    for kind, store in (("importe", roads_store()), ("demo", demo_roads_store())):
        version = store.version(_slug(departement))
        if version is not None:
            return f"{kind}:{version}"
    return "-"


def street_index_for_departement(departement: str) -> StreetIndex | None:
    """The département's streets ready to query (:class:`analysis.streets.StreetIndex`), or None."""
    roads = road_network_for_departement(departement)
    return None if roads is None or roads.empty else street_index_from_roads(roads)


#: The map of the sites draws every street within this distance of a site (metres)...
STREETS_NEAR_M = 600.0
#: ... and the main roads (importance 1 to 3) of its frame, up to this many segments.
MAIN_ROADS_ON_MAP = 20_000


def streets_for_map(
    index: StreetIndex,
    bounds: tuple[float, float, float, float],
    *,
    near: np.ndarray | None = None,
    margin: float = 500.0,
) -> gpd.GeoDataFrame:
    """The streets a map of ``bounds`` (metric) draws: ``nom``, ``importance``, EPSG:4326 lines
    simplified to 2 m. With ``near`` (points, metres), only the streets within
    :data:`STREETS_NEAR_M` of one of them and the main roads of the frame (a département's
    network has some 150,000 segments: all of them would make the map tens of MB)."""
    box = shapely.box(*bounds).buffer(margin, join_style="mitre")
    hits = index.tree.query(box, predicate="intersects")
    if near is not None and len(near):
        main = hits[index.roads["importance"].to_numpy()[hits] <= 3][:MAIN_ROADS_ON_MAP]
        pts = shapely.points(np.asarray(near, dtype=float).reshape(-1, 2))
        _, around = index.tree.query(pts, predicate="dwithin", distance=STREETS_NEAR_M)
        hits = np.union1d(main, around)
    part = index.roads.iloc[np.sort(np.unique(hits))]
    geoms = shapely.simplify(part.geometry.to_numpy(), 2.0)
    out = gpd.GeoDataFrame(
        {"nom": part["nom"].to_numpy(), "importance": part["importance"].to_numpy()},
        geometry=geoms,
        crs=part.crs,
    )
    return out.to_crs("EPSG:4326")
