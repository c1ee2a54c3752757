"""Application settings: one typed place for paths, defaults and thresholds.

Every value can be overridden by an environment variable named ``DELINQ_<FIELD>``
(upper case), e.g. ``DELINQ_WORKSPACE_DIR=/srv/delinquance``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Typed application settings with documented defaults.

    Attributes
    ----------
    cache_dir : Path
        Derived data rebuilt at set-up (commune GeoParquet, embedded data set).
    workspace_dir : Path
        Data sets imported by users (persist across restarts).
    default_departement : str
        Département of the embedded default data set (Mayenne).
    default_years : tuple of int
        First and last year of the embedded synthetic data set.
    default_seed : int
        Seed of the embedded synthetic data set.
    privacy_threshold : int
        Statistical-secrecy rule: a count from 1 to this value is never published
        (SSMSI publishes a commune only with more than 5 offences).
    display_tolerance_m : float
        Tolerance (metres) of the simplified commune geometry drawn on maps.
    max_upload_rows : int
        Largest incident file accepted (rows).
    published_resolution_m : float
        Published resolution (metres): a published place (camera site, zone, density
        cell) with 1 to ``privacy_threshold`` incidents within this distance is left out of
        the published view.
    static_url : str
        URL under which the app serves Leaflet and its plugins (offline maps).
    mode : str
        « local » (one analyst, no sign-in, 127.0.0.1 only: ``make run``) or « serveur »
        (sign-in with OpenID Connect, roles and territories: ``make serve``).
    access_db : Path, optional
        SQLite file of the people, roles and audit log (default: ``acces.sqlite`` in the
        workspace).
    public_pages : bool
        Server mode: open the published Diagnostic and Suivi to everyone, without sign-in.
    admins : tuple of str
        Server mode: e-mails of the first administrators (created at start when missing).
    session_max_hours : float
        Server mode: a sign-in older than this (ID token ``iat``) must be renewed.
    https : bool
        Server mode: the app is reached over HTTPS (its redirect URI says so): responses carry
        ``Strict-Transport-Security``.
    client_address_header : str
        Server mode behind a reverse proxy: the request header that carries the client's
        address (``X-Forwarded-For``); empty: the socket's peer address is the client's.
    """

    cache_dir: Path = ROOT / "cache"
    workspace_dir: Path = ROOT / "workspace"
    default_departement: str = "53"
    default_years: tuple[int, int] = (2022, 2025)
    default_seed: int = 2024
    privacy_threshold: int = 5
    display_tolerance_m: float = 60.0
    max_upload_rows: int = 5_000_000
    published_resolution_m: float = 200.0
    static_url: str = "/app/static/vendor"
    mode: str = "local"
    access_db: Path | None = None
    public_pages: bool = False
    admins: tuple[str, ...] = ()
    session_max_hours: float = 8.0
    https: bool = False
    client_address_header: str = ""

    @property
    def national_data_dir(self) -> Path:
        """The national data set (``make national``): one partition per département."""
        return self.workspace_dir / "national" / "donnees"

    @property
    def national_results_dir(self) -> Path:
        """The national batch's results (``make national``), read by the France page."""
        return self.workspace_dir / "national" / "resultats"

    @property
    def access_db_path(self) -> Path:
        """The access database file (people, roles, audit log)."""
        return self.access_db or self.workspace_dir / "acces.sqlite"


def _from_env() -> Settings:
    kwargs: dict[str, object] = {}
    for f in fields(Settings):
        raw = os.environ.get(f"DELINQ_{f.name.upper()}")
        if raw is None:
            continue
        if f.name.endswith("_dir") or f.name == "access_db":
            kwargs[f.name] = Path(raw)
        elif f.name in {"public_pages", "https"}:
            kwargs[f.name] = raw.strip().lower() in {"1", "true", "oui", "yes"}
        elif f.name == "admins":
            kwargs[f.name] = tuple(a.strip() for a in raw.split(",") if a.strip())
        elif f.name == "session_max_hours":
            kwargs[f.name] = float(raw)
        elif f.name == "default_years":
            a, b = raw.split(",")
            kwargs[f.name] = (int(a), int(b))
        elif f.name in {"default_seed", "privacy_threshold", "max_upload_rows"}:
            kwargs[f.name] = int(raw)
        elif f.name in {"display_tolerance_m", "published_resolution_m"}:
            kwargs[f.name] = float(raw)
        else:
            kwargs[f.name] = raw
    return Settings(**kwargs)  # type: ignore[arg-type]


SETTINGS = _from_env()
