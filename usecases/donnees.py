"""Données page: the tables of saved data sets and official statistics (the analyst's tool)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from data.store import DatasetInfo

DATASET_COLUMNS: dict[str, Callable[[DatasetInfo], object]] = {
    "nom": lambda i: i.name,
    "département": lambda i: i.departement,
    "fichier source": lambda i: i.source_file,
    "importé le": lambda i: i.imported_at.replace("T", " "),
    "faits": lambda i: i.n_rows,
    "lignes rejetées": lambda i: i.n_rejected,
}
STATISTICS_COLUMNS: dict[str, Callable[[DatasetInfo], object]] = {
    "nom": lambda i: i.name,
    "type": lambda i: i.description,
    "lignes": lambda i: i.n_rows,
    "importé le": lambda i: i.imported_at.replace("T", " "),
}


def table_from_infos(infos: list[DatasetInfo], columns: dict[str, Callable[[DatasetInfo], object]]) -> pd.DataFrame:
    """Saved data sets (or statistics) as shown on the page, one row each."""
    return pd.DataFrame({label: [get(i) for i in infos] for label, get in columns.items()})
