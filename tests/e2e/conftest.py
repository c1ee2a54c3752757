"""The Chromium shared by the browser tests (one per test module)."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, chromium_available
from tests.tooling import skip_or_fail


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless; with CI=true a missing browser fails instead of skipping."""
    if not chromium_available():
        skip_or_fail(
            f"Chromium introuvable ({CHROMIUM}) : installez le paquet Debian « chromium » (make test le fait en root)."
        )
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on its default data with a workspace of its own (one per test module); a module
    that needs another setting defines its own ``server``."""
    from tests.e2e.helpers import streamlit_server

    ws = tmp_path_factory.mktemp("ws")
    with streamlit_server({"DELINQ_WORKSPACE_DIR": str(ws)}) as url:
        yield url
