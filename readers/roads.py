"""Road networks from outside: an OpenStreetMap extract (``.osm.pbf``) or an IGN BD TOPO
GeoPackage, read into one table of road segments (:data:`ROAD_COLUMNS`).

* **OpenStreetMap** (Geofabrik's regional extracts, a few hundred MB a région): read with
  ``osmium`` (pyosmium), which streams the file block by block; ``pyrosm`` would read the
  whole extract into memory first. Only the ways tagged ``highway`` with a road a car or a
  patrol can take (:data:`OSM_HIGHWAYS`) are kept, and only those that reach the bounding box
  asked for; each way is cut at every node it shares with another way, so that a segment runs
  from crossing to crossing, as a BD TOPO tronçon does. Before osmium opens a file, its blocks
  are checked (:func:`check_pbf_blocks`): the declared and actual size of every block once
  decompressed, bounded as any uploaded file is (:mod:`readers.limits`).
* **BD TOPO** (one GeoPackage per département, several GB): the layer ``TRONCON_DE_ROUTE``
  (old schema: ``NATURE``, ``IMPORTANCE``, ``NOM_1_GAUCHE``, ``SENS``,
  ``VITESSE_MOYENNE_VL``) or ``troncon_de_route`` (BD TOPO v3: ``nature``, ``importance``,
  ``nom_collaboratif_gauche``, ``sens_de_circulation``, ``vitesse_moyenne_vl``), layer and
  field names matched whatever their case (:data:`BDTOPO_FIELDS`); read in batches of
  :data:`BATCH_ROWS` through GDAL's spatial index (``bbox``), never whole.

Every segment a file holds is either kept or counted with the reason it was left out
(:attr:`RoadImport.left_out`): paths and stairs are not roads, a way cut by the extract's edge
loses its missing nodes, a tronçon without geometry is rejected (:attr:`RoadImport.rejected`).
"""

from __future__ import annotations

import array
import re
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from readers.bdtopo import roads_from_bdtopo
from readers.limits import SQLITE_HEADER
from readers.pbf_blocks import PBF_MAX_HEADER, check_pbf_blocks
from readers.road_model import (
    BACKWARD,
    BOTH,
    DEFAULT_SPEEDS,
    FORWARD,
    ROAD_COLUMNS,
    RoadFileError,
    RoadImport,
)

#: OSM ``highway`` value -> (importance, class label, speed km/h when no ``maxspeed``).
OSM_HIGHWAYS: dict[str, tuple[int, str, float]] = {
    "motorway": (1, "autoroute", 110.0),
    "motorway_link": (1, "bretelle", 60.0),
    "trunk": (1, "voie express", 90.0),
    "trunk_link": (1, "bretelle", 50.0),
    "primary": (2, "route principale", 70.0),
    "primary_link": (2, "bretelle", 40.0),
    "secondary": (3, "route secondaire", 60.0),
    "secondary_link": (3, "bretelle", 40.0),
    "tertiary": (4, "route locale", 50.0),
    "tertiary_link": (4, "bretelle", 30.0),
    "unclassified": (4, "route locale", 40.0),
    "road": (5, "rue", 30.0),
    "residential": (5, "rue", 30.0),
    "living_street": (5, "zone de rencontre", 15.0),
    "pedestrian": (5, "voie piétonne", 10.0),
}
#: OSM ways read but not kept, by ``highway`` value (counted in the report).
OSM_NOT_ROADS = "voie non routière (chemin, sentier, piste cyclable, service…)"


# ---------------------------------------------------------------------------------------
# File kind
# ---------------------------------------------------------------------------------------
def road_file_kind(head: bytes, filename: str) -> str:
    """``"pbf"`` or ``"gpkg"`` from a file's first bytes.

    Raises
    ------
    RoadFileError
        Neither an OSM PBF nor a GeoPackage.
    """
    if head.startswith(SQLITE_HEADER):
        return "gpkg"
    if len(head) >= 4:
        size = int.from_bytes(head[:4], "big")
        if 0 < size <= PBF_MAX_HEADER and b"OSMHeader" in head[4 : 4 + size]:
            return "pbf"
    raise RoadFileError(
        f"« {filename} » n'est ni un extrait OpenStreetMap (.osm.pbf) ni un GeoPackage (.gpkg) : "
        "téléchargez l'extrait régional .osm.pbf de Geofabrik ou la BD TOPO du département (GeoPackage)."
    )


# ---------------------------------------------------------------------------------------
# OSM PBF: the ways
# ---------------------------------------------------------------------------------------
def _osm_speed(tags, default: float) -> float:
    """``maxspeed`` (km/h, ``"50"``, ``"FR:urban"``…) times 0.8, else the class's speed."""
    raw = tags.get("maxspeed")
    if raw:
        m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mph)?", raw)
        if m:
            v = float(m.group(1)) * (1.609 if m.group(2) else 1.0)
            if 5.0 <= v <= 150.0:
                return min(v * 0.8, default * 1.5)
        if raw.lower() in {"fr:urban", "fr:zone30"}:
            return 30.0 if "30" in raw else 40.0
    return default


def _osm_direction(tags, highway: str) -> str:
    oneway = (tags.get("oneway") or "").lower()
    if oneway in {"yes", "true", "1"}:
        return FORWARD
    if oneway in {"-1", "reverse"}:
        return BACKWARD
    if oneway == "no":
        return BOTH
    if highway in {"motorway", "motorway_link"} or tags.get("junction") in {"roundabout", "circular"}:
        return FORWARD
    return BOTH


def roads_from_pbf(
    path: Path | str,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    filename: str | None = None,
    location_store: str | None = None,
) -> RoadImport:
    """The road segments of an OSM extract, cut at crossings (EPSG:4326).

    Parameters
    ----------
    path : Path or str
        The ``.osm.pbf`` file.
    bbox : tuple, optional
        ``(lon_min, lat_min, lon_max, lat_max)``: only the ways with a node inside are kept.
    filename : str, optional
        The name said in messages (default: the file's).
    location_store : str, optional
        osmium's node location index (default: in memory up to 64 MB of file, else a
        temporary file (``sparse_file_array``, about 16 bytes a node of the extract).

    Returns
    -------
    RoadImport

    Raises
    ------
    RoadFileError
        Not a valid extract (:func:`check_pbf_blocks`), or no road in ``bbox``.
    """
    import osmium

    path = Path(path)
    name = filename or path.name
    size = path.stat().st_size
    with path.open("rb") as f:
        summary = check_pbf_blocks(f, name, size=size)
    if bbox is not None and summary.bbox is not None and not _boxes_meet(bbox, summary.bbox):
        raise RoadFileError(_not_covered(name, summary.bbox))
    refs, lons, lats, starts = array.array("q"), array.array("d"), array.array("d"), array.array("q")
    attrs: list[tuple[str, str | None, int, str, float, str]] = []
    left_out: Counter[str] = Counter()
    read = 0
    tmp = None
    if location_store is None:
        if size <= 64 * 2**20:
            location_store = "flex_mem"
        else:
            import tempfile

            tmp = tempfile.TemporaryDirectory(prefix="osm-")  # the file's folder may be read-only
            location_store = f"sparse_file_array,{Path(tmp.name) / 'noeuds.idx'}"
    try:
        processor = (
            osmium.FileProcessor(str(path))
            .with_locations(location_store)
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in processor:
            if not way.is_way():
                continue
            highway = way.tags.get("highway")
            spec = OSM_HIGHWAYS.get(highway)
            if spec is None:
                left_out[OSM_NOT_ROADS] += 1
                continue
            ids, xs, ys = [], [], []
            for node in way.nodes:
                loc = node.location
                if loc.valid():
                    ids.append(node.ref)
                    xs.append(loc.lon)
                    ys.append(loc.lat)
                else:
                    ids.append(node.ref)
                    xs.append(np.nan)
                    ys.append(np.nan)
            if bbox is not None:
                ok = [
                    bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3] for x, y in zip(xs, ys, strict=True)
                ]
                if not any(ok):
                    continue
            read += 1
            if any(x != x for x in xs):  # NaN: a node outside the extract
                left_out["voie coupée par le bord de l'extrait (nœuds absents)"] += 1
            importance, label, speed = spec
            tags = way.tags
            nom = tags.get("name") or tags.get("ref")
            attrs.append(
                (f"w{way.id}", nom, importance, label, _osm_speed(tags, speed), _osm_direction(tags, highway))
            )
            starts.append(len(refs))
            refs.extend(ids)
            lons.extend(xs)
            lats.extend(ys)
    except RuntimeError as exc:  # osmium's own checks
        raise RoadFileError(f"« {name} » : lecture OpenStreetMap impossible ({exc}).") from exc
    finally:
        if tmp is not None:
            tmp.cleanup()
    if not attrs:
        raise RoadFileError(
            _not_covered(name, summary.bbox) if bbox is not None else f"« {name} » ne contient aucune route."
        )
    roads, dropped = _segments_from_ways(
        np.frombuffer(refs, dtype=np.int64),
        np.frombuffer(lons, dtype=float),
        np.frombuffer(lats, dtype=float),
        np.frombuffer(starts, dtype=np.int64),
        attrs,
    )
    if dropped:
        left_out["voie réduite à un point (un seul nœud connu)"] += dropped
    date = None
    if summary.timestamp:
        date = pd.Timestamp(summary.timestamp, unit="s", tz="UTC").date().isoformat()
    return RoadImport(roads, "OpenStreetMap", "", dict(left_out), read=read, data_date=date)


def _segments_from_ways(
    refs: np.ndarray, lon: np.ndarray, lat: np.ndarray, starts: np.ndarray, attrs: list[tuple]
) -> tuple[gpd.GeoDataFrame, int]:
    """Cut the ways at every node shared with another way (or with themselves), at their ends
    and around their missing nodes; returns the segments and the ways left without two nodes."""
    n = len(refs)
    way = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n)))
    valid = np.isfinite(lon) & np.isfinite(lat)
    # Runs of known nodes within a way: each run is a line of its own.
    first_of_way = np.zeros(n, dtype=bool)
    first_of_way[starts] = True
    run_start = first_of_way | (valid & ~np.roll(valid, 1))
    run = np.cumsum(run_start) - 1
    refs, lon, lat, way, run = refs[valid], lon[valid], lat[valid], way[valid], run[valid]
    n = len(refs)
    if n == 0:
        return gpd.GeoDataFrame(columns=list(ROAD_COLUMNS), geometry="geometry", crs="EPSG:4326"), len(attrs)
    _, inverse, counts = np.unique(refs, return_inverse=True, return_counts=True)
    shared = counts[inverse] > 1
    first = np.ones(n, dtype=bool)
    first[1:] = run[1:] != run[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = run[1:] != run[:-1]
    cut = shared & ~first & ~last  # interior crossings: end one segment, start the next
    pos = np.repeat(np.arange(n), 1 + cut)
    second_copy = np.zeros(len(pos), dtype=bool)
    second_copy[1:] = pos[1:] == pos[:-1]
    piece = np.cumsum(first[pos] & ~second_copy | second_copy) - 1
    sizes = np.bincount(piece)
    keep = sizes[piece] >= 2
    pos, piece = pos[keep], piece[keep]
    _, piece = np.unique(piece, return_inverse=True)
    lines = shapely.linestrings(lon[pos], lat[pos], indices=piece)
    piece_way = way[pos][np.r_[0, np.flatnonzero(np.diff(piece)) + 1]]
    table = pd.DataFrame(attrs, columns=["id_source", "nom", "importance", "classe", "vitesse_kmh", "sens"])
    out = table.iloc[piece_way].reset_index(drop=True)
    kept_ways = np.unique(piece_way)
    gdf = gpd.GeoDataFrame(out[list(ROAD_COLUMNS[:-1])], geometry=lines, crs="EPSG:4326")
    gdf["importance"] = gdf["importance"].astype(np.int8)
    return gdf, len(attrs) - len(kept_ways)


def _boxes_meet(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _not_covered(name: str, box: tuple[float, ...] | None) -> str:
    where = (
        f" (il couvre de {box[0]:.2f}° à {box[2]:.2f}° de longitude et de {box[1]:.2f}° à {box[3]:.2f}° de latitude)"
        if box
        else ""
    )
    return f"« {name} » ne couvre pas ce département{where} : téléchargez l'extrait de la région qui le contient."


# ---------------------------------------------------------------------------------------
# Any file of lines (the Vidéoprotection page's upload)
# ---------------------------------------------------------------------------------------
#: Share of a classless network's length (its longest lines) taken as its main roads.
MAIN_SHARE_WITHOUT_CLASSES = 0.2
NAME_COLUMNS = ("nom", "name", "nom_collaboratif_gauche", "nom_1_gauche")


def road_table_from_lines(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Any file of road lines (a GeoJSON or a GeoPackage layer) in the road table
    (:data:`readers.road_model.ROAD_COLUMNS`, same CRS): importance from an OSM ``highway`` or
    a BD TOPO ``importance`` column, else the longest lines, until they make
    :data:`MAIN_SHARE_WITHOUT_CLASSES` of the length, are main roads (importance 3) and the
    others streets (5); the name from a ``nom``/``name`` column; both directions; the speed of
    the importance.

    Raises
    ------
    RoadFileError
        No line in the file.
    """
    out = lines[lines.geometry.notna()].explode(index_parts=False)
    out = out[out.geom_type == "LineString"].reset_index(drop=True)
    if out.empty:
        raise RoadFileError(
            "Aucune ligne dans le réseau routier : fournissez un fichier de tronçons (lignes)."
        )
    lower = {str(c).lower(): c for c in out.columns}
    if "highway" in lower:
        importance = out[lower["highway"]].map(lambda v: OSM_HIGHWAYS.get(v, (5,))[0]).to_numpy()
    elif "importance" in lower:
        importance = pd.to_numeric(out[lower["importance"]], errors="coerce").to_numpy()
        importance = np.where((importance >= 1) & (importance <= 5), importance, 5)
    else:
        length = out.geometry.length.to_numpy()
        order = np.argsort(-length, kind="stable")
        main = np.zeros(len(out), dtype=bool)
        before = np.cumsum(length[order]) - length[order]  # the length of the longer lines
        main[order[before < MAIN_SHARE_WITHOUT_CLASSES * length.sum()]] = True
        importance = np.where(main, 3, 5)
    importance = np.asarray(importance, dtype=np.int8)
    name_column = next((lower[n] for n in NAME_COLUMNS if n in lower), None)
    values = out[name_column].to_numpy(dtype=object) if name_column is not None else np.full(len(out), None)
    names = np.array([v.strip() if isinstance(v, str) and v.strip() else None for v in values], dtype=object)
    return gpd.GeoDataFrame(
        {
            "id_source": [f"ligne {i + 1}" for i in range(len(out))],
            "nom": names,
            "classe": "tronçon",
            "importance": importance,
            "vitesse_kmh": [DEFAULT_SPEEDS[int(i)] for i in importance],
            "sens": BOTH,
        },
        geometry=out.geometry.to_numpy(),
        crs=lines.crs,
    )


# ---------------------------------------------------------------------------------------
# Either kind
# ---------------------------------------------------------------------------------------
def roads_from_file(
    path: Path | str,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    filename: str | None = None,
) -> RoadImport:
    """A road network from an OSM extract or a BD TOPO GeoPackage, the kind found from the
    file's first bytes (:func:`road_file_kind`)."""
    path = Path(path)
    name = filename or path.name
    with path.open("rb") as f:
        head = f.read(PBF_MAX_HEADER + 4)
    kind = road_file_kind(head, name)
    if kind == "pbf":
        return roads_from_pbf(path, bbox=bbox, filename=name)
    return roads_from_bdtopo(path, bbox=bbox, filename=name)
