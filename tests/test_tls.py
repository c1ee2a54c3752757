"""The sign-in's HTTP clients share one default TLS context (ui.tls), verification unchanged."""

from __future__ import annotations

import ssl
from pathlib import Path

import certifi
import httpx
import httpx._transports.default as transports
import pytest

from ui import tls


@pytest.fixture
def shared(monkeypatch):
    monkeypatch.setattr(transports, "create_ssl_context", transports.create_ssl_context)
    monkeypatch.setattr(tls, "_CONTEXTS", {})
    tls.share_default_context()
    tls.share_default_context()  # idempotent: not wrapped twice
    assert not getattr(transports.create_ssl_context.original, "shares_contexts", False)
    return transports.create_ssl_context


def _context(client: httpx.AsyncClient) -> ssl.SSLContext:
    return client._transport._pool._ssl_context


def test_clients_share_one_verifying_context(shared):
    first, second = httpx.AsyncClient(), httpx.AsyncClient()
    assert _context(first) is _context(second)
    ctx = _context(first)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname  # still verified
    assert ctx.cert_store_stats()["x509_ca"] > 50  # the CA bundle is loaded


def test_other_verifications_are_not_shared(shared, monkeypatch, tmp_path):
    default = shared()
    unverified = shared(verify=False)
    assert unverified is not default and unverified.verify_mode == ssl.CERT_NONE
    assert shared(verify=False) is not unverified  # never kept
    own = ssl.create_default_context()
    assert shared(verify=own) is own
    bundle = tmp_path / "ca.pem"  # a CA file named by the environment gets its own context
    bundle.write_bytes(Path(certifi.where()).read_bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    assert shared() is not default and shared() is shared()
