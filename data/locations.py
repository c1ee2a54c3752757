"""Where each store lives, from the settings: the users' workspace (imported data sets, SSMSI
tables, organisation files, evaluations) and the rebuildable cache (the default data set)."""

from __future__ import annotations

from core.settings import SETTINGS
from data.store import DatasetStore, RoadsStore, StatisticsStore, UnitsStore

#: Slugs of the national territorial-organisation files in the organisation stores.
ORGANISATION_FILES = {
    "gendarmerie": "Unités de gendarmerie accueillant du public",
    "police": "Services de police accueillant du public",
    "competence": "Compétence territoriale PN/GN",
}


def units_store() -> UnitsStore:
    """Store of the imported gendarmerie and police unit lists."""
    return UnitsStore(SETTINGS.workspace_dir / "organisation")


def competence_store() -> StatisticsStore:
    """Store of the imported PN/GN competence file."""
    return StatisticsStore(SETTINGS.workspace_dir / "organisation")


def default_store() -> DatasetStore:
    """Store of the embedded default data set (rebuilt at set-up, under the cache; the users'
    evaluations of it are kept in the workspace)."""
    return DatasetStore(SETTINGS.cache_dir / "datasets", notes_root=SETTINGS.workspace_dir / "evaluations")


def workspace_store() -> DatasetStore:
    """Store of the data sets imported by users (persists across restarts)."""
    return DatasetStore(SETTINGS.workspace_dir / "datasets")


def statistics_store() -> StatisticsStore:
    """Store of the official statistics imported by users."""
    return StatisticsStore(SETTINGS.workspace_dir / "statistiques")


def roads_store() -> RoadsStore:
    """Store of the imported road networks (one per département, ``make roads`` or the Données page)."""
    return RoadsStore(SETTINGS.workspace_dir / "routes")


def demo_roads_store() -> RoadsStore:
    """Store of the synthetic road network of the default département (rebuilt at set-up,
    under the cache; an imported network of that département takes precedence)."""
    return RoadsStore(SETTINGS.cache_dir / "routes")
