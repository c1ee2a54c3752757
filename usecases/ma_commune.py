"""« Ma commune »: a mayor's diagnostic and follow-up of their commune, always published.

The use case takes who is looking and returns only aggregated, gated text: the page never
receives an incident, a coordinate, or a count of 1 to 5. The key figures come from the
packs' département-wide computation (:mod:`usecases.packs`), so a commune's figures are gated
together with the other communes, its canton, its EPCI and the département total: nothing
hidden can be recovered by subtraction, not even from the canton meeting packs.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from core import model as m
from core.access import MAYOR, Viewer
from core.crs import WGS84
from core.errors import DelinquanceError
from core.formatting import fmt_count, fmt_date
from core.privacy import Audience, secret_mask_from_counts
from core.settings import SETTINGS
from data.store import DatasetInfo
from usecases.common import Metric
from usecases.packs import PackData, figures_rows, zones_touching
from usecases.selection import Selection, datasets_for_departement

PUBLIC = Audience.public()


class CommuneAccessError(DelinquanceError):
    """A commune outside the viewer's territory."""


@dataclass
class CommuneSheet:
    """What « Ma commune » shows (published view, text cells)."""

    code: str
    name: str
    period: str
    metrics: list[Metric]
    offences: pd.DataFrame  # infraction, faits (text; hidden ones left out)
    monthly: pd.DataFrame  # mois, faits (NaN: hidden)
    outline: gpd.GeoSeries  # the commune, EPSG:4326
    zones: gpd.GeoDataFrame  # published priority zones touching it, EPSG:4326 (rang, geometry)
    notes: list[str]


def commune_sheet_for_viewer(
    viewer: Viewer, code: str, pack: PackData, incidents: gpd.GeoDataFrame
) -> CommuneSheet:
    """The commune sheet of ``code`` for ``viewer`` (a mayor: only their communes).

    The key figures are those of the packs (:mod:`usecases.packs`: communes, cantons, EPCIs and
    the département gated together); the offences and months of the commune are gated within
    its published total.

    Raises
    ------
    CommuneAccessError
        ``code`` is not one of a mayor's communes, or not in the département.
    """
    if viewer.role == MAYOR and code not in viewer.communes:
        raise CommuneAccessError(
            "Cette commune n'est pas dans votre territoire : choisissez l'une des vôtres."
        )
    if code not in pack.communes.index:
        raise CommuneAccessError(f"Commune {code} inconnue dans ce département.")
    row = pack.communes.loc[code]
    figures = figures_rows(pack, row, rate_base=float(row["population"]))
    metrics = [Metric(label, value) for label, value in figures[1:]]
    start, end = pack.windows["an"]
    hidden = bool(row["secret_an"])
    day = incidents[m.START].dt.normalize()
    sel = incidents[
        (incidents[m.COMMUNE] == code) & (day >= pd.Timestamp(start)) & (day <= pd.Timestamp(end))
    ]
    by_offence = sel[m.OFFENCE].value_counts()
    mask = np.ones(len(by_offence), dtype=bool) if hidden else secret_mask_from_counts(by_offence.to_numpy())
    offences = pd.DataFrame(
        {
            "infraction": by_offence.index[~mask],
            "faits": [fmt_count(int(v)) for v in by_offence.to_numpy()[~mask]],
        }
    )
    month = sel[m.START].dt.to_period("M").dt.to_timestamp()
    months = pd.date_range(
        pd.Timestamp(start).to_period("M").to_timestamp(),
        pd.Timestamp(end).to_period("M").to_timestamp(),
        freq="MS",
    )
    series = month.value_counts().reindex(months, fill_value=0)
    mmask = np.ones(len(series), dtype=bool) if hidden else secret_mask_from_counts(series.to_numpy())
    monthly = pd.DataFrame({"mois": months, "faits": series.to_numpy().astype(float)})
    monthly.loc[mmask, "faits"] = np.nan
    zones = zones_touching(pack, [code])
    zones = (
        zones[["rang", "geometry"]].to_crs(WGS84)
        if len(zones)
        else gpd.GeoDataFrame({"rang": []}, geometry=[], crs=WGS84)
    )
    notes = [
        f"Vue diffusable : effectifs de 1 à {SETTINGS.privacy_threshold} masqués (secret statistique), ainsi que ceux qui permettraient "
        "de les retrouver ; aucune position de fait n'est montrée.",
        "Zones prioritaires : détectées sur les douze mois précédant les deux derniers mois.",
    ]
    return CommuneSheet(
        code=code,
        name=str(row["nom"]),
        period=f"du {fmt_date(start)} au {fmt_date(end)}",
        metrics=metrics,
        offences=offences,
        monthly=monthly,
        outline=gpd.GeoSeries(pack.geometry.loc[[code]].to_numpy(), crs=pack.geometry.crs).to_crs(WGS84),
        zones=zones,
        notes=notes,
    )


def dataset_for_mayor(departement: str) -> tuple[Selection, DatasetInfo] | None:
    """The data set a mayor's sheet is made from: the newest imported file of the département,
    else its national partition, else the generated demonstration (None: no data set)."""
    found = datasets_for_departement(departement)  # each store lists its newest first
    for kind in ("espace", "national", "defaut"):
        newest = next((info for k, info in found if k == kind), None)
        if newest is not None:
            return Selection.of(kind, newest, departement), newest
    return None
