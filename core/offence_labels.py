"""Classification of offence labels and index numbers onto the 14 SSMSI indicators.

A label is cut into whole normalised tokens (accents, case, apostrophes and plurals
handled; « sans arme » and « sans violence » kept as one token each) and matched, never
by substring: « violences volontaires » has no token « vol ». Three outcomes, kept apart:

* one of the 14 indicators (:data:`core.vocabulary.OFFENCES`);
* :data:`OUTSIDE`: recognised, but outside the 14 indicators (recels, homicides…);
* :data:`UNKNOWN`: not recognised, or ambiguous — never guessed.

Order of the tests: the explicit synonym table (the indicators' own names, the old SSMSI
names, the 107 labels of the *état 4001* index, usual short forms), then keyword rules.
Among the rules that match, the most specific wins (a rule whose tokens include another's);
two matching rules that disagree and neither includes the other make the label ambiguous.

The *état 4001* table (``nomenclatures/etat4001.csv``) gives, index by index, the class and
the reason of the choice. Index labels: Ministère de l'Intérieur, état 4001 as published in
the monthly departmental files on data.gouv.fr (Licence Ouverte 2.0).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from core.vocabulary import OFFENCES, OLD_SSMSI_INDICATORS, map_distinct

#: Recognised, outside the 14 indicators.
OUTSIDE = "hors indicateurs"
#: Not recognised (or ambiguous): the user decides.
UNKNOWN = "non reconnu"
#: Status of a class that is one of the 14 indicators.
INDICATOR = "indicateur"
UNUSED_INDEX = "index non utilisé"
ETAT_4001_PATH = Path(__file__).parent / "nomenclatures" / "etat4001.csv"

_VIF, _VHF, _VS = OFFENCES[0], OFFENCES[1], OFFENCES[2]
_VAA, _VVSA, _VSV, _CL = OFFENCES[3], OFFENCES[4], OFFENCES[5], OFFENCES[6]
_VV, _VDV, _VAV, _DDV = OFFENCES[7], OFFENCES[8], OFFENCES[9], OFFENCES[10]
_US, _TS, _EF = OFFENCES[11], OFFENCES[12], OFFENCES[13]

# Tokens that are not plurals although they end in -s or -x.
_KEEP_S = {
    "sans",
    "plus",
    "ans",
    "mais",
    "vers",
    "pas",
    "tres",
    "dos",
    "bas",
    "gros",
    "cas",
    "fils",
    "prix",
    "dans",
    "sous",
    "lors",
    "depuis",
    "alors",
    "fois",
    "pays",
    "corps",
    "temps",
    "poids",
    "bras",
    "chez",
}
#: Words naming a family link: violence with one of them is intrafamilial.
FAMILY_WORDS = frozenset(
    {
        "conjoint",
        "conjointe",
        "concubin",
        "concubine",
        "ex",
        "enfant",
        "ascendant",
        "descendant",
        "intrafamilial",
        "intrafamiliale",
        "conjugal",
        "conjugale",
        "conjugau",
        "familial",
        "familiale",
        "famille",
        "epou",
        "epoux",
        "epouse",
        "compagnon",
        "compagne",
        "partenaire",
        "pacse",
        "pacsee",
        "parent",
    }
)
THEFT_WORDS = frozenset(
    {"vol", "cambriolage", "vole", "volee", "derobe", "larcin", "roulotte", "tire", "etalage"}
)


def _singular(token: str) -> str:
    if len(token) > 3 and token not in _KEEP_S and token[-1] in "sx":
        return token[:-1]
    return token


def tokens_from_label(text: object) -> tuple[str, ...]:
    """Whole normalised tokens of a label: lower case, no accents, singular.

    « sans » is joined to the next word (``sans_arme``, ``sans_violence``) so that a
    negation is never read as its opposite.

    Examples
    --------
    >>> tokens_from_label("VOLS VIOLENTS SANS ARME")
    ('vol', 'violent', 'sans_arme')
    >>> tokens_from_label("Vols d'accessoires")
    ('vol', 'd', 'accessoire')
    """
    if text is None or (isinstance(text, float) and text != text):
        return ()
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    words = [_singular(w) for w in re.split(r"[^a-z0-9]+", s) if w]
    out: list[str] = []
    i = 0
    while i < len(words):
        if words[i] == "sans" and i + 1 < len(words):
            out.append("sans_" + words[i + 1])
            i += 2
            continue
        out.append(words[i])
        i += 1
    return tuple(out)


@dataclass(frozen=True)
class Rule:
    """Every element must match one of its tokens; ``none_of`` must not appear."""

    needs: tuple[frozenset[str], ...]
    cls: str
    none_of: frozenset[str] = frozenset()

    def matches(self, tokens: frozenset[str]) -> bool:
        return all(tokens & alternatives for alternatives in self.needs) and not (tokens & self.none_of)

    def includes(self, other: Rule) -> bool:
        """True when this rule asks for everything ``other`` asks for, and more."""
        return len(self.needs) > len(other.needs) and all(
            any(mine <= theirs or theirs <= mine for mine in self.needs) for theirs in other.needs
        )


def _r(*needs: str | set[str], cls: str, none_of: set[str] | None = None) -> Rule:
    return Rule(
        tuple(frozenset({n}) if isinstance(n, str) else frozenset(n) for n in needs),
        cls,
        frozenset(none_of or ()),
    )


_VIOLENCE = {"violence", "violent", "coup", "blessure", "agression", "brutalite"}
_WEAPON = {"arme", "armee", "armes"}
_VEHICLE = {"vehicule", "voiture", "automobile", "auto", "moto", "scooter", "cyclomoteur", "roue"}
_DRUG = {"stupefiant", "stup", "drogue", "cannabi", "cocaine", "heroine"}
RULES: tuple[Rule, ...] = (
    # Sexual violence first among violence: the more specific rule wins anyway.
    _r({"sexuel", "sexuelle", "viol", "exhibition", "exhibitionnisme"}, cls=_VS),
    _r(_VIOLENCE, cls=_VHF, none_of=FAMILY_WORDS),
    _r(_VIOLENCE, FAMILY_WORDS, cls=_VIF),
    _r({"vif"}, cls=_VIF),
    _r({"vol", "vole"}, _WEAPON, cls=_VAA),
    _r({"vol", "vole"}, {"main"}, _WEAPON, cls=_VAA),
    _r({"braquage"}, cls=_VAA),
    _r({"vol", "vole"}, _VIOLENCE, cls=_VVSA),
    _r({"vol", "vole"}, _VIOLENCE, {"sans_arme"}, cls=_VVSA),
    _r({"vol", "vole"}, _VIOLENCE, _WEAPON, cls=_VAA),
    _r({"vol"}, {"arrache", "arrachee"}, cls=_VVSA),
    _r({"vol", "vole"}, cls=_VSV),
    _r({"vol"}, {"sans_violence"}, cls=_VSV),
    _r({"cambriolage", "effraction"}, cls=_CL),
    _r(
        {"cambriolage"}, {"local", "locau", "entreprise", "commerce", "commercial", "industriel"}, cls=OUTSIDE
    ),
    _r({"vol"}, _VEHICLE, cls=_VV),
    _r({"vol"}, {"dans", "roulotte"}, _VEHICLE, cls=_VDV),
    _r({"vol"}, {"roulotte"}, cls=_VDV),
    _r({"vol"}, {"accessoire"}, cls=_VAV),
    _r({"vol"}, {"accessoire"}, _VEHICLE, cls=_VAV),
    _r(
        {"destruction", "degradation", "vandalisme", "tag", "incendie", "deterioration"},
        cls=_DDV,
        none_of={"involontaire", "accidentel", "accidentelle"},
    ),
    _r(_DRUG, {"usage", "consommation", "detention", "ils"}, cls=_US),
    _r(_DRUG, {"trafic", "revente", "vente", "cession", "importation", "deal"}, cls=_TS),
    _r({"trafic", "deal", "dealer"}, cls=_TS, none_of={"humain", "etre", "arme", "migrant"}),
    _r({"escroquerie", "arnaque"}, cls=_EF),
    _r({"abu"}, {"confiance"}, cls=_EF),
    _r({"fraude"}, {"carte", "paiement", "cheque", "bancaire", "cb"}, cls=_EF),
    _r({"escroquerie", "arnaque"}, {"fiscal", "fiscale"}, cls=OUTSIDE),
    _r({"homicide", "meurtre", "assassinat"}, cls=OUTSIDE),
    _r({"recel"}, cls=OUTSIDE),
    _r({"recel"}, {"vol", "vole"}, cls=OUTSIDE),
    _r({"outrage", "rebellion", "menace", "chantage", "sequestration", "proxenetisme"}, cls=OUTSIDE),
    _r({"port", "detention"}, _WEAPON, cls=OUTSIDE),
)


@lru_cache(maxsize=1)
def etat_4001() -> pd.DataFrame:
    """The *état 4001* table: ``index``, ``libelle_index``, ``classe``, ``motif`` (107 rows)."""
    with ETAT_4001_PATH.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    out = pd.DataFrame(rows)
    out["index"] = out["index"].astype(int)
    return out


def _status_of(cls: str | None) -> str:
    if cls in OFFENCES:
        return INDICATOR
    return OUTSIDE if cls == OUTSIDE else UNKNOWN


#: Short forms and usual wordings (label -> class), beside the indicators' own names.
SHORT_FORMS: dict[str, str] = {
    "violences conjugales": _VIF,
    "violences intrafamiliales": _VIF,
    "cbv": _VHF,
    "coups et blessures volontaires": _VHF,
    "coups et blessures": _VHF,
    "agression": _VHF,
    "vol a main armee": _VAA,
    "vol a l arrache": _VVSA,
    "vol simple": _VSV,
    "vol a la tire": _VSV,
    "vol par effraction": _CL,
    "vol de deux roues": _VV,
    "vol a la roulotte": _VDV,
    "ils": _US,
    "afd": _US,
    "usage de stupefiants afd": _US,
    "fraude carte bancaire": _EF,
}


def reference_labels() -> dict[str, str]:
    """The reference labels beside the état 4001 ones: the 14 indicators' names, the old SSMSI
    names and the short forms (label -> class)."""
    table = {o: o for o in OFFENCES}
    table.update({k: v for k, v in OLD_SSMSI_INDICATORS.items() if v is not None})
    table.update(SHORT_FORMS)
    return table


@lru_cache(maxsize=1)
def synonyms() -> dict[tuple[str, ...], str]:
    """Explicit synonyms (token tuple to class): a label equal to one, token for token, is its class."""
    table: dict[tuple[str, ...], str] = {tokens_from_label(o): o for o in OFFENCES}
    table.update({tokens_from_label(k): v for k, v in OLD_SSMSI_INDICATORS.items() if v is not None})
    for r in etat_4001().itertuples():
        if r.classe != UNUSED_INDEX:
            table[tokens_from_label(r.libelle_index)] = r.classe
    table.update({tokens_from_label(k): v for k, v in SHORT_FORMS.items()})
    return table


def rule_class(tokens: frozenset[str]) -> str | None:
    """The keyword rules' class of a label's tokens: the most specific matching rule's, None
    when none matches or when two that disagree are equally specific."""
    matched = [r for r in RULES if r.matches(tokens)]
    best = [r for r in matched if not any(o.includes(r) for o in matched if o is not r)]
    classes = {r.cls for r in best}
    return classes.pop() if len(classes) == 1 else None


def offence_class_from_label(label: object) -> tuple[str | None, str]:
    """Class and status of one label (:func:`core.label_matching.match_labels`).

    Returns
    -------
    class : str or None
        One of the 14 indicators, :data:`OUTSIDE`, or None (not recognised).
    status : str
        :data:`INDICATOR`, :data:`OUTSIDE` or :data:`UNKNOWN`.
    """
    from core.label_matching import match_labels

    found = match_labels([label])[0]
    return found.cls, found.status


def offence_classes_from_labels(labels: pd.Series, *, with_match: bool = True) -> pd.DataFrame:
    """Class, status, matched reference and confidence of every label (computed once per
    distinct label, :func:`core.label_matching.match_labels`); the class and status alone
    without ``with_match`` (the import: a million rows need no reference per row).

    Returns
    -------
    DataFrame
        Indexed like ``labels``: ``classe`` (indicator, :data:`OUTSIDE` or None), ``statut``
        (:data:`INDICATOR`, :data:`OUTSIDE`, :data:`UNKNOWN`; missing labels are
        :data:`UNKNOWN`), ``reference`` (the reference label matched, or None) and
        ``confiance`` (0 to 1).
    """
    from core.label_matching import match_labels

    source = labels if isinstance(labels.dtype, pd.StringDtype) else labels.astype(object)
    codes, uniques = pd.factorize(source, use_na_sentinel=True)
    found = match_labels(list(uniques))
    columns = {
        "classe": [f.cls for f in found] + [None],  # last: missing
        "statut": [f.status for f in found] + [UNKNOWN],
    }
    if with_match:
        columns["reference"] = [f.reference for f in found] + [None]
        columns["confiance"] = [f.confidence for f in found] + [0.0]
    return pd.DataFrame(
        {
            name: np.array(values, dtype=object if name != "confiance" else float)[codes]
            for name, values in columns.items()
        },
        index=labels.index,
    )


_INDEX = re.compile(r"^\s*(?:index\s*(?:4001)?\s*[:n°]*\s*)?0*(\d{1,3})(?:\.0+)?\s*$", re.IGNORECASE)


def index_numbers(values: pd.Series) -> pd.Series:
    """*État 4001* index numbers read from « 7 », « 07 », « 7.0 », « Index 7 » (missing otherwise)."""
    # Read once per distinct value, taken back by position.
    source = values if isinstance(values.dtype, pd.StringDtype) else values.astype(object)
    codes, uniques = pd.factorize(source, use_na_sentinel=True)
    found = pd.Series(list(uniques), dtype="string").str.extract(_INDEX, expand=False)
    number = pd.to_numeric(found, errors="coerce")
    number = number.where(number.between(1, 107)).astype("Int64")
    table = pd.array([*number.tolist(), pd.NA], dtype="Int64")
    return pd.Series(table[codes], index=values.index, dtype="Int64")


def offence_classes_from_index(values: pd.Series) -> pd.DataFrame:
    """Class and status of *état 4001* index numbers (same columns as the label version)."""
    table = etat_4001().set_index("index")["classe"]
    number = index_numbers(values)
    cls = number.map(table).astype(object)
    cls = cls.where(cls.notna() & (cls != UNUSED_INDEX), None)
    status = map_distinct(cls, _status_of, missing=_status_of(None))
    return pd.DataFrame({"classe": cls, "statut": status.astype(object)}, index=values.index)
