"""Offence, place-type and force vocabularies, and the mapping of free labels onto them.

The offence list is the SSMSI communal base indicator list (2025 edition). Older editions
used other names: they are mapped explicitly in :data:`OLD_SSMSI_INDICATORS`.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

OFFENCES: tuple[str, ...] = (
    "Violences physiques intrafamiliales",
    "Violences physiques hors cadre familial",
    "Violences sexuelles",
    "Vols avec armes",
    "Vols violents sans arme",
    "Vols sans violence contre des personnes",
    "Cambriolages de logement",
    "Vols de véhicule",
    "Vols dans les véhicules",
    "Vols d'accessoires sur véhicules",
    "Destructions et dégradations volontaires",
    "Usage de stupéfiants",
    "Trafic de stupéfiants",
    "Escroqueries et fraudes aux moyens de paiement",
)
OTHER_OFFENCE = "Autre"
HOMICIDES = "Homicides (y c. tentatives)"  # département level only

#: Old SSMSI indicator names mapped onto the current vocabulary (``None``: an aggregate,
#: never imported as such to avoid counting twice).
OLD_SSMSI_INDICATORS: dict[str, str | None] = {
    "Coups et blessures volontaires intrafamiliaux": "Violences physiques intrafamiliales",
    "Autres coups et blessures volontaires": "Violences physiques hors cadre familial",
    "Coups et blessures volontaires": None,
    "Vols de véhicules": "Vols de véhicule",
    "Usage de stupéfiants (AFD)": "Usage de stupéfiants",
}

PLACE_TYPES: tuple[str, ...] = (
    "voie publique",
    "domicile",
    "commerce",
    "transports",
    "établissement scolaire",
    "autre",
)
FORCES: tuple[str, ...] = ("PN", "GN", "PM")
FORCE_LABELS = {"PN": "Police nationale", "GN": "Gendarmerie nationale", "PM": "Police municipale"}
AGE_CLASSES: tuple[str, ...] = ("moins de 18 ans", "18-24 ans", "25-44 ans", "45-64 ans", "65 ans et plus")
SEXES: tuple[str, ...] = ("homme", "femme")

#: Public-space place types (what a camera can see; used by later features).
PUBLIC_PLACES = ("voie publique", "transports", "commerce")


def normalize_label(text: object) -> str:
    """Lower-case, strip accents and punctuation, collapse spaces.

    Parameters
    ----------
    text : object
        Any label (non-strings are converted with ``str``; missing values give "").

    Returns
    -------
    str
        The normalised label, e.g. ``"Vols d'accessoires"`` -> ``"vols d accessoires"``.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return s.strip()


_PLACE_SYNONYMS: dict[str, str] = {normalize_label(p): p for p in PLACE_TYPES}
_PLACE_SYNONYMS.update(
    {
        "rue": "voie publique",
        "voirie": "voie publique",
        "espace public": "voie publique",
        "parking": "voie publique",
        "logement": "domicile",
        "habitation": "domicile",
        "maison": "domicile",
        "appartement": "domicile",
        "magasin": "commerce",
        "boutique": "commerce",
        "commerces": "commerce",
        "gare": "transports",
        "transport": "transports",
        "transports en commun": "transports",
        "bus": "transports",
        "ecole": "établissement scolaire",
        "college": "établissement scolaire",
        "lycee": "établissement scolaire",
        "etablissement scolaire": "établissement scolaire",
    }
)
_FORCE_SYNONYMS: dict[str, str] = {
    "pn": "PN",
    "police": "PN",
    "police nationale": "PN",
    "dgpn": "PN",
    "gn": "GN",
    "gendarmerie": "GN",
    "gendarmerie nationale": "GN",
    "dggn": "GN",
    "pm": "PM",
    "police municipale": "PM",
}


def _words(norm: str) -> frozenset[str]:
    """Whole words of a normalised label, plural « s »/« x » dropped (« gares » is « gare »)."""
    return frozenset(w[:-1] if len(w) > 3 and w[-1] in "sx" else w for w in norm.split())


def map_distinct(values: pd.Series, func, *, missing: object = None) -> pd.Series:
    """``values.map(func)`` computed once per distinct value (an export holds a million rows
    and a few dozen labels): ``func`` of each distinct non-missing value, taken back by
    position; ``missing`` where the value is missing. Indexed like ``values``, dtype object."""
    # String columns are factorised as they are (Arrow's dictionary encoding), others as objects.
    source = values if isinstance(values.dtype, pd.StringDtype) else values.astype(object)
    codes, uniques = pd.factorize(source, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[: len(uniques)] = [func(u) for u in uniques]
    table[-1] = missing
    return pd.Series(table[codes], index=values.index, dtype=object)


def _map_with(labels: pd.Series, synonyms: dict[str, str]) -> pd.Series:
    """Exact synonym first; else the synonyms whose every word is a whole word of the label
    (never a piece of a word: « garage » is not « gare »), when they agree on one value."""
    keyed = [(_words(k), v) for k, v in synonyms.items() if k]

    def one(u: object) -> str | None:
        norm = normalize_label(u)
        hit = synonyms.get(norm)
        if hit is None and norm:
            words = _words(norm)
            found = {value for key, value in keyed if key <= words}
            hit = found.pop() if len(found) == 1 else None
        return hit

    # A missing label: what normalize_label makes of it (an empty text: no synonym).
    return map_distinct(labels, one, missing=synonyms.get(normalize_label(None)))


def place_types_from_labels(labels: pd.Series) -> pd.Series:
    """Map free place labels onto :data:`PLACE_TYPES` (``NaN`` when unrecognised)."""
    return _map_with(labels, _PLACE_SYNONYMS)


def forces_from_labels(labels: pd.Series) -> pd.Series:
    """Map free force labels onto ``PN``/``GN``/``PM`` (``NaN`` when unrecognised)."""
    return _map_with(labels, _FORCE_SYNONYMS)


_UNIT_WORDS = (
    ({"gendarmerie", "brigade", "bta", "bp", "cob", "psig", "bmo", "gn", "dggn", "ggd", "escadron"}, "GN"),
    ({"commissariat", "csp", "dipn", "ddsp", "dspn", "pn", "dgpn", "bac", "sgami"}, "PN"),
)


def forces_from_unit_names(names: pd.Series) -> pd.Series:
    """Force of a unit from its name (« Brigade de gendarmerie de Laval » → GN).

    « police municipale » gives PM, « police » alone PN; a name without a telling word
    gives a missing value (the force is then taken from the commune).
    """

    def one(name: object) -> str | None:
        norm = normalize_label(name)
        if not norm:
            return None
        words = set(norm.split())
        if {"police", "municipale"} <= words or "pm" in words:
            return "PM"
        found = {force for keys, force in _UNIT_WORDS if words & keys}
        if not found and "police" in words:
            found = {"PN"}
        return found.pop() if len(found) == 1 else None

    return map_distinct(names, one)
