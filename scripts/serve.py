"""Start the app in the « serveur » mode from a TOML configuration (``make serve CONFIG=…``).

The configuration (see ``deploy/serveur.example.toml``) names the listening address, the
workspace, the public pages, the first administrators and the OpenID Connect provider. The
three secrets come from the environment only: ``DELINQ_COOKIE_SECRET`` (signs Streamlit's
sign-in cookie), ``DELINQ_OIDC_CLIENT_SECRET`` and ``DELINQ_AUDIT_SECRET`` (keys the audit
log's chain). Streamlit's ``[auth]`` section is never written to disk: it travels in the
environment of the server process (``DELINQ_AUTH``, JSON), which ``app.py`` reads once, hands
to ``st.App(secrets=…)`` and removes from ``os.environ``. XSRF protection is on.

Run: ``python -m scripts.serve --config deploy/serveur.toml``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class ServeConfigError(Exception):
    """A configuration or environment that cannot start the server (French message)."""


def server_launch(config: dict, environ: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The command and the environment of a server-mode start (Streamlit's ``[auth]`` section
    included, as ``DELINQ_AUTH``).

    Parameters
    ----------
    config : dict
        The parsed TOML configuration.
    environ : dict
        The environment (for the three secrets).

    Raises
    ------
    ServeConfigError
        A missing secret or setting, in French, with the fix.
    """
    app = config.get("application", {})
    oidc = config.get("oidc", {})
    cookie = environ.get("DELINQ_COOKIE_SECRET", "")
    client_secret = environ.get("DELINQ_OIDC_CLIENT_SECRET", "")
    if len(cookie) < 32:
        raise ServeConfigError(
            "DELINQ_COOKIE_SECRET manque ou est trop court (32 caractères au moins) : générez-le avec "
            '`python -c "import secrets; print(secrets.token_hex(32))"` et passez-le dans l\'environnement.'
        )
    if not client_secret:
        raise ServeConfigError(
            "DELINQ_OIDC_CLIENT_SECRET manque : donnez le secret du client OpenID Connect dans l'environnement."
        )
    if len(environ.get("DELINQ_AUDIT_SECRET", "")) < 32:
        raise ServeConfigError(
            "DELINQ_AUDIT_SECRET manque ou est trop court (32 caractères au moins) : il signe la chaîne du journal "
            "d'audit. Générez-le comme DELINQ_COOKIE_SECRET, gardez-le hors de l'espace de travail, et passez-le "
            "dans l'environnement."
        )
    for key in ("metadonnees", "client_id", "url_de_redirection"):
        if not oidc.get(key):
            raise ServeConfigError(f"Section [oidc] : « {key} » manque (voir deploy/serveur.example.toml).")
    admins = app.get("administrateurs", [])
    if not admins:
        raise ServeConfigError(
            "Section [application] : « administrateurs » est vide : nommez au moins un administrateur."
        )
    auth = {
        "redirect_uri": oidc["url_de_redirection"],
        "cookie_secret": cookie,
        "client_id": oidc["client_id"],
        "client_secret": client_secret,
        "server_metadata_url": oidc["metadonnees"],
        # Streamlit sends prompt=select_account by default, which some providers refuse.
        "client_kwargs": {"prompt": "login", "scope": oidc.get("portees", "openid email profile")},
    }
    env = {
        "DELINQ_MODE": "serveur",
        "DELINQ_PUBLIC_PAGES": "1" if app.get("pages_publiques") else "0",
        "DELINQ_ADMINS": ",".join(admins),
        "DELINQ_SESSION_MAX_HOURS": str(app.get("duree_max_session_heures", 8)),
        "DELINQ_HTTPS": "1" if str(oidc["url_de_redirection"]).startswith("https://") else "0",
        "DELINQ_CLIENT_ADDRESS_HEADER": str(app.get("entete_adresse_client", "")),
        "DELINQ_AUTH": json.dumps(auth),
        "DELINQ_AUDIT_SECRET": environ["DELINQ_AUDIT_SECRET"],
    }
    if app.get("espace_de_travail"):
        env["DELINQ_WORKSPACE_DIR"] = str(app["espace_de_travail"])
    argv = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.address",
        str(app.get("adresse", "0.0.0.0")),
        "--server.port",
        str(app.get("port", 8501)),
        "--server.headless",
        "true",
        "--server.enableXsrfProtection",
        "true",
        "--server.enableCORS",
        "true",
    ]
    return argv, env


def main(args: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Démarre l'application en mode « serveur ».")
    parser.add_argument(
        "--config", required=True, type=Path, help="fichier TOML (voir deploy/serveur.example.toml)"
    )
    ns = parser.parse_args(args)
    try:
        config = tomllib.loads(ns.config.read_text(encoding="utf-8"))
        argv, env = server_launch(config, dict(os.environ))
    except (OSError, tomllib.TOMLDecodeError, ServeConfigError) as exc:
        print(f"Démarrage impossible : {exc}", file=sys.stderr)
        return 2
    os.umask(0o077)  # the workspace's files 0600, its folders 0700
    os.chdir(ROOT)
    os.execve(sys.executable, argv, {**os.environ, **env})
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
