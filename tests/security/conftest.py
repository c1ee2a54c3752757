"""The server mode under attack: the real test OpenID provider, the app in server mode, and a
workspace holding a data set of another département (the Sarthe, 72) beside the Mayenne's.

Every test here talks to the server with :mod:`tests.security.client` (raw websocket and
HTTP), never through a browser.
"""

from __future__ import annotations

import time

import pytest

from data.access import AccessStore
from scripts.serve_demo import seed_demo_people
from tests.e2e.oidc import node_modules_ready, server_mode_app
from tests.tooling import skip_or_fail

OTHER_DEP_NAME = "Sarthe secret 72"
OWN_DEP_NAME = "Mayenne import 53"
#: When this test module was loaded (files written by the server after it are its own).
STARTED = time.time()


def seed_other_departement(workspace) -> str:
    """Two small imported data sets, with their original labels kept: one of the Mayenne (53),
    one of the Sarthe (72, whose slug is returned)."""
    from core import model as m
    from data.default_dataset import DEFAULT_SLUG, ensure_default_dataset
    from data.locations import default_store
    from data.store import DatasetStore

    ensure_default_dataset()
    sample = default_store().load(DEFAULT_SLUG).head(60).copy()
    store = DatasetStore(workspace / "datasets")
    own = sample.copy()
    own[m.RAW_OFFENCE] = "VOL SIMPLE"
    store.save(
        own,
        name=OWN_DEP_NAME,
        source_file="mayenne.csv",
        departement="53",
        description="Import de mayenne.csv",
    )
    sample[m.RAW_OFFENCE] = "VOL SARTHE CONFIDENTIEL"
    info = store.save(
        sample,
        name=OTHER_DEP_NAME,
        source_file="sarthe.csv",
        departement="72",
        description="Import de sarthe.csv",
    )
    return info.slug


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """(base URL, workspace, slug of the 72 data set) of a server-mode app with the demo people."""
    if not node_modules_ready():
        skip_or_fail(
            "oidc-provider absent de tests/oidc/node_modules : lancez `make test` (il l'installe avec npm)."
        )
    ws = tmp_path_factory.mktemp("ws")
    store = AccessStore(ws / "acces.sqlite")
    seed_demo_people(store, "mise en place du test")
    slug = seed_other_departement(ws)
    with server_mode_app(ws) as (base, _issuer):
        yield base, ws, slug
