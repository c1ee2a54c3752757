"""Label review and mapping profiles (usecases.donnees, data.profiles)."""

import datetime as dt

import pytest

from core import model as m
from core.errors import DatasetStoreError
from data.profiles import ProfileStore
from readers.incidents import import_incident_file
from usecases.label_review import (
    OUTSIDE_CHOICE,
    UNKNOWN_CHOICE,
    label_review,
    profile_from_review,
    reviewed_result,
)

NOW = dt.datetime(2026, 11, 21)
COLUMNS = ["N° procédure", "Date des faits", "Nature de l'infraction", "Lieu", "Code INSEE"]
FILE = (
    "N° procédure;Date des faits;Nature de l'infraction;Lieu;Code INSEE\n"
    "A1;05/01/2025;VOLS A LA ROULOTTE;RUE;53130\n"
    "A2;06/01/2025;VOLS A LA ROULOTTE;RUE;53130\n"
    "A3;07/01/2025;RODEO MOTORISE;CAVE D'IMMEUBLE;53130\n"
    "A4;08/01/2025;RECELS;RUE;53130\n"
).encode()


@pytest.fixture
def result(communes53):
    return import_incident_file(FILE, "janvier.csv", communes=communes53, now=NOW)


def test_review_lists_every_label_unrecognised_first(result):
    offences, places = label_review(result)
    assert offences["libellé"].tolist() == ["RODEO MOTORISE", "RECELS", "VOLS A LA ROULOTTE"]
    assert offences["faits"].tolist() == [1, 1, 2]
    assert offences["statut"].tolist() == ["non reconnu", "hors indicateurs", "indicateur"]
    assert offences["classe"].tolist() == [UNKNOWN_CHOICE, OUTSIDE_CHOICE, "Vols dans les véhicules"]
    assert places["libellé"].tolist()[0] == "CAVE D'IMMEUBLE" and places["statut"].iloc[0] == "non reconnu"


def test_review_choice_reclassifies_and_a_profile_applies_to_the_next_file(result, tmp_path, communes53):
    offences, places = label_review(result)
    offences.loc[offences["libellé"] == "RODEO MOTORISE", "classe"] = (
        "Destructions et dégradations volontaires"
    )
    places.loc[places["libellé"] == "CAVE D'IMMEUBLE", "classe"] = "voie publique"
    done = reviewed_result(result, offences, places).incidents.set_index(m.ID)
    assert done.loc["A3", m.OFFENCE] == "Destructions et dégradations volontaires"
    assert done.loc["A3", m.PLACE] == "voie publique"
    assert done.loc["A4", m.OFFENCE] == "Autre" and done.loc["A1", m.OFFENCE] == "Vols dans les véhicules"
    store = ProfileStore(tmp_path)
    saved = store.save(profile_from_review("Export GN Mayenne", COLUMNS, result.mapping, offences, places))
    # Next month's file: same columns, written differently; the profile fits and its choices apply.
    nxt = import_incident_file(
        FILE.replace(b"N\xc2\xb0 proc\xc3\xa9dure", b"N PROCEDURE"),
        "fevrier.csv",
        communes=communes53,
        now=NOW,
    )
    profile = store.for_columns(
        ["N PROCEDURE", "DATE DES FAITS", "Nature de l'infraction", "Lieu", "Code INSEE"]
    )
    assert profile is not None and profile.slug == saved.slug
    assert store.for_columns([*COLUMNS, "Unité"]) is None  # another set of columns: another source
    again, _ = label_review(nxt, profile)
    assert (
        again.set_index("libellé").loc["RODEO MOTORISE", "classe"]
        == "Destructions et dégradations volontaires"
    )
    assert again.set_index("libellé").loc["RODEO MOTORISE", "statut"] == "profil"
    # Listed, renamed, deleted.
    assert [p.name for p in store.list()] == ["Export GN Mayenne"]
    store.rename(saved.slug, "Export GN 53")
    assert store.get(saved.slug).name == "Export GN 53"
    store.delete(saved.slug)
    assert store.list() == []
    with pytest.raises(DatasetStoreError):
        store.delete("..")


def test_saved_data_set_reclassified_without_the_file(result, tmp_path):
    from data.store import DatasetStore
    from usecases.label_review import reclassify_dataset

    store = DatasetStore(tmp_path / "store")
    info = store.save(result.incidents, name="Janvier", source_file="janvier.csv")
    offences, places = label_review(store.load(info.slug))
    assert "RODEO MOTORISE" in set(offences["libellé"])  # the raw labels were kept in the store
    offences.loc[offences["libellé"] == "RODEO MOTORISE", "classe"] = (
        "Destructions et dégradations volontaires"
    )
    saved, changed = reclassify_dataset(store, info.slug, offences, places)
    assert changed == 1 and saved.slug == info.slug and len(store.list()) == 1
    data = store.load(info.slug).set_index(m.ID)
    assert data.loc["A3", m.OFFENCE] == "Destructions et dégradations volontaires"
    assert data.loc["A3", m.RAW_OFFENCE] == "RODEO MOTORISE"
