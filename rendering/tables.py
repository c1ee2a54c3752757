"""Tables as shown and exported (site lists with their coordinates)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd


def site_table_from_sites(
    sites: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, *, addresses: list[str | None] | None = None
) -> pd.DataFrame:
    """The table of sites as shown and exported: rank, counts, commune, WGS84 and Lambert-93.

    Parameters
    ----------
    sites : GeoDataFrame
        From :func:`analysis.siting_adapter.sites_from_geodataframes`, raw or passed through
        :func:`analysis.siting_publication.published_sites` (``"secret"`` cells are kept as they are).
    communes : GeoDataFrame
        Communes (``nom``, geometry) in the CRS of ``sites``.
    addresses : list of str, optional
        Each site's place by its streets (:func:`analysis.streets.descriptions_of_points`):
        an ``adresse`` column after ``statut``.

    Returns
    -------
    DataFrame
        ``rang``, ``statut``, ``faits``, ``gain_pondere``, ``couverture_cumulee``,
        ``commune``, ``longitude``, ``latitude`` (WGS84), ``x_lambert93``, ``y_lambert93``.
    """
    joined = gpd.sjoin(sites, communes[["nom", "geometry"]], how="left", predicate="within")
    w84, l93 = sites.to_crs("EPSG:4326"), sites.to_crs("EPSG:2154")

    def rounded(values: pd.Series, digits: int) -> list[object]:
        return [v if isinstance(v, str) else round(float(v), digits) for v in values]

    table = pd.DataFrame(
        {
            "rang": sites["rang"].to_numpy(),
            "statut": sites["statut"].to_numpy(),
            "faits": sites["faits"].to_numpy(),
            "gain_pondere": rounded(sites["gain"], 1),
            "couverture_cumulee": rounded(sites["part_cumulee"], 4),
            "commune": joined["nom"].groupby(level=0).first().reindex(sites.index).to_numpy(),
            "longitude": w84.geometry.x.round(6).to_numpy(),
            "latitude": w84.geometry.y.round(6).to_numpy(),
            "x_lambert93": l93.geometry.x.round(1).to_numpy(),
            "y_lambert93": l93.geometry.y.round(1).to_numpy(),
        }
    )
    if addresses is not None:
        table.insert(2, "adresse", [a if a else "–" for a in addresses])
    return table
