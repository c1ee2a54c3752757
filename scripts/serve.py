"""Start the app in the « serveur » mode from a TOML configuration (``make serve CONFIG=…``).

The configuration (see ``deploy/serveur.example.toml``) names the listening address, the
workspace, the public pages, the first administrators and the OpenID Connect provider. The
two secrets come from the environment only: ``DELINQ_COOKIE_SECRET`` (signs Streamlit's sign-in
cookie) and ``DELINQ_OIDC_CLIENT_SECRET``. Streamlit's ``[auth]`` section is written to a
private file (mode 0600) that only this server reads; XSRF protection is on.

Run: ``python -m scripts.serve --config deploy/serveur.toml``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class ServeConfigError(Exception):
    """A configuration or environment that cannot start the server (French message)."""


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def server_launch(config: dict, environ: dict[str, str]) -> tuple[list[str], dict[str, str], str]:
    """The command, the environment and the secrets file text of a server-mode start.

    Parameters
    ----------
    config : dict
        The parsed TOML configuration.
    environ : dict
        The environment (for the two secrets).

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
            "`python -c \"import secrets; print(secrets.token_hex(32))\"` et passez-le dans l'environnement."
        )
    if not client_secret:
        raise ServeConfigError("DELINQ_OIDC_CLIENT_SECRET manque : donnez le secret du client OpenID Connect dans l'environnement.")
    for key in ("metadonnees", "client_id", "url_de_redirection"):
        if not oidc.get(key):
            raise ServeConfigError(f"Section [oidc] : « {key} » manque (voir deploy/serveur.example.toml).")
    admins = app.get("administrateurs", [])
    if not admins:
        raise ServeConfigError("Section [application] : « administrateurs » est vide : nommez au moins un administrateur.")
    secrets = "\n".join(
        [
            "[auth]",
            f"redirect_uri = {_toml_string(oidc['url_de_redirection'])}",
            f"cookie_secret = {_toml_string(cookie)}",
            f"client_id = {_toml_string(oidc['client_id'])}",
            f"client_secret = {_toml_string(client_secret)}",
            f"server_metadata_url = {_toml_string(oidc['metadonnees'])}",
            # Streamlit sends prompt=select_account by default, which some providers refuse.
            f"client_kwargs = {{ prompt = \"login\", scope = {_toml_string(oidc.get('portees', 'openid email profile'))} }}",
            "",
        ]
    )
    env = {
        "DELINQ_MODE": "serveur",
        "DELINQ_PUBLIC_PAGES": "1" if app.get("pages_publiques") else "0",
        "DELINQ_ADMINS": ",".join(admins),
        "DELINQ_SESSION_MAX_HOURS": str(app.get("duree_max_session_heures", 8)),
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
    return argv, env, secrets


def write_secrets(text: str) -> Path:
    """Write Streamlit's secrets to a private file (folder 0700, file 0600)."""
    folder = Path(tempfile.mkdtemp(prefix="delinquance-auth-"))
    path = folder / "secrets.toml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def main(args: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Démarre l'application en mode « serveur ».")
    parser.add_argument("--config", required=True, type=Path, help="fichier TOML (voir deploy/serveur.example.toml)")
    ns = parser.parse_args(args)
    try:
        config = tomllib.loads(ns.config.read_text(encoding="utf-8"))
        argv, env, secrets = server_launch(config, dict(os.environ))
    except (OSError, tomllib.TOMLDecodeError, ServeConfigError) as exc:
        print(f"Démarrage impossible : {exc}", file=sys.stderr)
        return 2
    path = write_secrets(secrets)
    argv += ["--secrets.files", str(path)]
    os.chdir(ROOT)
    os.execve(sys.executable, argv, {**os.environ, **env})
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
