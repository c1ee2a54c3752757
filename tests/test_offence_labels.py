"""Offence labels and état 4001 index onto the 14 indicators (core.offence_labels)."""

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.offence_labels import (
    INDICATOR,
    OUTSIDE,
    UNKNOWN,
    UNUSED_INDEX,
    etat_4001,
    offence_class_from_label,
    offence_classes_from_index,
    offence_classes_from_labels,
    synonyms,
    tokens_from_label,
)
from core.vocabulary import OFFENCES
from tests.tooling import skip_or_fail

SHARED = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "etat4001_index.csv"
THEFTS = {OFFENCES[i] for i in range(3, 10)}  # the seven theft and burglary indicators


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("VIOLENCES VOLONTAIRES SUR PERSONNE DE 15 ANS OU PLUS", "Violences physiques hors cadre familial"),
        ("VIOLENCES VOLONTAIRES SUR CONJOINT OU CONCUBIN", "Violences physiques intrafamiliales"),
        ("Violences volontaires sur ex-conjoint", "Violences physiques intrafamiliales"),
        ("VOLS VIOLENTS SANS ARME", "Vols violents sans arme"),
        ("VOL VIOLENT AVEC ARME", "Vols avec armes"),
        ("Vols sans violence contre des personnes", "Vols sans violence contre des personnes"),
        ("VOL A LA ROULOTTE", "Vols dans les véhicules"),
        ("vol dans une voiture", "Vols dans les véhicules"),
        ("vol de voiture", "Vols de véhicule"),
        ("DESTRUCTIONS ET DEGRADATIONS VOLONTAIRES", "Destructions et dégradations volontaires"),
        ("Usage de cannabis", "Usage de stupéfiants"),
        ("RECEL DE VOL", OUTSIDE),
        ("Cambriolage de local commercial", OUTSIDE),
        ("abus sexuel", "Violences sexuelles"),
    ],
)
def test_labels_as_police_software_writes_them(label, expected):
    assert offence_class_from_label(label)[0] == expected


@pytest.mark.parametrize(
    "label", ["stupéfiants", "incendie involontaire", "chose inconnue", "", "Index non utilisé"]
)
def test_ambiguous_or_unknown_labels_are_not_guessed(label):
    assert offence_class_from_label(label) == (None, UNKNOWN)


def test_tokens_are_whole_words():
    assert tokens_from_label("VOLS VIOLENTS SANS ARME") == ("vol", "violent", "sans_arme")
    assert "vol" not in tokens_from_label("Violences volontaires")
    assert tokens_from_label("Vols dans les véhicules") == ("vol", "dans", "les", "vehicule")


_NOT_THEFT = [
    "violences", "violence", "volontaire", "volontaires", "coups", "blessures", "sur", "personne", "de", "15",
    "ans", "ou", "plus", "destructions", "degradations", "biens", "prives", "involontaire", "menaces", "mineur",
    "majeur", "physiques", "agression", "conjoint", "autres", "criminels", "correctionnels", "arme", "avec",
    "sans", "dans", "voie", "publique", "vehicule", "incendies", "stupefiants", "usage", "trafic",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_NOT_THEFT), min_size=1, max_size=8),
    st.sampled_from(["volontaire", "volontaires", "VOLONTAIRES", "Volontaires"]),
)
def test_volontaire_without_a_theft_word_is_never_a_theft(words, volontaire):
    label = " ".join([*words, volontaire])
    assert offence_class_from_label(label)[0] not in THEFTS, label


def test_the_synonym_table_round_trips():
    for tokens, cls in synonyms().items():
        assert offence_class_from_label(" ".join(tokens))[0] == cls, tokens
    for offence in OFFENCES:
        assert offence_class_from_label(offence) == (offence, INDICATOR)
        assert offence_class_from_label(offence.upper()) == (offence, INDICATOR)


def test_etat_4001_covers_every_index_with_a_reason():
    table = etat_4001()
    assert table["index"].tolist() == list(range(1, 108))
    assert table["motif"].str.len().min() > 10
    assert set(table["classe"]) <= {*OFFENCES, OUTSIDE, UNUSED_INDEX}
    assert table.loc[table["classe"] == UNUSED_INDEX, "index"].tolist() == [96, 97, 99, 100]


def test_etat_4001_labels_are_the_published_ones():
    """The labels as the ministry publishes them, typos included (the real file in ../shared:
    skipped on a clone without it, a failure in CI, which always has it)."""
    if not SHARED.exists():
        skip_or_fail(
            f"{SHARED} absent : la comparaison avec les libellés publiés demande ../shared à côté du dépôt."
        )
    published = pd.read_csv(SHARED, sep=";")
    assert etat_4001()["libelle_index"].tolist() == published["libelle_index"].tolist()


def test_etat_4001_expected_classes():
    cls = etat_4001().set_index("index")["classe"]
    expected = {
        7: [7],
        "Vols avec armes": range(15, 23),
        "Vols violents sans arme": range(23, 27),
        "Cambriolages de logement": [27, 28],
        "Vols sans violence contre des personnes": [32],
        "Vols de véhicule": [35, 36],
        "Vols dans les véhicules": [37],
        "Vols d'accessoires sur véhicules": [38],
        "Violences sexuelles": range(46, 51),
        "Trafic de stupéfiants": [55],
        "Usage de stupéfiants": [57],
        "Destructions et dégradations volontaires": [62, 63, 66, 67, 68],
        "Escroqueries et fraudes aux moyens de paiement": [89, 90, 91],
        OUTSIDE: [44],
    }
    expected["Violences physiques hors cadre familial"] = expected.pop(7)
    for name, indices in expected.items():
        assert all(cls[i] == name for i in indices), name


def test_index_numbers_and_index_labels_give_the_same_classes():
    table = etat_4001()
    used = table[table["classe"] != UNUSED_INDEX]
    by_number = offence_classes_from_index(used["index"].astype(str).radd("Index ").reset_index(drop=True))
    by_label = offence_classes_from_labels(used["libelle_index"].reset_index(drop=True))
    assert by_number["classe"].tolist() == by_label["classe"].tolist() == used["classe"].tolist()
    read = offence_classes_from_index(pd.Series(["7", "07", "7.0", "96", "108", "abc", None]))
    assert read["classe"].tolist()[:3] == ["Violences physiques hors cadre familial"] * 3
    assert read["statut"].tolist()[3:] == [UNKNOWN] * 4
