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


# Synonyms (normalised) of each offence, then keyword rules tried in order.
_OFFENCE_SYNONYMS: dict[str, str] = {normalize_label(o): o for o in OFFENCES}
_OFFENCE_SYNONYMS.update({normalize_label(k): v for k, v in OLD_SSMSI_INDICATORS.items() if v is not None})
_OFFENCE_SYNONYMS.update(
    {
        "vif": "Violences physiques intrafamiliales",
        "violences conjugales": "Violences physiques intrafamiliales",
        "violences intrafamiliales": "Violences physiques intrafamiliales",
        "cbv": "Violences physiques hors cadre familial",
        "coups et blessures": "Violences physiques hors cadre familial",
        "violences physiques": "Violences physiques hors cadre familial",
        "agression": "Violences physiques hors cadre familial",
        "viol": "Violences sexuelles",
        "agression sexuelle": "Violences sexuelles",
        "vol a main armee": "Vols avec armes",
        "vol arme": "Vols avec armes",
        "vol avec violence": "Vols violents sans arme",
        "vol violent": "Vols violents sans arme",
        "vol a l arrache": "Vols violents sans arme",
        "vol simple": "Vols sans violence contre des personnes",
        "vol a la tire": "Vols sans violence contre des personnes",
        "cambriolage": "Cambriolages de logement",
        "cambriolages": "Cambriolages de logement",
        "vol par effraction": "Cambriolages de logement",
        "vol de vehicule": "Vols de véhicule",
        "vol de voiture": "Vols de véhicule",
        "vol d automobile": "Vols de véhicule",
        "vol de deux roues": "Vols de véhicule",
        "vol dans vehicule": "Vols dans les véhicules",
        "vol a la roulotte": "Vols dans les véhicules",
        "vol d accessoires": "Vols d'accessoires sur véhicules",
        "degradation": "Destructions et dégradations volontaires",
        "degradations": "Destructions et dégradations volontaires",
        "destruction": "Destructions et dégradations volontaires",
        "incendie volontaire": "Destructions et dégradations volontaires",
        "tag": "Destructions et dégradations volontaires",
        "usage de stupefiants afd": "Usage de stupéfiants",
        "ils": "Usage de stupéfiants",
        "consommation de stupefiants": "Usage de stupéfiants",
        "trafic": "Trafic de stupéfiants",
        "deal": "Trafic de stupéfiants",
        "escroquerie": "Escroqueries et fraudes aux moyens de paiement",
        "escroqueries": "Escroqueries et fraudes aux moyens de paiement",
        "fraude carte bancaire": "Escroqueries et fraudes aux moyens de paiement",
    }
)
_OFFENCE_KEYWORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("stup", "trafic"), "Trafic de stupéfiants"),
    (("stup",), "Usage de stupéfiants"),
    (("sexuel",), "Violences sexuelles"),
    (("intrafamil",), "Violences physiques intrafamiliales"),
    (("conjugal",), "Violences physiques intrafamiliales"),
    (("cambriol",), "Cambriolages de logement"),
    (("escroq",), "Escroqueries et fraudes aux moyens de paiement"),
    (("fraude",), "Escroqueries et fraudes aux moyens de paiement"),
    (("accessoire",), "Vols d'accessoires sur véhicules"),
    (("vol", "dans", "vehicule"), "Vols dans les véhicules"),
    (("vol", "vehicule"), "Vols de véhicule"),
    (("vol", "arme"), "Vols avec armes"),
    (("vol", "violen"), "Vols violents sans arme"),
    (("degrad",), "Destructions et dégradations volontaires"),
    (("destruct",), "Destructions et dégradations volontaires"),
    (("violence",), "Violences physiques hors cadre familial"),
    (("vol",), "Vols sans violence contre des personnes"),
)

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


def _offence_for(norm: str) -> str | None:
    if not norm:
        return None
    hit = _OFFENCE_SYNONYMS.get(norm)
    if hit:
        return hit
    words = norm
    for keys, offence in _OFFENCE_KEYWORDS:
        if all(k in words for k in keys):
            return offence
    return None


def offences_from_labels(labels: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Map free offence labels onto the SSMSI vocabulary.

    Parameters
    ----------
    labels : Series
        Labels as found in a file.

    Returns
    -------
    offences : Series
        The vocabulary label, :data:`OTHER_OFFENCE` when nothing matched.
    mapped : Series of bool
        True where the label was recognised.
    """
    uniques = pd.unique(labels.astype("object").to_numpy())
    table = {u: _offence_for(normalize_label(u)) for u in uniques}
    mapped_values = labels.astype("object").map(table)
    mapped = mapped_values.notna()
    return mapped_values.fillna(OTHER_OFFENCE).astype(object), mapped


def _map_with(labels: pd.Series, synonyms: dict[str, str]) -> pd.Series:
    uniques = pd.unique(labels.astype("object").to_numpy())
    table: dict[object, str | None] = {}
    for u in uniques:
        norm = normalize_label(u)
        table[u] = synonyms.get(norm)
        if table[u] is None:
            for key, value in synonyms.items():
                if key and len(key) > 3 and key in norm:
                    table[u] = value
                    break
    return labels.astype("object").map(table)


def place_types_from_labels(labels: pd.Series) -> pd.Series:
    """Map free place labels onto :data:`PLACE_TYPES` (``NaN`` when unrecognised)."""
    return _map_with(labels, _PLACE_SYNONYMS)


def forces_from_labels(labels: pd.Series) -> pd.Series:
    """Map free force labels onto ``PN``/``GN``/``PM`` (``NaN`` when unrecognised)."""
    return _map_with(labels, _FORCE_SYNONYMS)
