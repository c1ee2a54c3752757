"""Views rendered once per content and shared by every session: the content fingerprint and
a memory-bounded cache.

A rendered map or chart depends only on what it is built from. :func:`fingerprint` digests
**every input** (frames, geometries, arrays, values, the builder's qualified name), never a
name or session state, so two viewers share a rendered view only when they would have built
the very same one: a published-view map and an internal-view map differ in their inputs (a
gated table, a ``hide_secret`` argument) and never share an entry. :class:`SharedCache`
keeps the rendered views within a memory budget, least recently used out first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

T = TypeVar("T")


#: Frames, arrays and geometries at least this large are digested once per object (see
#: :func:`_large_digest`): the cached views a page draws are the same objects on every run.
LARGE_CELLS = 2_000
LARGE_GEOMETRIES = 50

_DIGESTS: dict[int, bytes] = {}
_DIGESTS_LOCK = threading.Lock()


def _is_large(obj: Any) -> bool:
    if isinstance(obj, (gpd.GeoSeries, gpd.array.GeometryArray)):
        return len(obj) >= LARGE_GEOMETRIES
    if isinstance(obj, pd.DataFrame):
        has_geometry = any(isinstance(t, gpd.array.GeometryDtype) for t in obj.dtypes)
        return obj.size >= LARGE_CELLS or (has_geometry and len(obj) >= LARGE_GEOMETRIES)
    return isinstance(obj, (pd.Series, pd.Index, np.ndarray)) and obj.size >= LARGE_CELLS


def _large_digest(obj: Any) -> bytes:
    """The digest of one large frame, array or geometry column, computed once per object.

    The views a page draws come from the shared caches (``st.cache_resource``): the very same
    objects on every run of every session, never modified (other sessions read them). Their
    digest is remembered by object identity until the object is freed (a weak reference
    forgets it, so a new object at the same address is digested again).
    """
    key = id(obj)
    with _DIGESTS_LOCK:
        found = _DIGESTS.get(key)
    if found is not None:
        return found
    inner = hashlib.blake2b(digest_size=20)
    _feed_value(inner, obj)
    digest = inner.digest()
    try:
        weakref.finalize(obj, _DIGESTS.pop, key, None)
    except TypeError:  # not weakly referenceable: never remembered
        return digest
    with _DIGESTS_LOCK:
        _DIGESTS[key] = digest
    return digest


def _feed(h: Any, obj: Any) -> None:
    """Feed one value, recursively, into the hash ``h``; unknown types are refused."""
    if _is_large(obj):
        h.update(b"large:" + _large_digest(obj))
    else:
        _feed_value(h, obj)


def _feed_value(h: Any, obj: Any) -> None:
    """:func:`_feed` without the per-object memory."""
    if obj is None or isinstance(
        obj, (bool, int, float, str, bytes, dt.date, dt.datetime, dt.time, enum.Enum)
    ):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
    elif isinstance(obj, np.generic):
        h.update(f"{obj.dtype.str}:{obj!r};".encode())
    elif isinstance(obj, (gpd.GeoSeries, gpd.array.GeometryArray)):
        values = obj.values if isinstance(obj, gpd.GeoSeries) else obj
        h.update(f"geometry:{len(values)}:{obj.crs}:".encode())
        h.update(b"\0".join(b"" if w is None else w for w in shapely.to_wkb(np.asarray(values))))
        if isinstance(obj, gpd.GeoSeries):
            _feed(h, obj.index)
    elif isinstance(obj, pd.DataFrame):
        geometry = [name for name, dtype in obj.dtypes.items() if isinstance(dtype, gpd.array.GeometryDtype)]
        plain = obj.drop(columns=geometry) if geometry else obj
        h.update(f"frame:{obj.shape}:{type(obj).__name__}:{list(obj.dtypes.items())!r};".encode())
        _feed(h, obj.index)
        try:  # one vectorised pass over the rows (index included)
            h.update(pd.util.hash_pandas_object(plain, index=False).to_numpy().tobytes())
        except TypeError:  # unhashable cells (lists...): column by column, their text
            for name in plain.columns:
                _feed(h, plain[name])
        for name in geometry:
            _feed(h, gpd.GeoSeries(obj[name]))
    elif isinstance(obj, (pd.Series, pd.Index)):
        h.update(f"{type(obj).__name__}:{len(obj)}:{obj.dtype}:{obj.name!r};".encode())
        try:
            h.update(pd.util.hash_pandas_object(obj, index=False).to_numpy().tobytes())
        except TypeError:  # unhashable cells (lists...): their text
            h.update(repr(obj.tolist()).encode())
        if isinstance(obj, pd.Series):
            _feed(h, obj.index)
    elif isinstance(obj, np.ndarray):
        h.update(f"array:{obj.dtype.str}:{obj.shape};".encode())
        if obj.dtype == object:
            h.update(repr(obj.tolist()).encode())
        else:
            h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, (tuple, list)):
        h.update(f"{type(obj).__name__}[{len(obj)}](".encode())
        for item in obj:
            _feed(h, item)
        h.update(b")")
    elif isinstance(obj, dict):
        h.update(f"dict[{len(obj)}](".encode())
        for k in sorted(obj, key=repr):
            _feed(h, k)
            _feed(h, obj[k])
        h.update(b")")
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        h.update(f"{type(obj).__module__}.{type(obj).__qualname__}(".encode())
        for field in dataclasses.fields(obj):
            _feed(h, field.name)
            _feed(h, getattr(obj, field.name))
        h.update(b")")
    elif callable(obj) and hasattr(obj, "__qualname__"):
        h.update(f"callable:{obj.__module__}.{obj.__qualname__};".encode())
    else:
        raise TypeError(f"fingerprint: type {type(obj).__name__} non prise en charge")


def fingerprint(*parts: Any) -> str:
    """A digest of everything in ``parts`` (frames, geometries, arrays, values, builders).

    Parameters
    ----------
    *parts
        Values of the supported types: None, numbers, text, dates, enums, NumPy arrays and
        scalars, pandas Series/Index/DataFrame, GeoSeries/GeoDataFrame (geometry as WKB),
        tuples, lists, dicts, dataclass instances, functions (by qualified name).

    Returns
    -------
    str
        A hex digest: equal contents give equal digests.

    Raises
    ------
    TypeError
        On a value of another type (no fall-back to an identity that could be reused).
    """
    h = hashlib.blake2b(digest_size=20)
    _feed(h, parts)
    return h.hexdigest()


class SharedCache(Generic[T]):
    """A thread-safe least-recently-used cache of rendered views within a byte budget.

    Parameters
    ----------
    budget_bytes : int
        Memory given to the entries, shared by all sessions.
    size : callable
        The size in bytes of one entry.
    """

    def __init__(self, budget_bytes: int, size: Callable[[T], int]) -> None:
        self.budget_bytes = budget_bytes
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, T] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_make(self, key: str, make: Callable[[], T]) -> T:
        """The entry under ``key``, made by ``make()`` (outside the lock) when missing.

        Two sessions asking for the same missing entry at once may both make it; the value
        is the same and the second one is kept.
        """
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        value = make()
        with self._lock:
            self._entries[key] = value
            total = sum(self._size(v) for v in self._entries.values())
            while total > self.budget_bytes and len(self._entries) > 1:
                _, old = self._entries.popitem(last=False)
                total -= self._size(old)
        return value

    def clear(self) -> None:
        """Forget every entry (tests)."""
        with self._lock:
            self._entries.clear()
