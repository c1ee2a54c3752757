"""Paris, Lyon and Marseille: the three cities divided into municipal arrondissements.

INSEE gives each city a commune code (75056, 69123, 13055) and each of its 45 arrondissements
a code of its own (75101–75120, 69381–69389, 13201–13216). The product works on the
arrondissements as units (a Paris Diagnostic ranks twenty of them, not one city) and keeps the
city's code beside them for the city total; a table holding both the city and its
arrondissements (the SSMSI communal base does) must never count the city twice.
"""

from __future__ import annotations

from collections.abc import Iterable

#: City code -> the codes of its arrondissements, in order.
PLM: dict[str, tuple[str, ...]] = {
    "75056": tuple(f"751{i:02d}" for i in range(1, 21)),
    "69123": tuple(f"6938{i}" for i in range(1, 10)),
    "13055": tuple(f"132{i:02d}" for i in range(1, 17)),
}
#: Arrondissement code -> its city's code.
CITY_OF_ARRONDISSEMENT: dict[str, str] = {arr: city for city, arrs in PLM.items() for arr in arrs}


def city_of(code: str) -> str:
    """The city of an arrondissement, or the code itself for any other commune.

    Examples
    --------
    >>> city_of("75105"), city_of("53130")
    ('75056', '53130')
    """
    return CITY_OF_ARRONDISSEMENT.get(str(code), str(code))


def codes_counted_once(codes: Iterable[str], *, keep: str = "city") -> set[str]:
    """The codes to drop so that a table holding a city and its arrondissements counts it once.

    Parameters
    ----------
    codes : iterable of str
        The codes present in the table.
    keep : {"city", "arrondissements"}
        Which to keep when both are present: the city's row (``"city"``, for département
        sums), or its arrondissements' rows (``"arrondissements"``, when they are the units).

    Returns
    -------
    set of str
        Codes to drop (empty when no city appears with its arrondissements).
    """
    present = {str(c) for c in codes}
    drop: set[str] = set()
    for city, arrs in PLM.items():
        listed = present.intersection(arrs)
        if city in present and listed:
            drop |= listed if keep == "city" else {city}
    return drop
