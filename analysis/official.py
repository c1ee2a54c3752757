"""Official SSMSI statistics by commune: published rates, change, département figures.

Pure computation on the canonical table of :mod:`readers.ssmsi`. Unpublished values stay
unpublished: the département mean of unpublished communes (``estimation_dep_*``) is only
ever returned in its own, labelled columns.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from core.formatting import fmt_decimal
from core.plm import codes_counted_once

STATUS_PUBLISHED = "publié"
STATUS_SECRET = "non diffusé"
STATUS_ABSENT = "absent de la base"


def official_rates_for_communes(
    stats: pd.DataFrame, communes: gpd.GeoDataFrame, *, indicateur: str, annee: int
) -> gpd.GeoDataFrame:
    """Published count and rate of one indicator and year for every commune.

    Parameters
    ----------
    stats : DataFrame
        Communal base in the canonical form (``niveau == "commune"`` rows are used, by
        code: where the units are the arrondissements of Paris, Lyon or Marseille, their
        own rows; the city's row is never added to them).
    communes : GeoDataFrame
        Communes of the département.
    indicateur : str
        SSMSI indicator.
    annee : int
        Year.

    Returns
    -------
    GeoDataFrame
        Indexed like ``communes``: ``code``, ``nom``, ``nombre``, ``taux_pour_mille``
        (NaN unless published), ``statut``, ``taux_annee_precedente``, ``evolution``
        (relative change of the rate, both years published), ``estimation_dep_taux``
        (département estimate for unpublished communes, labelled as such), geometry.
    """
    rows = stats[(stats["niveau"] == "commune") & (stats["indicateur"] == indicateur)]
    cur = rows[rows["annee"] == annee].drop_duplicates("code").set_index("code")
    prev = rows[rows["annee"] == annee - 1].drop_duplicates("code").set_index("code")
    codes = communes["code"]
    present = codes.isin(cur.index).to_numpy()
    diffuse = codes.map(cur["diffuse"]).fillna(False).to_numpy(dtype=bool)
    rate = codes.map(cur["taux_pour_mille"]).to_numpy(dtype=float)
    prev_rate = codes.map(prev["taux_pour_mille"]).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where((prev_rate > 0) & np.isfinite(rate), rate / prev_rate - 1.0, np.nan)
    out = pd.DataFrame(
        {
            "code": codes.to_numpy(),
            "nom": communes["nom"].to_numpy(),
            "population": communes["population"].to_numpy(),
            "nombre": codes.map(cur["nombre"]).to_numpy(dtype=float),
            "taux_pour_mille": rate,
            "statut": np.where(~present, STATUS_ABSENT, np.where(diffuse, STATUS_PUBLISHED, STATUS_SECRET)),
            "taux_annee_precedente": prev_rate,
            "evolution": change,
            "estimation_dep_taux": np.where(
                diffuse, np.nan, codes.map(cur["estimation_dep_taux"]).to_numpy(dtype=float)
            ),
        },
        index=communes.index,
    )
    return gpd.GeoDataFrame(out, geometry=communes.geometry, crs=communes.crs)


def departement_series(stats: pd.DataFrame, departement: str, *, indicateur: str) -> pd.DataFrame:
    """Yearly figures of a département for one indicator.

    Uses the departmental base when loaded; otherwise the sum of the published communes
    of the communal base, flagged ``partiel`` (unpublished communes are missing from it).

    Returns
    -------
    DataFrame
        ``annee``, ``nombre``, ``taux_pour_mille`` (departmental base only), ``source``.
    """
    dep = stats[
        (stats["niveau"] == "departement")
        & (stats["code"] == departement)
        & (stats["indicateur"] == indicateur)
    ]
    if len(dep):
        out = (
            dep[["annee", "nombre", "taux_pour_mille"]]
            .sort_values("annee")
            .assign(source="base départementale")
        )
        return out.reset_index(drop=True)
    com = communes_without_double_counting(stats[stats["niveau"] == "commune"])
    com = com[
        (com["niveau"] == "commune")
        & com["code"].astype(str).str.startswith(departement)
        & (com["indicateur"] == indicateur)
        & com["diffuse"]
    ]
    out = (
        com.groupby("annee", as_index=False)["nombre"]
        .sum()
        .assign(taux_pour_mille=np.nan, source="communes publiées (partiel)")
    )
    return out


def official_commune_table(rates: pd.DataFrame) -> pd.DataFrame:
    """Communes ranked by published rate, for display and export.

    Unpublished communes show "non diffusé" and no number; the département estimate is in
    its own, labelled column.
    """
    df = pd.DataFrame(
        rates.drop(columns=rates.geometry.name) if isinstance(rates, gpd.GeoDataFrame) else rates
    )
    published = df["statut"] == STATUS_PUBLISHED
    df = df.assign(_p=published).sort_values(["_p", "taux_pour_mille"], ascending=[False, False])

    def fmt(v: float, d: int) -> str:
        return fmt_decimal(v, d) if np.isfinite(v) else ""

    return pd.DataFrame(
        {
            "code": df["code"].to_numpy(),
            "commune": df["nom"].to_numpy(),
            "statut": df["statut"].to_numpy(),
            "nombre": [fmt(v, 0) for v in df["nombre"]],
            "taux_pour_mille": [fmt(v, 2) for v in df["taux_pour_mille"]],
            "evolution_pct": [fmt(100 * v, 1) for v in df["evolution"]],
            "estimation_departementale_taux": [fmt(v, 2) for v in df["estimation_dep_taux"]],
        },
        index=df.index,
    )


def communes_without_double_counting(table: pd.DataFrame) -> pd.DataFrame:
    """Drop Paris, Lyon and Marseille arrondissements where the whole commune is present.

    Summing a communal base must never count these cities twice: for a sum the city's own
    row is kept (it is published even where an arrondissement is not), its arrondissements'
    rows dropped (see :func:`core.plm.codes_counted_once`).
    """
    drop = codes_counted_once(table["code"].astype(str).unique(), keep="city")
    return table[~table["code"].astype(str).isin(drop)].reset_index(drop=True)


def dwellings_from_statistics(stats: pd.DataFrame, codes: pd.Series) -> pd.Series | None:
    """Dwellings of each commune from an SSMSI communal base (``insee_log``), latest year.

    Parameters
    ----------
    stats : DataFrame
        A saved SSMSI table (:mod:`readers.ssmsi`).
    codes : Series
        INSEE codes of the communes wanted.

    Returns
    -------
    Series or None
        Dwellings indexed by code (NaN where unknown), or None when the table gives none of
        these communes.
    """
    if "logements" not in stats or "niveau" not in stats:
        return None
    rows = stats[(stats["niveau"] == "commune") & stats["logements"].notna() & stats["code"].isin(codes)]
    if rows.empty:
        return None
    latest = rows.sort_values("annee").drop_duplicates("code", keep="last").set_index("code")["logements"]
    return latest.reindex(codes.to_numpy()).astype(float)
