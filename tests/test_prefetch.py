"""Background computing ahead (ui.prefetch): once per request, latest wins, failures retried."""

from __future__ import annotations

import threading

import pytest

from ui import prefetch


def _drain() -> None:
    """Wait until the worker has run everything submitted so far."""
    prefetch._worker.submit(lambda: None).result(timeout=30)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.setattr(prefetch, "IDLE_S", 0.0)
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


def test_a_request_waits_for_the_server_to_be_idle(monkeypatch):
    monkeypatch.setattr(prefetch, "IDLE_S", 0.5)
    calls = []
    prefetch.activity()  # a script run starts
    prefetch.warm(lambda *a: calls.append(a), "59")
    threading.Event().wait(0.2)
    assert calls == []  # still within the idle delay after the run
    _drain()
    assert calls == [("59",)]


def test_a_request_superseded_while_waiting_for_idle_is_dropped(monkeypatch):
    monkeypatch.setattr(prefetch, "IDLE_S", 0.4)
    calls = []

    def loader(*args):
        calls.append(args)

    prefetch.activity()
    prefetch.warm(loader, "period 1")
    threading.Event().wait(0.1)
    prefetch.activity()  # the user changes a filter: a new run, a new request
    prefetch.warm(loader, "period 2")
    _drain()
    assert calls == [("period 2",)]
