"""One TLS context for the sign-in's HTTP clients instead of a new one per request.

Streamlit's sign-in (``st.login``, through Authlib) makes a new ``httpx`` client for each
step of each sign-in: the provider's metadata on ``/auth/login``, then the metadata, the
token and the signing keys on ``/oauth2callback``. Each new client builds a TLS context and
reads the whole certificate bundle into it: about 45 ms of CPU, four or five times per
sign-in, more than everything else the server does for it. :func:`share_default_context`
makes ``httpx`` reuse one context per configuration for its default verification
(``verify=True``, no client certificate): the same certificates (``certifi``'s bundle, or
``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set, as ``httpx`` reads them), the same checks
(hostname and certificate chain verified). Any other verification (``verify=False``, a
context, a file, a client certificate) goes to ``httpx`` untouched.
"""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Callable
from typing import Any

import httpx._transports.default as _transports

_LOCK = threading.Lock()
_CONTEXTS: dict[tuple[bool, str | None, str | None], ssl.SSLContext] = {}


def _shared(original: Callable[..., ssl.SSLContext]) -> Callable[..., ssl.SSLContext]:
    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> ssl.SSLContext:
        if verify is not True or cert is not None:
            return original(verify=verify, cert=cert, trust_env=trust_env)
        key = (trust_env, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        with _LOCK:
            found = _CONTEXTS.get(key)
            if found is None:
                found = _CONTEXTS[key] = original(verify=verify, cert=cert, trust_env=trust_env)
        return found

    create_ssl_context.shares_contexts = True  # type: ignore[attr-defined]
    create_ssl_context.original = original  # type: ignore[attr-defined]
    return create_ssl_context


def share_default_context() -> None:
    """Make ``httpx`` clients share their default TLS context (idempotent)."""
    if not getattr(_transports.create_ssl_context, "shares_contexts", False):
        _transports.create_ssl_context = _shared(_transports.create_ssl_context)
