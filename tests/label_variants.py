"""A label test set built by rule: variants of the état 4001 labels and of the SSMSI indicator
names as police and gendarmerie software write them, each with the class of the label it comes
from (tests/test_label_matching.py, bench/bench_labels.py).

Rules: the label as published; upper case without accents; lower case; singular; without
articles and prepositions; two words swapped; the usual abbreviations (CAMB., VOL/ROUL.,
DEGRAD., STUP., VV, CBV, ITT, VEH.); one letter dropped or two swapped in the longest word;
extra words (« SUR LA VOIE PUBLIQUE », « CONTRE UN PARTICULIER »); and combinations of these.
"""

from __future__ import annotations

import re
import unicodedata

from core.offence_labels import UNUSED_INDEX, etat_4001
from core.vocabulary import OFFENCES, OLD_SSMSI_INDICATORS

ARTICLES = {"le", "la", "les", "l", "d", "de", "des", "du", "à", "a", "au", "aux", "un", "une", "et"}
ABBREVIATIONS = [
    (r"(?i)\bvols? à la roulotte\b", "VOL/ROUL."),
    (r"(?i)\bcambriolages?\b", "CAMB."),
    (r"(?i)\bdestructions? (?:et|er) dégradations?\b", "DEGRAD."),
    (r"(?i)\bdégradations?\b", "DEGRAD."),
    (r"(?i)\bstupéfiants?\b", "STUP."),
    (r"(?i)\bviolences volontaires\b", "VV"),
    (r"(?i)\bcoups et blessures volontaires\b", "CBV"),
    (r"(?i)\bincapacité totale de travail\b", "ITT"),
    (r"(?i)\bvéhicules?\b", "VEH."),
]
EXTRA = [" SUR LA VOIE PUBLIQUE", " CONTRE UN PARTICULIER"]


def sources() -> list[tuple[str, str]]:
    """(label, class) of every label the variants come from."""
    out = [(r.libelle_index, r.classe) for r in etat_4001().itertuples() if r.classe != UNUSED_INDEX]
    out += [(o, o) for o in OFFENCES]
    out += [(k, v) for k, v in OLD_SSMSI_INDICATORS.items() if v is not None]
    return out


def _plain_upper(text: str) -> str:
    s = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in s if not unicodedata.combining(ch)).upper()


def _singular(text: str) -> str:
    def one(word: str) -> str:
        low = word.lower()
        if len(word) > 4 and low.endswith("aux"):
            return word[:-3] + ("AL" if word.isupper() else "al")
        if len(word) > 3 and low[-1] in "sx" and low not in {"sans", "plus", "dans", "sous", "vers", "ans"}:
            return word[:-1]
        return word

    return re.sub(r"[A-Za-zÀ-ÿ]+", lambda m: one(m.group(0)), text)


def _no_articles(text: str) -> str:
    text = re.sub(r"(?i)\b([ld])['’]", "", text)
    return " ".join(w for w in text.split() if w.lower() not in ARTICLES)


def _swapped(text: str) -> str:
    """The first two words swapped (not a negation: « sans violence » stays whole)."""
    words = text.split()
    if len(words) <= 2 or {words[0].lower(), words[1].lower()} & {"sans", "avec", "hors"}:
        return text
    return " ".join([words[1], words[0], *words[2:]])


def _abbreviated(text: str) -> str:
    out = text
    for pattern, short in ABBREVIATIONS:
        out = re.sub(pattern, short, out)
    return out


def _longest(text: str) -> tuple[int, int]:
    best = max(re.finditer(r"[A-Za-zÀ-ÿ]+", text), key=lambda m: len(m.group(0)))
    return best.start(), best.end()


def _dropped(text: str) -> str:
    a, b = _longest(text)
    mid = (a + b) // 2
    return text[:mid] + text[mid + 1 :]


def _swapped_letters(text: str) -> str:
    a, b = _longest(text)
    mid = (a + b) // 2
    return text[: mid - 1] + text[mid] + text[mid - 1] + text[mid + 1 :]


RULES = {
    "publié": lambda t: t,
    "majuscules sans accents": _plain_upper,
    "minuscules": str.lower,
    "singulier": _singular,
    "sans articles": _no_articles,
    "ordre des mots": _swapped,
    "abréviations": _abbreviated,
    "lettre omise": _dropped,
    "lettres inversées": _swapped_letters,
    "mots ajoutés (voie publique)": lambda t: t + EXTRA[0],
    "mots ajoutés (particulier)": lambda t: t + EXTRA[1],
    "majuscules, singulier": lambda t: _plain_upper(_singular(t)),
    "majuscules, sans articles": lambda t: _plain_upper(_no_articles(t)),
    "majuscules, singulier, sans articles": lambda t: _plain_upper(_no_articles(_singular(t))),
    "majuscules, abréviations": lambda t: _plain_upper(_abbreviated(t)),
    "majuscules, abréviations, sans articles": lambda t: _plain_upper(_no_articles(_abbreviated(t))),
    "majuscules, lettre omise": lambda t: _plain_upper(_dropped(t)),
    "majuscules, lettres inversées": lambda t: _plain_upper(_swapped_letters(t)),
    "majuscules, singulier, mots ajoutés": lambda t: _plain_upper(_singular(t)) + EXTRA[0],
    "minuscules, singulier, sans articles": lambda t: _no_articles(_singular(t)).lower(),
    "singulier, lettre omise": lambda t: _dropped(_singular(t)),
    "sans articles, ordre des mots": lambda t: _swapped(_no_articles(t)),
    "abréviations, lettres inversées": lambda t: _swapped_letters(_abbreviated(t)),
}


def label_variants() -> list[tuple[str, str, str, str]]:
    """(variant, expected class, rule, source label), distinct variants of each source."""
    out, seen = [], set()
    for label, cls in sources():
        for rule, make in RULES.items():
            variant = re.sub(r"\s+", " ", make(label)).strip()
            if variant and (variant, cls) not in seen:
                seen.add((variant, cls))
                out.append((variant, cls, rule, label))
    return out
