"""Demo of the « serveur » mode on this machine: the test OpenID provider and the app.

Starts the npm ``oidc-provider`` of the browser tests (tests/oidc, installed by ``make test``
or ``make serve-demo``) on http://localhost:9400 with one account per role, adds those people
to a demo workspace, then the app on http://localhost:8502 in server mode. Sign in with one of
the account names below (any password): admin, analyste, referent, prefet, maire.

Run: ``make serve-demo``. Not for production: the provider's accounts and keys are test ones.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.access import ANALYST, MAYOR, PREFET, REFERENT, Viewer
from data.access import AccessStore
from scripts.serve import server_launch

ROOT = Path(__file__).resolve().parents[1]
PROVIDER_PORT, APP_PORT = 9400, 8502
CLIENT_SECRET = "secret-client-de-demonstration"

#: One account per role (account name typed in the provider's form -> claims).
DEMO_ACCOUNTS = {
    "admin": {"email": "admin@prefecture.test", "email_verified": True, "name": "Administrateur démo"},
    "analyste": {"email": "analyste@prefecture.test", "email_verified": True, "name": "Analyste démo"},
    "referent": {
        "email": "referent@gendarmerie.test",
        "email_verified": True,
        "name": "Référent sûreté démo",
    },
    "prefet": {"email": "cabinet@prefecture.test", "email_verified": True, "name": "Cabinet du préfet démo"},
    "maire": {"email": "maire@laval.test", "email_verified": True, "name": "Maire de Laval démo"},
}
DEMO_PEOPLE = {
    "analyste": (ANALYST, "53"),
    "referent": (REFERENT, "53"),
    "prefet": (PREFET, "53"),
    "maire": (MAYOR, "53130"),
}


def seed_demo_people(store: AccessStore, by: str) -> None:
    """Give each demo account (but the administrator, from the configuration) its role and territory."""
    setup = Viewer(role="administrateur", identity=by)
    for account, (role, territory) in DEMO_PEOPLE.items():
        store.save_person(by=setup, role=role, territory=territory, email=DEMO_ACCOUNTS[account]["email"])


def main() -> int:
    workspace = ROOT / "workspace" / "demo-serveur"
    seed_demo_people(AccessStore(workspace / "acces.sqlite"), "make serve-demo")
    base = f"http://localhost:{APP_PORT}"
    provider = subprocess.Popen(
        ["node", str(ROOT / "tests" / "oidc" / "provider.mjs")],
        cwd=ROOT / "tests" / "oidc",
        env={
            **os.environ,
            "OIDC_PORT": str(PROVIDER_PORT),
            "OIDC_REDIRECTS": f"{base}/oauth2callback",
            "OIDC_ACCOUNTS": json.dumps(DEMO_ACCOUNTS),
            "OIDC_SECRET": CLIENT_SECRET,
        },
    )
    time.sleep(1.5)
    config = {
        "application": {
            "adresse": "127.0.0.1",
            "port": APP_PORT,
            "espace_de_travail": str(workspace),
            "pages_publiques": True,
            "administrateurs": [DEMO_ACCOUNTS["admin"]["email"]],
        },
        "oidc": {
            "metadonnees": f"http://localhost:{PROVIDER_PORT}/.well-known/openid-configuration",
            "client_id": "delinquance",
            "url_de_redirection": f"{base}/oauth2callback",
        },
    }
    argv, env = server_launch(
        config,
        {
            "DELINQ_COOKIE_SECRET": secrets.token_hex(32),
            "DELINQ_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "DELINQ_AUDIT_SECRET": secrets.token_hex(32),
        },
    )
    print(
        f"Démonstration du mode serveur : ouvrez {base} ; comptes : {', '.join(DEMO_ACCOUNTS)} (mot de passe quelconque)."
    )
    app = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **env})
    try:
        return app.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for proc in (app, provider):
            proc.send_signal(signal.SIGTERM)


if __name__ == "__main__":
    sys.exit(main())
