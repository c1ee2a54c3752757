"""A synthetic road network for a département, for the offline demonstration and the benchmarks:
real French road data are public (OpenStreetMap, BD TOPO) but cannot be downloaded here, and a
département's network is several hundred MB to import. The UI says plainly when the network
it draws is this one (:data:`SYNTHETIC_SOURCE`).

Built deterministically (explicit seed) from the real communes:

* **routes départementales** between the town halls of neighbouring communes (the edges of
  their Delaunay triangulation shorter than :data:`MAX_LINK_M`, and every edge of its minimum
  spanning tree so that the network is connected), named « D 1 », « D 2 »…; importance 2 between
  two communes of over 5,000 inhabitants, 3 when one has over 1,500, else 4; drawn with a bend;
* **streets** around each town hall: a rotated grid whose half-width grows with the square root
  of the population, every street between two crossings one segment, named from a list of
  common French street names (« Rue de la Mairie », « Grande Rue »…), a few one-way;
* speeds by importance (:data:`readers.road_model.DEFAULT_SPEEDS`).

``density`` multiplies the streets per town (the benchmark's ~150,000-segment département).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay

from core.crs import metric_crs_for_departement
from core.settings import SETTINGS
from geo.communes import population_points_from_communes
from readers.road_model import BOTH, DEFAULT_SPEEDS, FORWARD, ROAD_COLUMNS

SYNTHETIC_SOURCE = "réseau synthétique (démonstration)"
#: Changes whenever the generator does (the demonstration's network is then rebuilt).
GENERATOR = "r1"
#: Longest link between two neighbouring town halls (metres).
MAX_LINK_M = 9_000.0
#: Street spacing in a town (metres).
STREET_SPACING_M = 130.0

STREET_NAMES = (
    "Rue de la Mairie",
    "Grande Rue",
    "Rue de l'Église",
    "Rue de la Gare",
    "Rue du Château",
    "Rue des Écoles",
    "Place de la République",
    "Rue Victor Hugo",
    "Avenue de Paris",
    "Rue Pasteur",
    "Rue Jean Jaurès",
    "Rue du Moulin",
    "Rue de la Poste",
    "Rue des Lilas",
    "Rue du Stade",
    "Rue de la Libération",
    "Avenue du Général de Gaulle",
    "Rue Nationale",
    "Rue des Tilleuls",
    "Rue du Commerce",
    "Rue de Bretagne",
    "Rue de Normandie",
    "Rue des Jardins",
    "Rue de la Fontaine",
    "Rue du Maine",
    "Boulevard de la Liberté",
    "Rue Saint-Martin",
    "Rue des Fossés",
    "Rue du Pont",
    "Rue de la Paix",
)


def synthetic_roads_for_departement(
    communes: gpd.GeoDataFrame, *, seed: int = 2024, density: float = 1.0
) -> gpd.GeoDataFrame:
    """The synthetic network of the communes' département (EPSG:4326, :data:`ROAD_COLUMNS`).

    Parameters
    ----------
    communes : GeoDataFrame
        The département's communes (EPSG:4326, with their town halls).
    seed : int
        Seed of every random step.
    density : float
        Streets per town, relative to the demonstration's.

    Returns
    -------
    GeoDataFrame
    """
    rng = np.random.default_rng(seed)
    dep = str(communes["departement"].iloc[0])
    crs = metric_crs_for_departement(dep)
    centres = population_points_from_communes(communes).to_crs(crs)
    xy = np.column_stack([centres.x.to_numpy(), centres.y.to_numpy()])
    population = communes["population"].fillna(0).to_numpy(dtype=float)
    names = communes["nom"].astype(str).to_numpy()
    parts = [_links(xy, population, rng), _streets(xy, population, names, rng, density)]
    table = pd.concat(parts, ignore_index=True)
    table["vitesse_kmh"] = table["importance"].map(DEFAULT_SPEEDS).astype(float)
    table.insert(0, "id_source", [f"S{i}" for i in range(len(table))])
    gdf = gpd.GeoDataFrame(table, geometry="geometry", crs=crs).to_crs("EPSG:4326")
    gdf["importance"] = gdf["importance"].astype(np.int8)
    return gdf[list(ROAD_COLUMNS)]


def _links(xy: np.ndarray, population: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Routes départementales between neighbouring town halls."""
    if len(xy) < 2:
        return pd.DataFrame(columns=["nom", "classe", "importance", "sens", "geometry"])
    if len(xy) >= 3:
        tri = Delaunay(xy)
        s = tri.simplices
        pairs = np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    else:
        pairs = np.array([[0, 1]])
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    length = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    n = len(xy)
    tree = minimum_spanning_tree(
        coo_matrix((length + 1e-9, (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    ).tocoo()
    in_tree = {(min(a, b), max(a, b)) for a, b in zip(tree.row, tree.col, strict=True)}
    keep = (length <= MAX_LINK_M) | np.array([(a, b) in in_tree for a, b in pairs])
    pairs, length = pairs[keep], length[keep]
    small = np.minimum(population[pairs[:, 0]], population[pairs[:, 1]])
    large = np.maximum(population[pairs[:, 0]], population[pairs[:, 1]])
    importance = np.where(small > 5000, 2, np.where(large > 1500, 3, 4))
    a, b = xy[pairs[:, 0]], xy[pairs[:, 1]]
    normal = np.column_stack([-(b - a)[:, 1], (b - a)[:, 0]]) / np.maximum(length, 1.0)[:, None]
    bend = (a + b) / 2 + normal * (rng.uniform(-0.08, 0.08, len(pairs)) * length)[:, None]
    lines = [shapely.LineString([p, q, r]) for p, q, r in zip(a, bend, b, strict=True)]
    return pd.DataFrame(
        {
            "nom": [f"D {i + 1}" for i in range(len(pairs))],
            "classe": np.where(importance == 2, "route principale", "route secondaire"),
            "importance": importance,
            "sens": BOTH,
            "geometry": lines,
        }
    )


def _streets(
    xy: np.ndarray, population: np.ndarray, names: np.ndarray, rng: np.random.Generator, density: float
) -> pd.DataFrame:
    """A rotated grid of streets around each town hall, one segment between two crossings."""
    rows: list[pd.DataFrame] = []
    for (cx, cy), pop in zip(xy, population, strict=True):
        half = int(np.clip(np.sqrt(max(pop, 50.0) / 400.0) * np.sqrt(density), 1, 60))
        spacing = STREET_SPACING_M * rng.uniform(0.85, 1.15)
        angle = rng.uniform(0, np.pi / 2)
        c, s = np.cos(angle), np.sin(angle)
        k = np.arange(-half, half + 1)
        gx, gy = np.meshgrid(k, k)
        jitter = rng.uniform(-0.15, 0.15, (2, *gx.shape)) * spacing
        jitter[:, half, half] = 0.0  # the town hall's crossing stays where the links meet
        px = cx + (gx * c - gy * s) * spacing + jitter[0]
        py = cy + (gx * s + gy * c) * spacing + jitter[1]
        street_names = rng.permutation(len(STREET_NAMES))
        segs, seg_names, oneway = [], [], []
        for axis in (0, 1):
            for line in range(2 * half + 1):
                if axis == 0:
                    xs, ys = px[line, :], py[line, :]
                else:
                    xs, ys = px[:, line], py[:, line]
                name = STREET_NAMES[street_names[(line + axis * 7) % len(STREET_NAMES)]]
                one = rng.random() < 0.08
                for i in range(2 * half):
                    segs.append(shapely.LineString([(xs[i], ys[i]), (xs[i + 1], ys[i + 1])]))
                    seg_names.append(name)
                    oneway.append(FORWARD if one else BOTH)
        main = np.array([n in {"Grande Rue", "Avenue de Paris", "Rue Nationale"} for n in seg_names])
        rows.append(
            pd.DataFrame(
                {
                    "nom": seg_names,
                    "classe": np.where(main, "route locale", "rue"),
                    "importance": np.where(main, 4, 5),
                    "sens": oneway,
                    "geometry": segs,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def ensure_default_roads() -> None:
    """Build the demonstration's network (the default département's) when missing or outdated."""
    from data.locations import demo_roads_store
    from geo.communes import communes_for_departement

    store = demo_roads_store()
    dep = SETTINGS.default_departement
    slug = dep.lower()
    version = f"{GENERATOR}-{SETTINGS.default_seed}"
    if store.exists(slug) and store.info(slug).extra.get("version") == version:
        return
    communes = communes_for_departement(dep)
    roads = synthetic_roads_for_departement(communes, seed=SETTINGS.default_seed)
    metric = roads.to_crs(metric_crs_for_departement(dep))
    roads["longueur_m"] = metric.geometry.length.to_numpy()
    store.save(
        roads,
        name=f"Réseau routier {dep} (synthétique)",
        source_file="générateur synthétique",
        synthetic=True,
        departement=dep,
        description=SYNTHETIC_SOURCE,
        slug=slug,
        replace=True,
        extra={
            "version": version,
            "source": SYNTHETIC_SOURCE,
            "date_donnees": None,
            "ecartes": {},
            "longueur_km": float(metric.geometry.length.sum() / 1000.0),
        },
    )
