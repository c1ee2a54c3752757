"""The synthetic generator's tables: offence profiles (urban excess, hours, weekdays, months,
time windows, places, offender profiles), planted hot spot themes, repeat and near-repeat
settings, and the calibration file. Read by :mod:`data.synthetic`; no logic here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

CALIBRATION_FILE = Path(__file__).with_name("ssmsi_departements.csv")


YEARLY_DRIFT = 0.02  # +2 % a year after the last year of the SSMSI table


SOLVED_SHARE = 0.35  # share of incidents with a known offender profile


#: Share of each offence's incidents moved onto the location of another (repeat places).
#: Repeat victimisation is common: the same household (intrafamily violence), the same shop
#: (thefts), the same car park, the same dealing spot.
REPEAT_PLACES = {
    "Violences physiques intrafamiliales": 0.30,
    "Cambriolages de logement": 0.08,
    "Vols sans violence contre des personnes": 0.25,
    "Vols dans les véhicules": 0.15,
    "Vols d'accessoires sur véhicules": 0.12,
    "Destructions et dégradations volontaires": 0.12,
    "Trafic de stupéfiants": 0.35,
    "Usage de stupéfiants": 0.25,
}


NEAR_REPEAT_OFFENCE = "Cambriolages de logement"


NEAR_REPEAT_SHARE = 0.15  # share of burglaries that follow an earlier one nearby


NEAR_REPEAT_RADIUS_M = 200.0


NEAR_REPEAT_DAYS = 14


def _hours(peaks: list[tuple[float, float, float]], floor: float = 0.15) -> np.ndarray:
    """Hour-of-day weights from circular Gaussian peaks (centre hour, width, weight)."""
    h = np.arange(24) + 0.5
    w = np.full(24, floor)
    for centre, width, weight in peaks:
        d = np.minimum(np.abs(h - centre), 24 - np.abs(h - centre))
        w += weight * np.exp(-0.5 * (d / width) ** 2)
    return w / w.sum()


NIGHT = _hours([(23.5, 2.5, 1.0), (19, 2, 0.4)])


EVENING = _hours([(19, 2.5, 1.0), (23, 2, 0.5)])


DAY = _hours([(11, 2, 0.8), (16, 2.5, 1.0)], floor=0.05)


OFFICE = _hours([(10.5, 2, 1.0), (15, 2, 0.9)], floor=0.03)


WEEK = np.array([1.0, 1.0, 1.0, 1.0, 1.1, 1.0, 0.8])


WEEKEND = np.array([0.85, 0.8, 0.85, 0.9, 1.15, 1.45, 1.3])


FLAT_MONTHS = np.ones(12)


SUMMER = np.array([0.9, 0.85, 0.95, 1.0, 1.05, 1.1, 1.2, 1.15, 1.0, 0.95, 0.9, 0.95])


WINTER = np.array([1.15, 1.05, 0.95, 0.9, 0.9, 0.85, 0.9, 0.95, 0.95, 1.05, 1.15, 1.2])


@dataclass(frozen=True)
class OffenceProfile:
    """How one offence is spread in space and time (see the module docstring)."""

    hours: np.ndarray
    weekdays: np.ndarray
    months: np.ndarray
    places: dict[str, float]
    urban_exponent: float = 1.15
    window_share: float = 0.0  # share of incidents known only within a window
    window_hours: tuple[float, float] = (1.0, 8.0)
    male_share: float = 0.85
    ages: tuple[float, ...] = (0.15, 0.25, 0.4, 0.15, 0.05)


PROFILES: dict[str, OffenceProfile] = {
    "Violences physiques intrafamiliales": OffenceProfile(
        EVENING,
        WEEKEND,
        SUMMER,
        {"domicile": 0.9, "autre": 0.1},
        1.0,
        male_share=0.85,
        ages=(0.03, 0.12, 0.55, 0.25, 0.05),
    ),
    "Violences physiques hors cadre familial": OffenceProfile(
        NIGHT,
        WEEKEND,
        SUMMER,
        {
            "voie publique": 0.55,
            "commerce": 0.1,
            "transports": 0.05,
            "établissement scolaire": 0.08,
            "domicile": 0.1,
            "autre": 0.12,
        },
        1.3,
        male_share=0.85,
        ages=(0.25, 0.3, 0.33, 0.1, 0.02),
    ),
    "Violences sexuelles": OffenceProfile(
        EVENING,
        WEEKEND,
        SUMMER,
        {
            "domicile": 0.6,
            "voie publique": 0.15,
            "établissement scolaire": 0.08,
            "transports": 0.04,
            "autre": 0.13,
        },
        1.05,
        male_share=0.97,
        ages=(0.25, 0.15, 0.35, 0.2, 0.05),
    ),
    "Vols avec armes": OffenceProfile(
        EVENING,
        WEEK,
        WINTER,
        {"commerce": 0.6, "voie publique": 0.4},
        1.4,
        male_share=0.95,
        ages=(0.2, 0.4, 0.35, 0.05, 0.0),
    ),
    "Vols violents sans arme": OffenceProfile(
        EVENING,
        WEEKEND,
        WINTER,
        {"voie publique": 0.75, "transports": 0.15, "commerce": 0.1},
        1.5,
        male_share=0.9,
        ages=(0.35, 0.35, 0.25, 0.05, 0.0),
    ),
    "Vols sans violence contre des personnes": OffenceProfile(
        DAY,
        WEEK,
        SUMMER,
        {
            "voie publique": 0.4,
            "commerce": 0.3,
            "transports": 0.1,
            "établissement scolaire": 0.05,
            "autre": 0.15,
        },
        1.3,
        window_share=0.2,
        window_hours=(0.5, 4.0),
        male_share=0.75,
        ages=(0.3, 0.3, 0.3, 0.08, 0.02),
    ),
    "Cambriolages de logement": OffenceProfile(
        DAY,
        WEEK,
        WINTER,
        {"domicile": 1.0},
        0.95,
        window_share=0.75,
        window_hours=(2.0, 72.0),
        male_share=0.9,
        ages=(0.2, 0.35, 0.35, 0.1, 0.0),
    ),
    "Vols de véhicule": OffenceProfile(
        NIGHT,
        WEEK,
        FLAT_MONTHS,
        {"voie publique": 0.9, "autre": 0.1},
        1.2,
        window_share=0.6,
        window_hours=(4.0, 14.0),
        male_share=0.95,
        ages=(0.35, 0.35, 0.25, 0.05, 0.0),
    ),
    "Vols dans les véhicules": OffenceProfile(
        NIGHT,
        WEEK,
        FLAT_MONTHS,
        {"voie publique": 0.9, "autre": 0.1},
        1.25,
        window_share=0.5,
        window_hours=(4.0, 14.0),
        male_share=0.92,
        ages=(0.3, 0.35, 0.3, 0.05, 0.0),
    ),
    "Vols d'accessoires sur véhicules": OffenceProfile(
        NIGHT,
        WEEK,
        FLAT_MONTHS,
        {"voie publique": 0.9, "autre": 0.1},
        1.2,
        window_share=0.5,
        window_hours=(4.0, 14.0),
        male_share=0.92,
        ages=(0.3, 0.35, 0.3, 0.05, 0.0),
    ),
    "Destructions et dégradations volontaires": OffenceProfile(
        NIGHT,
        WEEKEND,
        SUMMER,
        {
            "voie publique": 0.6,
            "domicile": 0.15,
            "commerce": 0.1,
            "établissement scolaire": 0.05,
            "transports": 0.05,
            "autre": 0.05,
        },
        1.2,
        window_share=0.3,
        window_hours=(2.0, 12.0),
        male_share=0.88,
        ages=(0.4, 0.3, 0.22, 0.06, 0.02),
    ),
    "Usage de stupéfiants": OffenceProfile(
        EVENING,
        WEEKEND,
        SUMMER,
        {"voie publique": 0.85, "autre": 0.15},
        1.4,
        male_share=0.9,
        ages=(0.15, 0.45, 0.35, 0.05, 0.0),
    ),
    "Trafic de stupéfiants": OffenceProfile(
        EVENING,
        WEEK,
        FLAT_MONTHS,
        {"voie publique": 0.8, "domicile": 0.2},
        1.5,
        male_share=0.9,
        ages=(0.15, 0.45, 0.35, 0.05, 0.0),
    ),
    "Escroqueries et fraudes aux moyens de paiement": OffenceProfile(
        OFFICE,
        WEEK,
        FLAT_MONTHS,
        {"autre": 0.7, "commerce": 0.2, "domicile": 0.1},
        1.0,
        window_share=0.3,
        window_hours=(24.0, 240.0),
        male_share=0.7,
        ages=(0.05, 0.25, 0.45, 0.2, 0.05),
    ),
}


#: Themes of planted hotspots: the offences they add.
HOTSPOT_THEMES: dict[str, tuple[str, ...]] = {
    "centre-ville nocturne": (
        "Violences physiques hors cadre familial",
        "Vols violents sans arme",
        "Destructions et dégradations volontaires",
        "Usage de stupéfiants",
    ),
    "point de deal": ("Trafic de stupéfiants", "Usage de stupéfiants"),
    "parkings": ("Vols dans les véhicules", "Vols d'accessoires sur véhicules", "Vols de véhicule"),
    "cambriolages pavillonnaires": ("Cambriolages de logement",),
    "pôle commercial": ("Vols sans violence contre des personnes", "Vols violents sans arme"),
}
