"""The project's exceptions: one small hierarchy, all ``ValueError`` subclasses.

Messages are in French because users read them; each one names the input at fault
and says how to fix it.
"""

from __future__ import annotations


class DelinquanceError(ValueError):
    """Base class of every error a user may see."""


class TerritoryError(DelinquanceError):
    """Unknown département or commune code, or a territory without data."""


class CRSError(DelinquanceError):
    """A computation received geographic coordinates or mismatched CRSs."""


class IncidentFileError(DelinquanceError):
    """An incident file cannot be read at all (format, encoding, columns)."""


class DatasetStoreError(DelinquanceError):
    """A saved data set is missing or unreadable."""


class ParameterError(DelinquanceError):
    """A setting outside what a computation accepts (a size, a method, a dimension)."""
