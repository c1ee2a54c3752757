"""The sidebar's selection as one value: which data set (store kind, slug, version stamp), which
département and which filter. Every cached use case takes it whole, so that a new filter or a
new data-set attribute is added here once, not to fourteen signatures.

Also here: the stores a selection can name (:func:`store_for`), the data sets a département
offers (:func:`datasets_for_departement`) and the generation of a demonstration data set
(:func:`generate_synthetic_for`), the decisions the sidebar and the pages share.

The audience is not part of the selection: it is passed beside it to the use cases whose
result depends on it, so that a computation that does not (the data set, the zone analysis,
the figures of the packs, the follow-up) is not recomputed when the view is switched.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import data.default_dataset
import data.locations
import data.national
from core.model import IncidentFilter
from data.store import DatasetInfo, DatasetStore
from geo.organisation import Organisation

#: Store kinds, in the order the sidebar lists their data sets: generated demonstration,
#: partitions of the national data set (read-only), imported files.
STORE_KINDS: tuple[str, ...] = ("defaut", "national", "espace")


def store_for(kind: str) -> DatasetStore:
    """The store of a data-set kind.

    Parameters
    ----------
    kind : {"defaut", "national", "espace"}
        Generated data sets, the national data set's partitions (read-only), imported files.

    Returns
    -------
    DatasetStore
        The store, at the locations of the settings.
    """
    if kind == "defaut":
        return data.locations.default_store()
    if kind == "national":
        return data.national.national_store()
    if kind == "espace":
        return data.locations.workspace_store()
    raise ValueError(f"unknown store kind {kind!r}; expected one of {STORE_KINDS}")


def datasets_for_departement(departement: str) -> list[tuple[str, DatasetInfo]]:
    """Saved data sets of a département: generated, then its national partition, then imported.

    Parameters
    ----------
    departement : str
        Département code.

    Returns
    -------
    list of (str, DatasetInfo)
        Store kind and description of each data set, in the sidebar's order.
    """
    out = [("defaut", i) for i in store_for("defaut").list() if i.departement == departement]
    out += [("national", i) for i in data.national.national_store().list(departement)]
    out += [("espace", i) for i in store_for("espace").list() if i.departement == departement]
    return out


def generate_synthetic_for(departement: str, organisation: Organisation) -> DatasetInfo:
    """Generate the demonstration data set of a département (synthetic incidents on its real
    communes, each given the force of its commune in ``organisation``)."""
    forces = organisation.communes.set_index("code")["force"]
    return data.default_dataset.generate_synthetic_dataset(departement, forces=forces)


@dataclass(frozen=True)
class Selection:
    """What the sidebar selected: hashable, the key of every cached use case.

    Attributes
    ----------
    kind : str
        Store kind (:data:`STORE_KINDS`).
    slug : str
        Data set identifier in its store.
    stamp : str
        Version of the data set (its import time): a re-import changes every key.
    departement : str
        Département code.
    flt : IncidentFilter
        The sidebar's filter (period in whole months in the published view).
    """

    kind: str
    slug: str
    stamp: str
    departement: str
    flt: IncidentFilter = IncidentFilter()

    @classmethod
    def of(
        cls, kind: str, info: DatasetInfo, departement: str, flt: IncidentFilter | None = None
    ) -> Selection:
        """The selection of a saved data set, at its current version (no filter by default)."""
        return cls(kind, info.slug, info.imported_at, departement, flt or IncidentFilter())

    @property
    def dataset_key(self) -> tuple[str, str, str]:
        """Kind, slug and stamp: what identifies the loaded incidents."""
        return self.kind, self.slug, self.stamp

    def store(self) -> DatasetStore:
        """The store holding the data set."""
        return store_for(self.kind)

    def undated(self) -> Selection:
        """The same selection over the data set's whole period."""
        return dataclasses.replace(self, flt=self.flt.undated())

    def with_filter(self, flt: IncidentFilter) -> Selection:
        """The same data set under another filter."""
        return dataclasses.replace(self, flt=flt)
