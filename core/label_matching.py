"""Offence labels matched to the nomenclature by similarity, with a confidence.

Each distinct label is compared with every reference label — the 103 labels of the *état
4001* index in use, the 14 SSMSI indicator names, the older SSMSI names and the short forms of
:func:`core.offence_labels.synonyms` — by the cosine similarity of their character n-gram
TF-IDF vectors (scikit-learn's ``TfidfVectorizer(analyzer="char_wb")``), after the label is
put in a canonical form: tokens of :func:`core.offence_labels.tokens_from_label` (no accents,
singular), usual abbreviations expanded (CAMB., VOL/ROUL., DEGRAD., STUP., VV, CBV, ITT…),
articles dropped. Character n-grams absorb what no rule anticipates: a plural, a dropped
letter, a swapped pair, an extra word.

The token rules keep their role as **guards**: a class they exclude is never proposed (a theft
word never gives a violence class, a violence without a theft word never a theft, a family
word never « hors cadre familial », « involontaire » never a voluntary destruction…).

Decision, label by label (:func:`match_labels`):

1. a label equal, token for token, to a reference is that reference (confidence 1);
2. the best reference the guards allow, by the larger of the cosine similarity and a
   containment score (every word of the reference in the label, a typo allowed: the most
   specific such reference wins, so that « … SUR LA VOIE PUBLIQUE » added to a label keeps its
   match), taken at :data:`LIKELY` or more; a nearly as good reference of another class
   (within :data:`MARGIN`, and not a part of the best one) makes the label ambiguous, as does a
   label whose every word is in references of several classes (« stupéfiants »);
3. otherwise the keyword rules' class, when they give an indicator (the confidence is then the
   similarity of the best reference of that class, and the reference reads « … (par mots-clés) »
   when none is close: the review puts it first);
4. « hors indicateurs » only when the label matches, with confidence, a reference that is
   itself outside the 14 indicators (a similarity of :data:`SURE`, or of :data:`LIKELY` with the
   keyword rules agreeing), or when it carries no indicator word and the rules say so; a label with an indicator word (vol, cambriolage, violence, stupéfiant…) that matches
   nothing surely is « non reconnu » until a person decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.vocabulary import OFFENCES

#: A reference at least this similar is taken (when the guards allow its class).
SURE = 0.80
#: A reference at least this similar is taken when the keyword rules agree or say nothing.
LIKELY = 0.55
#: Two references of different classes closer than this in similarity: the label is ambiguous.
MARGIN = 0.06
#: The score of a reference whose every word is in the label (plus 0.02 a word, up to 8).
CONTAINED = 0.80

_VIF, _VHF, _VS = OFFENCES[0], OFFENCES[1], OFFENCES[2]
THEFT_CLASSES = frozenset(OFFENCES[3:10])
VIOLENCE_CLASSES = frozenset({_VIF, _VHF, _VS})
DRUG_CLASSES = frozenset({OFFENCES[11], OFFENCES[12]})
_DDV = OFFENCES[10]

#: Abbreviations of police software (token -> tokens), expanded before matching.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "camb": ("cambriolage",),
    "cambr": ("cambriolage",),
    "cambrio": ("cambriolage",),
    "roul": ("roulotte",),
    "degrad": ("degradation",),
    "degr": ("degradation",),
    "dest": ("destruction",),
    "destr": ("destruction",),
    "stup": ("stupefiant",),
    "stups": ("stupefiant",),
    "vv": ("violence", "volontaire"),
    "cbv": ("coup", "blessure", "volontaire"),
    "itt": ("incapacite", "totale", "travail"),
    "veh": ("vehicule",),
    "vehic": ("vehicule",),
    "escroq": ("escroquerie",),
    "hab": ("habitation",),
    "habit": ("habitation",),
    "resid": ("residence",),
    "princ": ("principale",),
    "vpi": ("vol", "personne", "isolee"),
}
#: Dropped before matching: articles and the prepositions that carry no meaning here
#: (« dans », « sans », « sur », « contre » are kept).
STOP_WORDS = frozenset(
    {"le", "la", "les", "l", "d", "de", "des", "du", "a", "au", "aux", "un", "une", "en", "et"}
)


def canonical(tokens: tuple[str, ...]) -> str:
    """A label's tokens as the text that is matched: abbreviations expanded, articles dropped."""
    out: list[str] = []
    for t in tokens:
        out.extend(_expanded(t))
    kept = [t for t in out if t not in STOP_WORDS]
    return " ".join(kept or out)


@lru_cache(maxsize=4096)
def _expanded(token: str) -> tuple[str, ...]:
    """An abbreviation's words (a one-letter typo of an abbreviation of 4 letters or more too)."""
    if token in ABBREVIATIONS:
        return ABBREVIATIONS[token]
    if len(token) >= 4:
        for short, words in ABBREVIATIONS.items():
            if len(short) >= 4 and _one_edit(token, short):
                return words
    return (token,)


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` is ``b`` with at most one letter dropped, added, changed or two swapped."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _like(token: str, stem: str) -> bool:
    """``token`` begins with ``stem``, or with a one-letter typo of it (stems of 5 letters or more)."""
    if token.startswith(stem):
        return True
    if len(stem) < 5:
        return False
    return any(
        _one_edit(token[:n], stem) for n in (len(stem) - 1, len(stem), len(stem) + 1) if n <= len(token)
    )


def _has(tokens: frozenset[str], *stems: str) -> bool:
    return any(_like(t, stem) for t in tokens for stem in stems)


def _theft_token(t: str) -> bool:
    """« vol » and its forms (never « volontaire »), a one-letter typo of it included."""
    if t.startswith("volont"):
        return False
    return t in ("vol", "vole", "volee", "vols") or (2 <= len(t) <= 4 and t != "viol" and _one_edit(t, "vol"))


def indicator_words(tokens: frozenset[str]) -> dict[str, bool]:
    """Which families of indicator words a label carries (a one-letter typo included)."""
    from core.offence_labels import FAMILY_WORDS, THEFT_WORDS

    theft = (
        bool(tokens & THEFT_WORDS)
        or any(_theft_token(t) for t in tokens)
        or _has(tokens, "cambrio", "braquage", "effraction", "roulotte", "etalage", "arrache")
    )
    violence = _has(tokens, "violen", "blessure", "agress", "brutal") or bool(
        tokens & {"coup", "viol", "vv", "cbv"}
    )
    return {
        "theft": theft,
        "violence": violence,
        "family": (
            bool(tokens & FAMILY_WORDS)
            or "vif" in tokens
            or _has(tokens, "conjoint", "intrafamil", "conjugal")
        )
        and not ("cadre" in tokens and bool(tokens & {"hor", "hors"})),  # « hors cadre familial »
        "drug": _has(tokens, "stupefi", "cannabi", "drogue", "cocaine", "heroine")
        or bool(tokens & {"ils", "stup"}),
        "damage": _has(tokens, "destruct", "degrad", "vandal", "incendi", "deterior"),
        "fraud": _has(tokens, "escroq", "fraude", "arnaque", "confiance", "falsifi"),
        "sexual": _has(tokens, "sexuel", "exhib") or "viol" in tokens,
        "accident": _has(tokens, "involontaire", "accident"),
    }


def excluded_classes(tokens: frozenset[str]) -> frozenset[str]:
    """The classes the guards rule out for a label of these tokens."""
    w = indicator_words(tokens)
    out: set[str] = set()
    if w["theft"]:
        out |= VIOLENCE_CLASSES  # a theft word never gives a violence class
    else:
        out |= THEFT_CLASSES  # nor a theft without one (« volontaire » is no theft)
    if w["family"]:
        out.add(_VHF)
    elif w["violence"]:
        out.add(_VIF)
    if w["drug"]:
        out |= set(OFFENCES) - DRUG_CLASSES
    else:
        out |= DRUG_CLASSES
    if w["accident"]:
        out.add(_DDV)
    if w["sexual"] and not w["theft"]:
        out |= {_VIF, _VHF}
    if not w["sexual"]:
        out.add(_VS)
    return frozenset(out)


def has_indicator_word(tokens: frozenset[str]) -> bool:
    """Whether a label names an indicator's family (it is then never « hors indicateurs » by default)."""
    w = indicator_words(tokens)
    return any(w[k] for k in ("theft", "violence", "drug", "damage", "fraud", "sexual"))


@dataclass(frozen=True)
class References:
    """The reference labels, their classes and their TF-IDF vectors."""

    labels: list[str]
    classes: np.ndarray
    texts: list[str]
    words: list[frozenset[str]]
    vectorizer: object
    matrix: object  # sparse, one row per reference, L2-normalised


@lru_cache(maxsize=1)
def references() -> References:
    """Every reference label (état 4001 in use, SSMSI names, old names, short forms), once."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from core.offence_labels import UNUSED_INDEX, etat_4001, reference_labels, tokens_from_label

    pairs: dict[str, tuple[str, str]] = {}
    for r in etat_4001().itertuples():
        if r.classe != UNUSED_INDEX:
            pairs.setdefault(canonical(tokens_from_label(r.libelle_index)), (r.libelle_index, r.classe))
    for label, cls in reference_labels().items():
        pairs.setdefault(canonical(tokens_from_label(label)), (label, cls))
    texts = list(pairs)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    matrix = vectorizer.fit_transform(texts)
    return References(
        [pairs[t][0] for t in texts],
        np.array([pairs[t][1] for t in texts], dtype=object),
        texts,
        [frozenset(t.split()) for t in texts],
        vectorizer,
        matrix,
    )


@dataclass(frozen=True)
class LabelMatch:
    """A label's class, status, the reference it matched and the confidence of the match."""

    cls: str | None
    status: str
    reference: str | None
    confidence: float


@lru_cache(maxsize=1)
def _reference_names() -> dict[tuple[str, ...], str]:
    """The label shown as the reference of a label equal to one, token for token."""
    from core.offence_labels import UNUSED_INDEX, etat_4001, reference_labels, tokens_from_label

    names: dict[tuple[str, ...], str] = {}
    for r in etat_4001().itertuples():
        if r.classe != UNUSED_INDEX:
            names.setdefault(tokens_from_label(r.libelle_index), r.libelle_index)
    for label in reference_labels():
        names.setdefault(tokens_from_label(label), label)
    return names


@lru_cache(maxsize=8192)
def _vocabulary_like(token: str) -> frozenset[str]:
    """The reference words a label's word stands for: itself, or a reference word one typo away
    (words of 4 letters or more)."""
    vocab = _reference_vocabulary()
    found = {token} & vocab
    if len(token) >= 4:
        found |= {w for w in vocab if len(w) >= 4 and abs(len(w) - len(token)) <= 1 and _one_edit(token, w)}
    return frozenset(found)


@lru_cache(maxsize=1)
def _reference_vocabulary() -> frozenset[str]:
    return frozenset().union(*references().words)


def containment_scores(words: frozenset[str]) -> np.ndarray:
    """Per reference: :data:`CONTAINED` plus 0.02 a word (up to 8) when every word of the
    reference is in the label (a typo allowed): the more specific reference first; 0
    otherwise. A label that adds words to a reference (« … SUR LA VOIE PUBLIQUE ») matches it."""
    refs = references()
    present = frozenset().union(*(_vocabulary_like(w) for w in words)) if words else frozenset()
    return np.array([CONTAINED + 0.02 * min(len(w), 8) if w and w <= present else 0.0 for w in refs.words])


def match_labels(labels: list[object]) -> list[LabelMatch]:
    """The class of each label (see the module's note), with its reference and confidence.

    Parameters
    ----------
    labels : list
        Distinct labels (None or empty: not recognised).

    Returns
    -------
    list of LabelMatch
        One per label, in order.
    """
    from core.offence_labels import INDICATOR, OUTSIDE, UNKNOWN, rule_class, synonyms, tokens_from_label

    tokens = [tokens_from_label(label) for label in labels]
    table = synonyms()

    def status_of(cls: str | None) -> str:
        return INDICATOR if cls in OFFENCES else OUTSIDE if cls == OUTSIDE else UNKNOWN

    named = _reference_names()
    if all(not tok or tok in table for tok in tokens):  # every label is a reference: no matching
        return [
            LabelMatch(table[t], status_of(table[t]), named.get(t), 1.0)
            if t
            else LabelMatch(None, UNKNOWN, None, 0.0)
            for t in tokens
        ]
    refs = references()
    texts = [canonical(t) for t in tokens]
    sims = (refs.vectorizer.transform(texts) @ refs.matrix.T).toarray()
    exact = {text: i for i, text in enumerate(refs.texts)}

    out: list[LabelMatch] = []
    for k, tok in enumerate(tokens):
        if not tok:
            out.append(LabelMatch(None, UNKNOWN, None, 0.0))
            continue
        if tok in table:  # the label is a reference, token for token
            cls = table[tok]
            out.append(LabelMatch(cls, status_of(cls), named.get(tok), 1.0))
            continue
        if texts[k] in exact:
            i = exact[texts[k]]
            out.append(LabelMatch(refs.classes[i], status_of(refs.classes[i]), refs.labels[i], 1.0))
            continue
        present = frozenset(tok)
        words = frozenset(texts[k].split())
        everything = words | present
        banned = _banned(everything)
        contained = np.where(banned, 0.0, containment_scores(words))
        score = np.where(banned, -1.0, np.maximum(sims[k], contained))
        order = np.argsort(-score, kind="stable")
        best = int(order[0])
        # A reference wholly in the label that holds the best one's words and more is the match
        # (« usage revente stupéfiant » over « usage stupéfiant »).
        wider = [int(j) for j in np.flatnonzero(contained) if refs.words[best] < refs.words[j]]
        if wider:
            best = max(wider, key=lambda j: (len(refs.words[j]), contained[j]))
            order = np.concatenate([[best], order[order != best]])
        best_sim = float(score[best])
        cls_best = refs.classes[best]
        # The rival: the best reference of another class that is not a part of the best one
        # (« vol simple » within « vol simple sur chantier » is no rival: the longer one wins).
        rival = next(
            (
                int(j)
                for j in order[1:]
                if refs.classes[j] != cls_best and not refs.words[j] < refs.words[best]
            ),
            None,
        )
        rival_sim = float(score[rival]) if rival is not None else -1.0
        ruled = rule_class(present)
        ruled = None if ruled is not None and ruled in excluded_classes(everything) else ruled
        # Ambiguous: another class nearly as good, or every word of the label found in
        # references of several classes (« stupéfiants »: usage or trafic).
        within = {refs.classes[i] for i, w in enumerate(refs.words) if words <= w and not banned[i]}
        clear = best_sim - rival_sim >= MARGIN and len(within) <= 1
        if clear and best_sim >= LIKELY:
            chosen = (cls_best, best)
        elif ruled in OFFENCES:  # the keyword rules decide; shown as such when no reference is close
            same = np.flatnonzero((refs.classes == ruled) & ~banned)
            j = int(same[np.argmax(score[same])]) if len(same) else None
            if j is None or score[j] < LIKELY:
                conf = float(max(score[j], 0.0)) if j is not None else 0.0
                out.append(LabelMatch(ruled, status_of(ruled), f"{ruled} (par mots-clés)", round(conf, 3)))
                continue
            chosen = (ruled, j)
        elif ruled == OUTSIDE and not has_indicator_word(everything):
            chosen = (OUTSIDE, best if cls_best == OUTSIDE else None)
        else:
            chosen = (None, best if best_sim > 0 else None)
        cls, j = chosen
        sure_outside = (
            cls_best == OUTSIDE and clear and (best_sim >= SURE or (best_sim >= LIKELY and ruled == OUTSIDE))
        )
        if cls == OUTSIDE and has_indicator_word(everything) and not sure_outside:
            cls = None  # an indicator word: « hors indicateurs » only on a sure outside reference
        conf = float(min(max(score[j], 0.0), 1.0)) if j is not None else 0.0
        out.append(LabelMatch(cls, status_of(cls), refs.labels[j] if j is not None else None, round(conf, 3)))
    return out


def _banned(words: frozenset[str]) -> np.ndarray:
    """Per reference: whether the guards rule its class out for these words."""
    banned = excluded_classes(words)
    return np.array([c in banned for c in references().classes])
