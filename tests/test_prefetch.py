"""Background computing ahead (ui.prefetch): once per request, latest wins, failures retried."""

from __future__ import annotations

import threading

import pytest

from ui import prefetch


def _drain() -> None:
    """Wait until the worker has run everything submitted so far."""
    prefetch._worker.submit(lambda: None).result(timeout=30)


@pytest.fixture(autouse=True)
def _fresh():
    _drain()
    prefetch._done.clear()
    yield
    _drain()
    prefetch._done.clear()


def test_a_computed_request_is_not_sent_again():
    calls = []

    def loader(*args):
        calls.append(args)

    prefetch.warm(loader, "53", 2024)
    _drain()
    prefetch.warm(loader, "53", 2024)  # another session, same selection
    _drain()
    assert calls == [("53", 2024)]
    prefetch.warm(loader, "53", 2025)  # another selection
    _drain()
    assert calls == [("53", 2024), ("53", 2025)]


def test_a_failed_request_is_tried_again():
    calls = []

    def loader(*args):
        calls.append(args)
        raise ValueError("fichier illisible")

    prefetch.warm(loader, "72")
    _drain()
    prefetch.warm(loader, "72")
    _drain()
    assert calls == [("72",), ("72",)]


def test_a_request_superseded_before_it_starts_is_dropped():
    gate, calls = threading.Event(), []
    prefetch._worker.submit(gate.wait, 30)  # the worker is busy

    def loader(*args):
        calls.append(args)

    prefetch.warm(loader, "first")
    prefetch.warm(loader, "second")
    gate.set()
    _drain()
    assert calls == [("second",)]


def test_unhashable_arguments_are_always_sent():
    calls = []

    def loader(*args):
        calls.append(args)

    prefetch.warm(loader, ["53"])
    _drain()
    prefetch.warm(loader, ["53"])
    _drain()
    assert calls == [(["53"],), (["53"],)]
