"""The root of the project's exceptions, and those that several layers raise.

Every error a user can cause is a :class:`DelinquanceError` (a ``ValueError``) whose French
message names the input at fault and says how to fix it; :func:`ui.guard.guarded` shows it,
never a traceback. The classes raised by one module only live beside it, all subclasses of
:class:`DelinquanceError` (``tests/test_layers.py`` checks it):

- ``readers.ssmsi.StatisticsFileError`` (an :class:`IncidentFileError`),
  ``readers.organisation.OrganisationFileError``, ``readers.road_model.RoadFileError``;
- ``data.access.AccessError``, ``data.national.NationalDataError``;
- ``analysis.siting_base.SitingError``, ``analysis.hotspots.TooFewIncidentsError``,
  ``analysis.periods.PeriodError`` and its ``PeriodNotCoveredError``;
- ``usecases.common.RefusedError`` (a refused read or action, audited),
  ``usecases.evaluation.EvaluationError``, ``usecases.ma_commune.CommuneAccessError``,
  ``usecases.repeats.RepeatsError``.

``ui.access.AccessRefusedError`` is not one of them: it only stops a page whose refusal is
already on screen.
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
