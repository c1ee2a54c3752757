"""Step 5, categories and offender profiles: offence classes, places, forces, age and sex."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import model as m
from core.offence_labels import (
    INDICATOR,
    OUTSIDE,
    UNKNOWN,
    index_numbers,
    offence_classes_from_index,
    offence_classes_from_labels,
)
from core.vocabulary import (
    AGE_CLASSES,
    OTHER_OFFENCE,
    forces_from_labels,
    forces_from_unit_names,
    map_distinct,
    normalize_label,
    place_types_from_labels,
)
from readers.incident_steps.text import _map_labels, numbers_from_text, text_column

_SEX = {
    "h": "homme",
    "m": "homme",
    "homme": "homme",
    "masculin": "homme",
    "f": "femme",
    "femme": "femme",
    "feminin": "femme",
}


_BOOL = {
    "oui": True,
    "o": True,
    "1": True,
    "true": True,
    "vrai": True,
    "non": False,
    "n": False,
    "0": False,
    "false": False,
    "faux": False,
}


# ---------------------------------------------------------------------------------------
# 5. Categories and offender profiles
# ---------------------------------------------------------------------------------------
@dataclass
class Categories:
    """Offence, place type and force per row, with what could not be recognised.

    ``sources`` holds what the file said (raw offence label, index, NATINF code, raw
    place label, unit name), kept on every incident beside its class.
    """

    offence: pd.Series
    place: pd.Series
    force: pd.Series
    unknown_offence: pd.Series
    unknown_place: pd.Series
    force_deduced: pd.Series
    offence_raw: pd.Series
    outside_indicators: pd.Series
    sources: dict[str, pd.Series]


def offences_from_columns(label: pd.Series, index: pd.Series) -> pd.DataFrame:
    """Class and status of each row from its offence label and its *état 4001* index.

    The label decides when it is recognised (an indicator or outside the 14); otherwise
    the index, read from the index column or from a label that is only a number.
    """
    by_label = offence_classes_from_labels(label, with_match=False)
    unknown = np.flatnonzero((by_label["statut"] == UNKNOWN).to_numpy())
    if len(unknown) == 0:
        return by_label
    # The index of the rows the label did not class (a few, usually: no copy of a million rows).
    by_index = offence_classes_from_index(index.iloc[unknown].fillna(label.iloc[unknown]))
    use = (by_index["statut"] != UNKNOWN).to_numpy()
    out = by_label.copy()
    for col in ("classe", "statut"):
        values = out[col].to_numpy(dtype=object).copy()
        values[unknown[use]] = by_index[col].to_numpy(dtype=object)[use]
        out[col] = values
    return out


def categories_from_table(
    frame: pd.DataFrame, mapping: dict[str, str | None], commune: pd.Series, forces: pd.Series
) -> Categories:
    """The *categories* step: file labels to the vocabulary of :mod:`core.vocabulary`.

    Offences outside the 14 indicators and unrecognised ones become « Autre » (told apart
    in the report); unknown places « autre »; the force comes from the force column, else
    from the unit's name, else from the commune through ``forces`` (force per code).
    """
    offence_raw = text_column(frame, mapping.get("infraction"))
    index_raw = text_column(frame, mapping.get("index_4001"))
    classes = offences_from_columns(offence_raw, index_raw)
    offence = classes["classe"].where(classes["statut"] == INDICATOR, OTHER_OFFENCE).astype(object)
    place_raw = text_column(frame, mapping.get("type_lieu"))
    place = place_types_from_labels(place_raw)
    unit_raw = text_column(frame, mapping.get("unite"))
    force = forces_from_labels(text_column(frame, mapping.get("force")))
    force = force.where(force.notna(), forces_from_unit_names(unit_raw))
    force_missing = force.isna()
    by_commune = map_distinct(commune, lambda code: forces.get(code))  # a few hundred codes
    force = force.where(~force_missing, by_commune)
    given = offence_raw.notna() | index_raw.notna()
    number = index_numbers(index_raw.fillna(offence_raw) if index_raw.notna().any() else offence_raw)
    return Categories(
        offence=offence,
        place=place.fillna("autre"),
        force=force,
        unknown_offence=given & (classes["statut"] == UNKNOWN),
        unknown_place=place_raw.notna() & place.isna(),
        force_deduced=force_missing,
        offence_raw=offence_raw.fillna(index_raw),
        outside_indicators=classes["statut"] == OUTSIDE,
        sources={
            m.RAW_OFFENCE: offence_raw,
            m.INDEX_4001: number.astype("string"),
            m.NATINF: text_column(frame, mapping.get("natinf")),
            m.RAW_PLACE: place_raw,
            m.UNIT: unit_raw,
        },
    )


@dataclass
class Profiles:
    """Offender profile per row (missing when unknown) and unreadable entries."""

    age: pd.Series
    sex: pd.Series
    minor: pd.Series
    unreadable: pd.Series


def _age_classes(classes: pd.Series, ages: pd.Series) -> pd.Series:
    """Age class from a class label, else from an age in years."""
    by_label = {normalize_label(a): a for a in AGE_CLASSES}
    by_label.update({"mineur": AGE_CLASSES[0], "moins de 18": AGE_CLASSES[0], "65 et plus": AGE_CLASSES[4]})
    out = _map_labels(classes, by_label)
    age = numbers_from_text(ages)
    bins = pd.cut(age, [-1, 17, 24, 44, 64, 130], labels=list(AGE_CLASSES)).astype(object)
    return out.where(out.notna(), bins).where(lambda x: x.notna(), None)


def profiles_from_table(frame: pd.DataFrame, mapping: dict[str, str | None]) -> Profiles:
    """Offender age class, sex and minority (a minor's age class implies minority)."""
    age = _age_classes(text_column(frame, mapping.get("classe_age")), text_column(frame, mapping.get("age")))
    sex_raw = text_column(frame, mapping.get("sexe"))
    sex = _map_labels(sex_raw, _SEX)
    minor_raw = text_column(frame, mapping.get("mineur"))
    minor = _map_labels(minor_raw, _BOOL)
    minor = minor.where(minor.notna(), (age == AGE_CLASSES[0]).where(age.notna(), None))
    unreadable = (sex_raw.notna() & sex.isna()) | (minor_raw.notna() & minor.isna())
    return Profiles(age, sex, minor, unreadable)
