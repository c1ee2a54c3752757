"""The label review: every offence and place label of a file or a saved data set, with its count
and class, editable; the reviewed incidents, the re-classified data set, the mapping profile.

The Données page reaches it through :mod:`usecases.donnees` (territory and audit first).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from core import model as m
from core.offence_labels import INDICATOR, OUTSIDE, UNKNOWN, offence_classes_from_labels
from core.vocabulary import OFFENCES, OTHER_OFFENCE, PLACE_TYPES
from data.profiles import MappingProfile
from data.store import DatasetInfo, DatasetStore
from readers.incidents import (
    ImportResult,
)

# -- label review ----------------------------------------------------------------------------
OUTSIDE_CHOICE = "Autre : hors des 14 indicateurs"


UNKNOWN_CHOICE = "Non reconnu"


OFFENCE_CHOICES = [*OFFENCES, OUTSIDE_CHOICE, UNKNOWN_CHOICE]


PLACE_CHOICES = list(PLACE_TYPES)


REVIEW_COLUMNS = ["libellé", "faits", "statut", "classe"]
#: The offence review's match: the nomenclature label the file's label was matched to, and how
#: sure the match is (0 to 1; :mod:`core.label_matching`).
MATCH_COLUMNS = ["référence", "confiance"]


def _offence_keys(incidents: pd.DataFrame) -> pd.Series:
    """The label a row is reviewed under: its offence label, else « index <n> »."""
    label = incidents[m.RAW_OFFENCE].astype(object)
    index = "index " + incidents[m.INDEX_4001].astype(object).astype(str)
    return label.where(label.notna(), index.where(incidents[m.INDEX_4001].notna(), None))


def label_review(
    result: ImportResult | pd.DataFrame, profile: MappingProfile | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every distinct offence and place label of a validated file (or of saved incidents),
    with its count and class.

    Unrecognised labels come first, then the least sure matches (a person's decisions, saved
    in a mapping profile, last). The class is the importer's proposal, or the one a mapping
    profile saved for that label.

    Returns
    -------
    offences, places : DataFrame
        ``libellé``, ``faits``, ``statut`` (« non reconnu », « hors indicateurs »,
        « indicateur », « profil »), ``classe`` (editable); the offences also ``natinf``,
        ``référence`` (the nomenclature label matched) and ``confiance`` (0 to 1).
    """
    inc = result.incidents if isinstance(result, ImportResult) else result
    saved_off = profile.offence_labels if profile else {}
    saved_place = profile.place_labels if profile else {}
    keys = _offence_keys(inc)
    matched = offence_classes_from_labels(inc[m.RAW_OFFENCE])
    by_label = inc[m.RAW_OFFENCE].notna()
    status = matched["statut"].where(by_label, INDICATOR)
    # A row classed by its index number alone: the index is the reference, with certainty.
    reference = matched["reference"].where(by_label, None)
    confidence = matched["confiance"].where(by_label, 1.0)
    proposed = inc[m.OFFENCE].astype(object).where(status != OUTSIDE, OUTSIDE_CHOICE)
    proposed = proposed.where(status != UNKNOWN, UNKNOWN_CHOICE)
    off = (
        pd.DataFrame(
            {
                "libellé": keys,
                "statut": status,
                "reference": reference,
                "confiance": confidence,
                "classe": proposed,
            }
        )
        .dropna(subset=["libellé"])
        .groupby("libellé", sort=False, dropna=False)
        .agg(
            faits=("classe", "size"),
            statut=("statut", "first"),
            reference=("reference", "first"),
            confiance=("confiance", "first"),
            classe=("classe", "first"),
        )
        .reset_index()
    )
    natinf = (
        pd.DataFrame({"libellé": keys, "natinf": inc[m.NATINF].astype(object)})
        .dropna()
        .groupby("libellé")["natinf"]
        .agg(lambda c: ", ".join(sorted(set(map(str, c)))[:5]))
    )
    off["natinf"] = off["libellé"].map(natinf).astype(object).fillna("")
    in_profile = off["libellé"].isin(list(saved_off))
    off.loc[in_profile, "classe"] = off.loc[in_profile, "libellé"].map(saved_off)
    off.loc[in_profile, "statut"] = "profil"
    # Unrecognised labels first, then the least sure matches, a person's decisions last.
    group = off["statut"].map({UNKNOWN: 0, OUTSIDE: 1, INDICATOR: 1, "profil": 2})
    within = off["statut"].map({UNKNOWN: 0, OUTSIDE: 1, "profil": 2, INDICATOR: 3})
    sure = off["confiance"].where(group == 1, 0.0).astype(float)
    off = (
        off.assign(_g=group, _c=sure, _w=within)
        .sort_values(["_g", "_c", "_w", "faits"], ascending=[True, True, True, False])
        .drop(columns=["_g", "_c", "_w"])
    )
    off = off.rename(columns={"reference": "référence"})
    off["référence"] = off["référence"].fillna("")
    raw_place = inc[m.RAW_PLACE].astype(object)
    places = (
        pd.DataFrame({"libellé": raw_place, "classe": inc[m.PLACE].astype(object)})
        .dropna(subset=["libellé"])
        .groupby("libellé", sort=False)
        .agg(faits=("classe", "size"), classe=("classe", "first"))
        .reset_index()
    )
    from core.vocabulary import place_types_from_labels

    known = place_types_from_labels(places["libellé"]).notna()
    places.insert(2, "statut", np.where(known, INDICATOR, UNKNOWN))
    in_profile = places["libellé"].isin(list(saved_place))
    places.loc[in_profile, "classe"] = places.loc[in_profile, "libellé"].map(saved_place)
    places.loc[in_profile, "statut"] = "profil"
    places = places.assign(_o=(places["statut"] != UNKNOWN)).sort_values(
        ["_o", "faits"], ascending=[True, False]
    )
    offences_table = off[
        [*REVIEW_COLUMNS[:2], "natinf", REVIEW_COLUMNS[2], *MATCH_COLUMNS, REVIEW_COLUMNS[3]]
    ]
    offences_table = offences_table.reset_index(drop=True)
    return offences_table, places.drop(columns="_o")[REVIEW_COLUMNS].reset_index(drop=True)


def reviewed_result(result: ImportResult, offences: pd.DataFrame, places: pd.DataFrame) -> ImportResult:
    """The validated file with the classes chosen in the review (nothing re-read)."""
    return dataclasses.replace(result, incidents=reviewed_incidents(result.incidents, offences, places))


def reviewed_incidents(incidents: pd.DataFrame, offences: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Incidents re-classified from the labels they keep (:func:`label_review` tables)."""
    inc = incidents.copy()
    chosen = dict(zip(offences["libellé"], offences["classe"], strict=True))
    key = _offence_keys(inc)
    cls = key.map(chosen)
    offence = cls.where(cls.isin(OFFENCES), OTHER_OFFENCE).where(cls.notna(), inc[m.OFFENCE].astype(object))
    inc[m.OFFENCE] = offence.astype("string")
    place_map = dict(zip(places["libellé"], places["classe"], strict=True))
    new_place = inc[m.RAW_PLACE].astype(object).map(place_map)
    inc[m.PLACE] = new_place.where(new_place.notna(), inc[m.PLACE].astype(object)).astype("string")
    return inc


def reclassify_dataset(
    store: DatasetStore, slug: str, offences: pd.DataFrame, places: pd.DataFrame
) -> tuple[DatasetInfo, int]:
    """Re-classify a saved data set from the labels it keeps (a new version; the old one stays
    current until the new one is complete). Returns the new manifest and how many incidents changed."""
    info = store.info(slug)
    before = store.load(slug)
    after = reviewed_incidents(before, offences, places)
    changed = int(
        ((before[m.OFFENCE] != after[m.OFFENCE]) | (before[m.PLACE] != after[m.PLACE])).fillna(False).sum()
    )
    history = list(info.extra.get("historique", []))
    saved = store.save(
        after,
        name=info.name,
        source_file=info.source_file,
        synthetic=info.synthetic,
        departement=info.departement,
        description=info.description,
        slug=slug,
        replace=True,
        extra={
            **info.extra,
            "historique": history,
            "reclasse_le": dt.datetime.now().isoformat(timespec="seconds"),
        },
    )
    return saved, changed


def profile_from_review(
    name: str,
    columns: list[str],
    mapping: dict[str, str | None],
    offences: pd.DataFrame,
    places: pd.DataFrame,
) -> MappingProfile:
    """A profile keeping the column mapping and every reviewed label's class."""
    return MappingProfile(
        name=name,
        columns=[str(c) for c in columns],
        mapping=dict(mapping),
        offence_labels=dict(zip(offences["libellé"], offences["classe"], strict=True)),
        place_labels=dict(zip(places["libellé"], places["classe"], strict=True)),
    )
