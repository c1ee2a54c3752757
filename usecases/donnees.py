"""Données page: the tables of saved data sets and official statistics (the analyst's tool)."""

from __future__ import annotations

import pandas as pd

from data.store import DatasetInfo


def dataset_table(infos: list[DatasetInfo]) -> pd.DataFrame:
    """Saved incident data sets as shown on the page."""
    return pd.DataFrame(
        {
            "nom": [i.name for i in infos],
            "département": [i.departement for i in infos],
            "fichier source": [i.source_file for i in infos],
            "importé le": [i.imported_at.replace("T", " ") for i in infos],
            "faits": [i.n_rows for i in infos],
            "lignes rejetées": [i.n_rejected for i in infos],
        }
    )


def statistics_table(infos: list[DatasetInfo]) -> pd.DataFrame:
    """Saved SSMSI tables as shown on the page."""
    return pd.DataFrame(
        {
            "nom": [i.name for i in infos],
            "type": [i.description for i in infos],
            "lignes": [i.n_rows for i in infos],
            "importé le": [i.imported_at.replace("T", " ") for i in infos],
        }
    )
