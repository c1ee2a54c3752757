"""Zones page, « Rues les plus touchées »: the selection's incidents on the street segments of
the département's network (:func:`analysis.streets.counts_by_segment`), per segment and per km,
how concentrated they are (the share of segments holding half and a quarter of them), a map
and a table.

Published view: the rule for lines (:func:`core.privacy.published_segments`): only the
segments holding more than the threshold are drawn and listed, each with its own count; no
street or commune total; the shares only when the network holds more than the threshold.
Exports are always in the published view.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.streets import SNAP_M, StreetIndex, concentration_of_counts, counts_by_segment
from core.formatting import fmt_count, fmt_share
from core.model import IncidentFilter, filter_incidents, located
from core.privacy import (
    SECRET_LABEL,
    Audience,
    published_segments,
    secret_mask_from_counts,
    too_small_for_a_ratio,
)
from core.settings import SETTINGS
from rendering.exports import csv_bytes_from_frame, geojson_bytes_from_frame
from usecases.common import Metric

#: Segments listed in the table (the busiest first) and drawn on the map, at most.
TOP_SEGMENTS = 50
MAP_SEGMENTS = 2_000
#: The « law of crime concentration » (Weisburd 2015): the share of a city's street segments
#: that hold half and a quarter of its crime, in the cities studied.
LAW_HALF, LAW_QUARTER = "2 à 6 %", "0,4 à 1,6 %"

HOT_STREETS_NOTE = (
    f"Chaque fait localisé est rattaché au tronçon de rue le plus proche, à moins de {SNAP_M:.0f} m (une "
    "adresse géocodée tombe sur le bâtiment, à 10-30 m de l'axe de la rue) ; au-delà, il n'est compté sur "
    "aucune rue. Un tronçon va d'un carrefour au suivant. La part des tronçons qui concentrent la moitié et "
    "le quart des faits se lit contre la « loi de concentration » de Weisburd (2015) : "
    f"{LAW_HALF} et {LAW_QUARTER} des tronçons dans les villes étudiées (ici sur tout le réseau du "
    "département, campagne comprise). Vue diffusable : seuls les tronçons dont l'effectif dépasse "
    f"{SETTINGS.privacy_threshold} sont montrés, chacun avec son effectif, sans total par rue ni par "
    "commune (la différence situerait les autres)."
)


@dataclass
class HotStreetsView:
    """What the section draws: figures, the segments of the map, the table, notes, exports."""

    metrics: list[Metric]
    segments_wgs84: gpd.GeoDataFrame  # ``rue``, ``entre``, ``faits``, ``par_km``
    table: pd.DataFrame
    notes: list[str]
    export_csv: bytes
    export_geojson: bytes


def _between(index: StreetIndex, rows: np.ndarray) -> list[str]:
    """« entre Rue Y et Rue Z »: the other streets at the segment's two ends."""
    out = []
    for s in rows:
        own = index.names[s]
        ends = []
        for node in (index.net.u[s], index.net.v[s]):
            others = [n for n in index.node_names.get(int(node), ()) if n != own]
            ends.append(others[0] if others else None)
        named = [e for e in ends if e]
        out.append(
            f"entre {named[0]} et {named[1]}"
            if len(named) == 2 and named[0] != named[1]
            else f"près de {named[0]}"
            if named
            else ""
        )
    return out


def hot_streets_for_selection(
    incidents: gpd.GeoDataFrame,
    flt: IncidentFilter,
    streets: StreetIndex,
    communes: gpd.GeoDataFrame,
    *,
    audience: Audience,
) -> HotStreetsView:
    """The selection's incidents on the streets, for an audience (exports always published).

    Parameters
    ----------
    incidents : GeoDataFrame
        The data set (any CRS).
    flt : IncidentFilter
        The sidebar's selection.
    streets : StreetIndex
        The département's network.
    communes : GeoDataFrame
        The département's communes (any CRS): each segment's commune in the table.
    audience : Audience
        Published or internal view.
    """
    sel = located(filter_incidents(incidents, flt)).to_crs(streets.roads.crs)
    x, y = sel.geometry.x.to_numpy(), sel.geometry.y.to_numpy()
    table, off = counts_by_segment(streets, x, y)
    counts = table["faits"].to_numpy()
    on_network = int(counts.sum())
    conc = concentration_of_counts(counts, table["longueur_m"].to_numpy())
    pub = audience.published
    shown = published_segments(counts) if pub else counts > 0
    always = published_segments(counts)
    small = pub and bool(too_small_for_a_ratio(on_network))

    # On and off the streets add up to the selection's total, which the page shows: when one
    # is secret, the other would give it back (secondary secrecy).
    split_hidden = pub and bool(secret_mask_from_counts(np.array([on_network, off])).any())

    def count_text(n: int) -> str:
        return SECRET_LABEL if split_hidden else fmt_count(n)

    metrics = [
        Metric(
            "Faits sur une rue",
            count_text(on_network),
            f"{count_text(off)} à plus de {SNAP_M:.0f} m d'une rue",
        ),
        Metric(
            "Tronçons qui concentrent la moitié des faits",
            SECRET_LABEL if small or not np.isfinite(conc.share_for_half) else fmt_share(conc.share_for_half),
            f"villes étudiées : {LAW_HALF}",
        ),
        Metric(
            "… et le quart des faits",
            SECRET_LABEL
            if small or not np.isfinite(conc.share_for_quarter)
            else fmt_share(conc.share_for_quarter),
            f"villes étudiées : {LAW_QUARTER}",
        ),
    ]

    def segment_table(mask: np.ndarray, limit: int) -> tuple[pd.DataFrame, np.ndarray]:
        rows = np.flatnonzero(mask)
        rows = rows[np.lexsort((-table["faits_par_km"].to_numpy()[rows], -counts[rows]))][:limit]
        mid = streets.roads.geometry.iloc[rows].interpolate(0.5, normalized=True)
        joined = gpd.sjoin(
            gpd.GeoDataFrame(geometry=mid.to_numpy(), crs=streets.roads.crs),
            communes.to_crs(streets.roads.crs)[["nom", "geometry"]],
            how="left",
            predicate="within",
        )
        commune = joined["nom"].groupby(level=0).first().reindex(range(len(rows))).to_numpy()
        names = streets.names[rows]
        frame = pd.DataFrame(
            {
                "rang": np.arange(1, len(rows) + 1),
                "rue": [n if n else "rue sans nom" for n in names],
                "entre": _between(streets, rows),
                "commune": commune,
                "faits": counts[rows],
                "longueur_m": np.round(table["longueur_m"].to_numpy()[rows]).astype(int),
                "par_km": np.round(table["faits_par_km"].to_numpy()[rows], 1),
            }
        )
        return frame, rows

    listed, _ = segment_table(shown, TOP_SEGMENTS)
    drawn, drawn_rows = segment_table(shown, MAP_SEGMENTS)
    exported, export_rows = segment_table(always, MAP_SEGMENTS)
    segments = gpd.GeoDataFrame(
        drawn[["rang", "rue", "entre", "faits", "par_km"]],
        geometry=streets.roads.geometry.iloc[drawn_rows].to_numpy(),
        crs=streets.roads.crs,
    ).to_crs("EPSG:4326")
    notes = []
    if pub:
        hidden = int(((counts > 0) & ~always).sum())
        if hidden:
            notes.append(
                f"{fmt_count(hidden)} tronçon(s) d'un effectif de 1 à {SETTINGS.privacy_threshold} ne sont pas montrés "
                "(secret statistique : ils situeraient ces faits)."
            )
    if int(shown.sum()) > MAP_SEGMENTS:
        notes.append(f"Carte : les {fmt_count(MAP_SEGMENTS)} tronçons les plus touchés.")
    export_geoms = streets.roads.geometry.iloc[export_rows].to_crs("EPSG:4326")
    return HotStreetsView(
        metrics=metrics,
        segments_wgs84=segments,
        table=listed,
        notes=notes,
        export_csv=csv_bytes_from_frame(exported),
        export_geojson=geojson_bytes_from_frame(exported, export_geoms),
    )
