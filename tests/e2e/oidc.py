"""A real OpenID provider (npm « oidc-provider ») and the app in server mode, for browser tests."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from scripts.serve import server_launch
from scripts.serve_demo import DEMO_ACCOUNTS
from tests.e2e.helpers import ARTIFACTS, ROOT, free_port, wait_until_up

OIDC_DIR = ROOT / "tests" / "oidc"
CLIENT_SECRET = "secret-client-de-test"
COOKIE_SECRET = "0123456789abcdef0123456789abcdef-cookie-de-test"
AUDIT_SECRET = "fedcba9876543210fedcba9876543210-audit-de-test"

#: One test account per role (the demo's), an unknown one and one whose e-mail is not verified.
ACCOUNTS = {
    **DEMO_ACCOUNTS,
    "inconnu": {"email": "inconnu@ailleurs.test", "email_verified": True, "name": "Inconnu"},
    "non_verifie": {"email": "analyste@prefecture.test", "email_verified": False, "name": "Usurpateur"},
}


def node_modules_ready() -> bool:
    return (OIDC_DIR / "node_modules" / "oidc-provider").exists() and shutil.which("node") is not None


@contextlib.contextmanager
def oidc_provider(redirects: list[str]) -> Iterator[str]:
    """Start the provider on a free port; yield its issuer (``http://localhost:<port>``)."""
    port = free_port()
    log = ARTIFACTS / f"oidc-{port}.log"
    fh = open(log, "w")  # noqa: SIM115
    proc = subprocess.Popen(
        ["node", str(OIDC_DIR / "provider.mjs")],
        cwd=OIDC_DIR,
        env={
            **os.environ,
            "OIDC_PORT": str(port),
            "OIDC_REDIRECTS": ",".join(redirects),
            "OIDC_ACCOUNTS": json.dumps(ACCOUNTS),
            "OIDC_SECRET": CLIENT_SECRET,
        },
        stdout=fh,
        stderr=subprocess.STDOUT,
    )
    issuer = f"http://localhost:{port}"
    try:
        wait_until_up(f"{issuer}/.well-known/openid-configuration", proc, log)
        yield issuer
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        fh.close()


@contextlib.contextmanager
def server_mode_app(
    workspace: Path, *, public_pages: bool = False, session_hours: float = 8.0
) -> Iterator[tuple[str, str]]:
    """The provider and the app in server mode; yield (app URL, issuer).

    The app is reached as ``http://localhost:<port>``: the browser's host must be the
    redirect URI's host.
    """
    port = free_port()
    base = f"http://localhost:{port}"
    with oidc_provider([f"{base}/oauth2callback"]) as issuer:
        config = {
            "application": {
                "adresse": "127.0.0.1",
                "port": port,
                "espace_de_travail": str(workspace),
                "pages_publiques": public_pages,
                "administrateurs": [ACCOUNTS["admin"]["email"]],
                "duree_max_session_heures": session_hours,
            },
            "oidc": {
                "metadonnees": f"{issuer}/.well-known/openid-configuration",
                "client_id": "delinquance",
                "url_de_redirection": f"{base}/oauth2callback",
            },
        }
        argv, env = server_launch(
            config,
            {
                "DELINQ_COOKIE_SECRET": COOKIE_SECRET,
                "DELINQ_OIDC_CLIENT_SECRET": CLIENT_SECRET,
                "DELINQ_AUDIT_SECRET": AUDIT_SECRET,
            },
        )
        argv = [sys.executable, *argv[1:]]
        log = ARTIFACTS / f"streamlit-serveur-{port}.log"
        fh = open(log, "w")  # noqa: SIM115
        proc = subprocess.Popen(
            argv, cwd=ROOT, env={**os.environ, **env}, stdout=fh, stderr=subprocess.STDOUT
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}/_stcore/health", proc, log)
            yield base, issuer
        finally:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            fh.close()


def sign_in(page, base: str, account: str, *, cancel: bool = False) -> None:
    """Sign in through the real redirect flow: the app's button, the provider's login form
    (any password), its consent screen, back to the app."""
    page.goto(base)
    page.get_by_role("button", name="Se connecter").first.click()
    page.wait_for_url("**/interaction/**", timeout=60_000)
    if cancel:
        page.get_by_text("[ Cancel ]").click()
        page.wait_for_url(f"{base}/**", timeout=60_000)
        return
    page.locator("input[name=login]").fill(account)
    page.locator("input[name=password]").fill("mot-de-passe-quelconque")
    page.locator("button[type=submit]").click()
    page.wait_for_url("**/interaction/**", timeout=60_000)
    page.locator("button[type=submit]").click()  # consent
    page.wait_for_url(f"{base}/**", timeout=60_000)
