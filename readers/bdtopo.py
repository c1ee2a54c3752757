"""Road tronçons from an IGN BD TOPO GeoPackage (one per département, several GB), either schema:
the layer ``TRONCON_DE_ROUTE`` (old: ``NATURE``, ``IMPORTANCE``, ``NOM_1_GAUCHE``, ``SENS``,
``VITESSE_MOYENNE_VL``) or ``troncon_de_route`` (BD TOPO v3: ``nature``, ``importance``,
``nom_collaboratif_gauche``, ``sens_de_circulation``, ``vitesse_moyenne_vl``), layer and field
names matched whatever their case (:data:`BDTOPO_FIELDS`); read in batches of
:data:`BATCH_ROWS` through GDAL's spatial index (``bbox``), never whole.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.formatting import fmt_count
from readers.road_model import (
    BACKWARD,
    BOTH,
    DEFAULT_SPEEDS,
    FORWARD,
    ROAD_COLUMNS,
    RoadFileError,
    RoadImport,
)

#: BD TOPO fields: normalised name -> the names it has in either schema (lower-case).
BDTOPO_FIELDS: dict[str, tuple[str, ...]] = {
    "id_source": ("cleabs", "id"),
    "nature": ("nature",),
    "importance": ("importance",),
    "nom_gauche": ("nom_collaboratif_gauche", "nom_1_gauche", "nom_voie_g", "nom_rue_g"),
    "nom_droite": ("nom_collaboratif_droite", "nom_1_droite", "nom_voie_d", "nom_rue_d"),
    "numero": ("numero", "cpx_numero", "num_route"),
    "sens": ("sens_de_circulation", "sens"),
    "vitesse": ("vitesse_moyenne_vl", "vit_moy_vl"),
}
BDTOPO_LAYER = "troncon_de_route"
#: BD TOPO natures that are no road for a car.
BDTOPO_NOT_ROADS = (
    "sentier",
    "escalier",
    "piste cyclable",
    "bac ou liaison maritime",
    "bac auto",
    "bac piéton",
    "chemin",
)
#: Rows per batch read from a GeoPackage.
BATCH_ROWS = 65_536


# ---------------------------------------------------------------------------------------
# BD TOPO GeoPackage
# ---------------------------------------------------------------------------------------
def _bdtopo_layer(path: str, filename: str) -> str:
    import pyogrio

    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # noqa: BLE001 - GDAL raises many types
        raise RoadFileError(f"« {filename} » : GeoPackage illisible ({exc}).") from exc
    for layer in layers:
        if layer.lower() == BDTOPO_LAYER:
            return layer
    shown = ", ".join(layers[:12]) + ("…" if len(layers) > 12 else "")
    raise RoadFileError(
        f"« {filename} » n'a pas de couche « troncon_de_route » (BD TOPO) : couches trouvées : {shown or 'aucune'}. "
        "Importez la BD TOPO du département (GeoPackage, thème « transport » ou complet)."
    )


def bdtopo_columns(names: list[str], filename: str, layer: str) -> dict[str, str]:
    """The file's column for each BD TOPO field (:data:`BDTOPO_FIELDS`), matched whatever the case.

    Raises
    ------
    RoadFileError
        Neither ``importance`` nor ``nature``: the layer is not a BD TOPO road layer.
    """
    lower = {n.lower(): n for n in names}
    found = {
        key: next((lower[a] for a in aliases if a in lower), None) for key, aliases in BDTOPO_FIELDS.items()
    }
    if found["importance"] is None:
        raise RoadFileError(
            f"La couche « {layer} » de « {filename} » n'a pas de champ « importance » : "
            f"champs trouvés : {', '.join(names[:20])}. Attendus (BD TOPO, majuscules ou non) : importance, nature, "
            "nom_collaboratif_gauche ou nom_1_gauche, sens_de_circulation ou sens, vitesse_moyenne_vl."
        )
    return {k: v for k, v in found.items() if v is not None}


def _bdtopo_direction(values: pd.Series) -> np.ndarray:
    text = values.fillna("").astype(str).str.lower()
    return np.select(
        [text.str.contains("direct"), text.str.contains("inverse")], [FORWARD, BACKWARD], default=BOTH
    ).astype(object)


def roads_from_bdtopo(
    path: Path | str,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    filename: str | None = None,
    batch_rows: int = BATCH_ROWS,
) -> RoadImport:
    """The road tronçons of a BD TOPO GeoPackage (either schema), read in batches (EPSG:4326).

    Parameters
    ----------
    path : Path or str
        The GeoPackage.
    bbox : tuple, optional
        ``(lon_min, lat_min, lon_max, lat_max)``: only the tronçons that reach it are read.
    filename : str, optional
        The name said in messages.
    batch_rows : int
        Rows read at a time.

    Returns
    -------
    RoadImport

    Raises
    ------
    RoadFileError
        No ``troncon_de_route`` layer, a layer without the BD TOPO fields, no CRS, no tronçon
        in ``bbox``.
    """
    import pyogrio
    from pyproj import CRS, Transformer

    path = str(path)
    name = filename or Path(path).name
    layer = _bdtopo_layer(path, name)
    try:
        info = pyogrio.read_info(path, layer=layer)
    except Exception as exc:  # noqa: BLE001 - GDAL raises many types
        raise RoadFileError(f"La couche « {layer} » de « {name} » est illisible ({exc}).") from exc
    if info.get("crs") is None:
        raise RoadFileError(f"La couche « {layer} » de « {name} » n'a pas de système de coordonnées.")
    crs = CRS.from_user_input(info["crs"])
    columns = bdtopo_columns(list(info["fields"]), name, layer)
    box = None
    if bbox is not None:
        to_file = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        xs, ys = to_file.transform([bbox[0], bbox[2], bbox[0], bbox[2]], [bbox[1], bbox[1], bbox[3], bbox[3]])
        box = (min(xs), min(ys), max(xs), max(ys))
    parts: list[gpd.GeoDataFrame] = []
    rejected: list[pd.DataFrame] = []
    left_out: Counter[str] = Counter()
    read = 0
    try:
        with pyogrio.open_arrow(
            path,
            layer=layer,
            columns=list(columns.values()),
            bbox=box,
            batch_size=batch_rows,
            use_pyarrow=True,
        ) as (meta, reader):
            geometry_name = meta.get("geometry_name") or "wkb_geometry"
            for batch in reader:
                frame = batch.to_pandas()
                read += len(frame)
                geoms = shapely.from_wkb(frame.pop(geometry_name).to_numpy(), on_invalid="ignore")
                part, bad, out = _roads_from_bdtopo_batch(frame, geoms, columns)
                left_out.update(out)
                if len(bad):
                    rejected.append(bad)
                if len(part):
                    parts.append(gpd.GeoDataFrame(part, geometry="geometry", crs=crs).to_crs("EPSG:4326"))
    except RoadFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - GDAL and Arrow raise many types
        raise RoadFileError(
            f"Lecture interrompue de la couche « {layer} » de « {name} » après {fmt_count(read)} tronçons ({exc}) : "
            "le fichier est peut-être incomplet ; téléchargez-le de nouveau."
        ) from exc
    if not parts:
        if read == 0:
            raise RoadFileError(
                f"« {name} » n'a aucun tronçon dans ce département : importez la BD TOPO de ce département."
            )
        raise RoadFileError(
            f"« {name} » n'a aucun tronçon routier ({fmt_count(read)} tronçons lus, aucun carrossable)."
        )
    roads = pd.concat(parts, ignore_index=True)
    report = (
        pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(columns=["id_source", "motif"])
    )
    return RoadImport(
        gpd.GeoDataFrame(roads, geometry="geometry", crs="EPSG:4326"),
        "IGN BD TOPO",
        layer,
        dict(left_out),
        report,
        read,
    )


def _roads_from_bdtopo_batch(
    frame: pd.DataFrame, geoms: np.ndarray, columns: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame, Counter[str]]:
    """One batch of tronçons: the roads kept (normalised), the rows rejected and the counts left out."""
    n = len(frame)
    ident = (
        frame[columns["id_source"]].astype(str).to_numpy()
        if "id_source" in columns
        else np.array([f"ligne {i + 1}" for i in range(n)], dtype=object)
    )
    importance = pd.to_numeric(frame[columns["importance"]], errors="coerce")
    nature = frame[columns["nature"]].fillna("").astype(str) if "nature" in columns else pd.Series([""] * n)
    lower_nature = nature.str.lower().to_numpy()
    kinds = shapely.get_type_id(geoms)
    line = np.isin(kinds, [1, 5])  # LineString, MultiLineString
    motif = np.full(n, "", dtype=object)
    motif[~line] = "géométrie absente ou qui n'est pas une ligne"
    left: Counter[str] = Counter()
    not_road = line & (np.isin(lower_nature, BDTOPO_NOT_ROADS) | ~importance.between(1, 5).to_numpy())
    for value, count in Counter(
        np.where(lower_nature[not_road] != "", lower_nature[not_road], "importance 6 ou NC")
    ).items():
        left[f"tronçon non routier ({value})"] += count
    keep = line & ~not_road
    bad = pd.DataFrame({"id_source": ident[motif != ""], "motif": motif[motif != ""]})
    if not keep.any():
        return pd.DataFrame(columns=list(ROAD_COLUMNS)), bad, left
    left_name = frame[columns["nom_gauche"]] if "nom_gauche" in columns else pd.Series([None] * n)
    right_name = frame[columns["nom_droite"]] if "nom_droite" in columns else pd.Series([None] * n)
    number = frame[columns["numero"]] if "numero" in columns else pd.Series([None] * n)
    name = left_name.where(left_name.notna() & (left_name.astype(str).str.strip() != ""), right_name)
    name = name.where(name.notna() & (name.astype(str).str.strip() != ""), number)
    imp = importance.to_numpy()[keep].astype(np.int8)
    speed = (
        pd.to_numeric(frame[columns["vitesse"]], errors="coerce").to_numpy()[keep].astype(float)
        if "vitesse" in columns
        else np.full(int(keep.sum()), np.nan)
    )
    default = np.vectorize(DEFAULT_SPEEDS.get)(imp).astype(float)
    speed = np.where((speed >= 5) & (speed <= 150), speed, default)
    direction = (
        _bdtopo_direction(frame[columns["sens"]]) if "sens" in columns else np.full(n, BOTH, dtype=object)
    )
    label = np.where(lower_nature[keep] == "type autoroutier", "autoroute", nature.to_numpy()[keep])
    lines = shapely.line_merge(geoms[keep])  # a MultiLineString of one part becomes a line
    out = pd.DataFrame(
        {
            "id_source": ident[keep],
            "nom": name.to_numpy()[keep],
            "classe": label,
            "importance": imp,
            "vitesse_kmh": speed,
            "sens": direction[keep],
            "geometry": shapely.force_2d(lines),
        }
    )
    return out, bad, left
