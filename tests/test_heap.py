"""The long-lived heap is frozen once per process (ui.heap)."""

from __future__ import annotations

import gc
import weakref

from ui import heap


class Node:
    """A cyclic object the collector must free before freezing."""

    def __init__(self) -> None:
        self.me = self


def test_the_heap_is_frozen_once_after_a_collection(monkeypatch):
    monkeypatch.setattr(heap, "_DONE", False)
    before = gc.get_freeze_count()
    try:
        lost = Node()
        alive = weakref.ref(lost)
        del lost  # an unreachable cycle: only the cyclic collector frees it
        assert alive() is not None
        assert heap.freeze_once() is True
        assert alive() is None  # collected first, not frozen for ever
        frozen = gc.get_freeze_count()
        assert frozen > before + 1000  # the imported libraries
        assert heap.freeze_once() is False and gc.get_freeze_count() == frozen  # never twice
    finally:
        gc.unfreeze()
