"""The road network table every road reader returns (:data:`ROAD_COLUMNS`), its error and
its import report (:mod:`readers.roads`, :mod:`readers.bdtopo`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from core.errors import DelinquanceError

#: The normalised table: one road segment a row, EPSG:4326 lines.
ROAD_COLUMNS = ("id_source", "nom", "classe", "importance", "vitesse_kmh", "sens", "geometry")
#: Travel directions (``sens``): both ways, along the line's drawing order, against it.
BOTH, FORWARD, BACKWARD = "double", "direct", "inverse"
#: Importance (1: the main axes, 5: local streets) -> speed used when a file gives none (km/h).
DEFAULT_SPEEDS = {1: 90.0, 2: 70.0, 3: 60.0, 4: 50.0, 5: 30.0}


class RoadFileError(DelinquanceError):
    """A road network file that cannot be read (kind, layer, fields, coverage, size)."""


@dataclass
class RoadImport:
    """What a road file gave: the segments, what was left out and why, where it came from."""

    roads: gpd.GeoDataFrame
    source: str  # « OpenStreetMap » or « IGN BD TOPO »
    layer: str = ""
    left_out: dict[str, int] = field(default_factory=dict)  # reason -> segments or ways
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["id_source", "motif"]))
    read: int = 0  # ways (OSM) or tronçons (BD TOPO) read within the area
    data_date: str | None = None  # the data's own date when the file says it (ISO)
