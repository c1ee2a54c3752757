"""The validation steps of the incident importer, in the order they run.

A read file (:class:`readers.incident_files.RawTable`) goes through:

1. :func:`mapping_for_table` (*columns*): which column holds which field, checked;
2. :func:`identifiers_from_table` and :func:`dates_from_table` (*dates*);
3. :func:`coordinates_from_table` (*coordinates*: geometry, lat/lon or x/y, swaps);
4. :func:`communes_from_points` (*commune*: spatial join and commune codes);
5. :func:`categories_from_table` and :func:`profiles_from_table` (*categories*);
6. :func:`incidents_from_steps` and :func:`warnings_from_steps` (*report*).

Each step reads the text columns it needs, records every rejected row with its reason
in an :class:`ImportLog`, and returns plain pandas Series aligned on the file's rows.
:func:`readers.incidents.incidents_from_table` chains them.

A package, one module per step (:mod:`.columns`, :mod:`.dates`, :mod:`.coordinates`, :mod:`.communes`,
:mod:`.categories`, :mod:`.report`), with :mod:`.log` and :mod:`.text` shared; every name is
importable from ``readers.incident_steps``.
"""

from __future__ import annotations

from core.vocabulary import OTHER_OFFENCE
from readers.incident_steps.categories import (
    Categories,
    Profiles,
    categories_from_table,
    offences_from_columns,
    profiles_from_table,
)
from readers.incident_steps.columns import (
    COORDINATE_MODES,
    FIELD_LABELS,
    FIELD_SYNONYMS,
    mapping_for_table,
    mapping_from_columns,
)
from readers.incident_steps.communes import (
    Placement,
    codes_from_commune_names,
    commune_name_key,
    communes_from_points,
)
from readers.incident_steps.coordinates import Located, coordinates_from_table
from readers.incident_steps.dates import (
    dates_from_table,
    identifiers_from_table,
    parse_datetimes,
    parse_time_of_day,
)
from readers.incident_steps.log import ImportLog
from readers.incident_steps.report import (
    incidents_from_steps,
    notes_from_steps,
    now_or_current,
    warnings_from_steps,
)
from readers.incident_steps.text import numbers_from_text, text_column

__all__ = [
    "COORDINATE_MODES",
    "Categories",
    "FIELD_LABELS",
    "FIELD_SYNONYMS",
    "ImportLog",
    "Located",
    "OTHER_OFFENCE",
    "Placement",
    "Profiles",
    "categories_from_table",
    "codes_from_commune_names",
    "commune_name_key",
    "communes_from_points",
    "coordinates_from_table",
    "dates_from_table",
    "identifiers_from_table",
    "incidents_from_steps",
    "mapping_for_table",
    "mapping_from_columns",
    "notes_from_steps",
    "now_or_current",
    "numbers_from_text",
    "offences_from_columns",
    "parse_datetimes",
    "parse_time_of_day",
    "profiles_from_table",
    "text_column",
    "warnings_from_steps",
]
