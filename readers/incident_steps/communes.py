"""Step 4, communes: the commune of each point (spatial join), codes and names checked."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.crs import WGS84
from core.plm import PLM, city_of
from core.vocabulary import (
    map_distinct,
    normalize_label,
)
from readers.incident_steps.coordinates import Located
from readers.incident_steps.log import ImportLog
from readers.incident_steps.text import _mask, text_column, where_strings


# ---------------------------------------------------------------------------------------
# 4. Communes
# ---------------------------------------------------------------------------------------
@dataclass
class Placement:
    """Where each row is: its point (or None), commune, and two flags."""

    points: gpd.GeoSeries
    commune: pd.Series
    outside: pd.Series
    no_point: pd.Series


def _commune_codes(code_raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Commune codes normalised (« 1053 » → « 01053 », « 53130.0 » → « 53130 ») and validity."""
    code = code_raw.str.upper().str.replace(r"\.0$", "", regex=True)
    code = code.where(~_mask(code.str.fullmatch(r"\d{4}")), "0" + code)
    return code, _mask(code.str.fullmatch(r"(\d{5}|2[AB]\d{3})"))


def _communes_of_points(points: gpd.GeoSeries, located: pd.Series, communes: gpd.GeoDataFrame) -> pd.Series:
    """Code of the commune each located point falls in (missing outside every commune)."""
    codes = np.full(len(located), None, dtype=object)
    if located.any():
        polygons = communes.geometry.to_numpy()
        shapely.prepare(polygons)  # kept on the (shared, immutable) communes: later imports reuse it
        pts = points[located.to_numpy()].to_numpy()
        # Bounding boxes from the tree, then point in polygon on prepared polygons: the same
        # pairs as ``predicate="within"`` (a point on a boundary is in neither), three times faster.
        pts_idx, poly_idx = shapely.STRtree(polygons).query(pts)
        inside = shapely.contains_xy(
            polygons[poly_idx], shapely.get_x(pts[pts_idx]), shapely.get_y(pts[pts_idx])
        )
        pts_idx, poly_idx = pts_idx[inside], poly_idx[inside]
        loc_positions = np.flatnonzero(located.to_numpy())
        codes[loc_positions[pts_idx]] = communes["code"].to_numpy()[poly_idx]
    # Filled as objects, converted once (writing into an Arrow string column goes value by value).
    return pd.Series(codes, index=located.index, dtype=pd.StringDtype("pyarrow"))


def commune_name_key(name: object) -> str:
    """A commune name for matching: no accents or case, « St »/« Ste » as « Saint »/« Sainte »."""
    words = normalize_label(name).split()
    return " ".join({"st": "saint", "ste": "sainte"}.get(w, w) for w in words)


def codes_from_commune_names(
    names: pd.Series, communes: gpd.GeoDataFrame
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """INSEE codes of commune names within the département.

    Returns the code (missing when not found or ambiguous), the homonym codes of an
    ambiguous name (« 53001, 53002 »), and whether a given name matched no commune.
    """
    keys = communes["nom"].map(commune_name_key)
    by_key = communes.groupby(keys.to_numpy())["code"].agg(list)
    looked = names.astype(object).map(lambda n: None if pd.isna(n) else by_key.get(commune_name_key(n)))
    code = looked.map(lambda c: c[0] if isinstance(c, list) and len(c) == 1 else None)
    homonyms = looked.map(lambda c: ", ".join(c) if isinstance(c, list) and len(c) > 1 else None)
    unknown = names.notna() & looked.isna()
    return code.astype(object), homonyms.astype(object), unknown


def _commune_from_names(
    frame: pd.DataFrame,
    mapping: dict[str, str | None],
    commune: pd.Series,
    located: pd.Series,
    communes: gpd.GeoDataFrame,
    log: ImportLog,
) -> tuple[pd.Series, pd.Series]:
    """Rows still without a commune and without a point: the commune named by the file.

    Returns the communes completed and the rows whose name was tried and failed (rejected).
    """
    names = text_column(frame, mapping.get("commune_nom"))
    todo = commune.isna() & ~located & names.notna()
    if not todo.any():
        return commune, todo & False
    code, homonyms, unknown = codes_from_commune_names(names.where(todo), communes)
    found = todo & code.notna()
    log.reject(
        (todo & homonyms.notna()).to_numpy(),
        "commune_nom",
        "nom de commune ambigu (homonymes dans le département) : donnez le code INSEE",
        names + " → " + homonyms.fillna(""),
    )
    log.reject((todo & unknown).to_numpy(), "commune_nom", "commune inconnue dans le département", names)
    if found.any():
        log.warnings.append(f"{int(found.sum())} fait(s) localisé(s) par le seul nom de leur commune.")
    return commune.where(~found, code), todo & ~found


def communes_from_points(
    frame: pd.DataFrame,
    mapping: dict[str, str | None],
    found: Located,
    communes: gpd.GeoDataFrame,
    log: ImportLog,
) -> Placement:
    """The *commune* step: the file's commune code when valid, else the point's commune,
    else the commune named by the file (matched within the département).

    Rows with neither a point nor a valid code are rejected; rows outside the
    département are kept and flagged.
    """
    located = found.located
    xy = gpd.points_from_xy(found.lon.fillna(0), found.lat.fillna(0))
    xy[~np.asarray(located, dtype=bool)] = None  # (in place: no object array of a million points)
    points = gpd.GeoSeries(xy, crs=WGS84)
    code_raw = text_column(frame, mapping.get("code_commune"))
    code, valid_code = _commune_codes(code_raw)
    bad_code = code_raw.notna() & ~valid_code
    log.reject(
        (bad_code & ~located).to_numpy(),
        "code_commune",
        "code commune invalide (5 caractères INSEE attendus) et pas de coordonnées",
        code_raw,
    )
    joined = _communes_of_points(points, located, communes)
    # Paris, Lyon, Marseille: a file giving the city's code is placed in the arrondissement
    # its point falls in (the units); without a point it keeps the city's code (city total).
    city_level = valid_code & _mask(code.isin(list(PLM))) & _mask(map_distinct(joined, city_of) == code)
    if city_level.any():
        log.warnings.append(
            f"{int(city_level.sum())} fait(s) codé(s) à la ville (Paris, Lyon ou Marseille) : "
            "arrondissement déduit de la localisation."
        )
    commune = where_strings(valid_code & ~city_level, code, joined)
    if mapping.get("code_commune"):
        disagree = valid_code & joined.notna() & _mask(code != joined)
        if disagree.any():
            log.warnings.append(
                f"{int(disagree.sum())} fait(s) dont le code commune ne correspond pas au point : "
                "le code du fichier est gardé."
            )
        derived = ~valid_code & joined.notna()
        if derived.any():
            log.warnings.append(
                f"{int(derived.sum())} fait(s) sans code commune valide : commune déduite de la localisation."
            )
    commune, name_failed = _commune_from_names(frame, mapping, commune, located, communes, log)
    no_place = commune.isna() & ~located
    log.reject(
        (no_place & ~bad_code & ~name_failed).to_numpy(), "localisation", "ni coordonnées ni code commune"
    )
    units = set(communes["code"])
    in_dep = _mask(commune.isin(units | {city_of(c) for c in units}))
    city_only = ~located & _mask(commune.isin(list(PLM))) & in_dep
    if city_only.any():
        log.warnings.append(
            f"{int(city_only.sum())} fait(s) localisé(s) seulement à la ville (Paris, Lyon ou Marseille), "
            "sans coordonnées : comptés dans les totaux de la ville et du département, sur aucun arrondissement."
        )
    outside = (located & joined.isna()) | (~located & commune.notna() & ~in_dep)
    return Placement(points, commune, outside, ~located & commune.notna())
