"""Step 6, the report: the incidents accepted, the warnings and notes of the import."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from core import model as m
from core.crs import WGS84
from core.vocabulary import (
    OTHER_OFFENCE,
)
from readers.incident_files import RawTable
from readers.incident_steps.categories import Categories, Profiles
from readers.incident_steps.communes import Placement


# ---------------------------------------------------------------------------------------
# 6. Report
# ---------------------------------------------------------------------------------------
def incidents_from_steps(
    ids: pd.Series,
    dates: tuple[pd.Series, pd.Series],
    placement: Placement,
    categories: Categories,
    profiles: Profiles,
    keep: np.ndarray,
) -> gpd.GeoDataFrame:
    """The accepted rows (``keep``) as incidents of the model of :mod:`core.model`.

    Each column is cut to the accepted rows before the table is built (a million rows: one
    copy of the accepted rows, not a table of every row and then its accepted part)."""
    rows = np.flatnonzero(keep)

    def cut(values):
        if isinstance(values, np.ndarray | pd.api.extensions.ExtensionArray):
            return values[rows]
        return values.iloc[rows].reset_index(drop=True)

    columns = {
        m.ID: ids,
        m.START: dates[0],
        m.END: dates[1],
        m.OFFENCE: categories.offence,
        m.PLACE: categories.place,
        m.FORCE: categories.force,
        m.COMMUNE: placement.commune,
        m.AGE: profiles.age,
        m.SEX: profiles.sex,
        m.MINOR: pd.array(profiles.minor.to_numpy(), dtype="boolean"),
        m.OUTSIDE: placement.outside.to_numpy(dtype=bool),
        **categories.sources,
    }
    gdf = gpd.GeoDataFrame(
        {name: cut(values) for name, values in columns.items()},
        geometry=placement.points.to_numpy()[rows],
        crs=WGS84,
    )
    return m.conform_incidents(gdf)


def warnings_from_steps(
    keep: np.ndarray,
    mapping: dict[str, str | None],
    placement: Placement,
    categories: Categories,
    profiles: Profiles,
    departement: str,
) -> list[str]:
    """Warnings about the accepted rows: unknown labels, deduced forces, missing points."""
    k = keep
    out = []
    unmapped = categories.unknown_offence
    if unmapped[k].any():
        top = categories.offence_raw[k & unmapped].value_counts().head(5)
        listed = ", ".join(f"« {lab} » ({cnt})" for lab, cnt in top.items())
        out.append(
            f"{int(unmapped[k].sum())} libellé(s) d'infraction non reconnu(s), classés « {OTHER_OFFENCE} » : {listed}."
        )
    outside = categories.outside_indicators
    if outside[k].any():
        out.append(
            f"{int(outside[k].sum())} fait(s) d'infractions reconnues hors des 14 indicateurs "
            f"(recels, homicides, outrages…) : gardés, classés « {OTHER_OFFENCE} »."
        )
    if not mapping.get("infraction") and not mapping.get("index_4001"):
        out.append(f"Pas de colonne d'infraction : tous les faits sont classés « {OTHER_OFFENCE} ».")
    counted = [
        (categories.unknown_place, "type(s) de lieu non reconnu(s) : classés « autre »."),
        (
            categories.force_deduced,
            "fait(s) sans force reconnue : force déduite de la commune selon l'organisation "
            "territoriale (indicative sans les fichiers officiels).",
        ),
        (
            placement.outside,
            f"fait(s) hors du département {departement} : gardés et signalés (colonne hors_departement).",
        ),
        (
            placement.no_point,
            "fait(s) sans coordonnées : comptés dans leur commune, absents des cartes de points.",
        ),
        (profiles.unreadable, "profil(s) d'auteur illisible(s) : laissés vides."),
    ]
    out += [f"{int(flag[k].sum())} {text}" for flag, text in counted if flag[k].any()]
    return out


def notes_from_steps(raw: RawTable, mapping: dict[str, str | None]) -> list[str]:
    """What the reader detected, and the columns left unused."""
    used = {v for v in mapping.values() if v}
    ignored = [c for c in raw.frame.columns if c not in used]
    notes = list(raw.notes)
    if ignored:
        notes.append("Colonnes non utilisées : " + ", ".join(map(str, ignored)) + ".")
    return notes


def now_or_current(now: dt.datetime | None) -> pd.Timestamp:
    """The instant after which dates are rejected (default: the current time)."""
    return pd.Timestamp(now or dt.datetime.now())
