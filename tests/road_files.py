"""Road files written from a road table, as the real sources write them: an OpenStreetMap PBF
(osmium's writer: nodes shared at crossings, ``highway``/``name``/``oneway`` tags) and a
BD TOPO v3-shaped GeoPackage (layer ``troncon_de_route`` in Lambert-93, with another layer
beside it). Used by the tests and by ``bench/bench_roads.py``."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

#: Importance -> the OSM ``highway`` value written.
HIGHWAY_OF = {1: "motorway", 2: "primary", 3: "secondary", 4: "tertiary", 5: "residential"}


def write_pbf(roads: gpd.GeoDataFrame, path: Path) -> Path:
    """``roads`` (any CRS) as an OSM extract: one way a segment, nodes shared by coordinates."""
    import osmium

    wgs = roads.to_crs("EPSG:4326")
    coords, index = shapely.get_coordinates(wgs.geometry.to_numpy(), return_index=True)
    key = np.round(coords * 1e7).astype(np.int64)
    _, first, node = np.unique(key[:, 0] * 4_000_000_000 + key[:, 1], return_index=True, return_inverse=True)
    path = Path(path)
    if path.exists():
        path.unlink()
    writer = osmium.SimpleWriter(str(path))
    try:
        for i, f in enumerate(first):
            writer.add_node(osmium.osm.mutable.Node(id=i + 1, location=(coords[f, 0], coords[f, 1])))
        starts = np.r_[0, np.flatnonzero(np.diff(index)) + 1, len(index)]
        names = wgs["nom"].to_numpy()
        imp = wgs["importance"].to_numpy()
        sens = wgs["sens"].to_numpy()
        for j in range(len(starts) - 1):
            tags = {"highway": HIGHWAY_OF[int(imp[j])]}
            if isinstance(names[j], str) and names[j]:
                tags["name"] = names[j]
            tags["oneway"] = {"direct": "yes", "inverse": "-1"}.get(sens[j], "no")
            refs = [int(n) + 1 for n in node[starts[j] : starts[j + 1]]]
            writer.add_way(osmium.osm.mutable.Way(id=j + 1, nodes=refs, tags=tags))
    finally:
        writer.close()
    return path


def write_bdtopo(roads: gpd.GeoDataFrame, path: Path) -> Path:
    """``roads`` as a BD TOPO v3 GeoPackage (``troncon_de_route`` in Lambert-93, a ``batiment`` layer)."""
    l93 = roads.to_crs("EPSG:2154")
    table = gpd.GeoDataFrame(
        {
            "cleabs": l93["id_source"].astype(str).to_numpy(),
            "nature": np.where(l93["importance"] <= 1, "Type autoroutier", "Route à 1 chaussée"),
            "importance": l93["importance"].astype(str).to_numpy(),
            "nom_collaboratif_gauche": l93["nom"].to_numpy(),
            "sens_de_circulation": np.select(
                [l93["sens"] == "direct", l93["sens"] == "inverse"],
                ["Sens direct", "Sens inverse"],
                "Double sens",
            ),
            "vitesse_moyenne_vl": l93["vitesse_kmh"].round().astype(int).to_numpy(),
        },
        geometry=l93.geometry.to_numpy(),
        crs="EPSG:2154",
    )
    path = Path(path)
    table.to_file(path, layer="troncon_de_route", driver="GPKG")
    gpd.GeoDataFrame(
        {"nature": ["Mairie"]}, geometry=[l93.geometry.iloc[0].centroid], crs="EPSG:2154"
    ).to_file(path, layer="batiment", driver="GPKG")
    return path
