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


def _from_env() -> Settings:
    kwargs: dict[str, object] = {}
    for f in fields(Settings):
        raw = os.environ.get(f"DELINQ_{f.name.upper()}")
        if raw is None:
            continue
        if f.name.endswith("_dir"):
            kwargs[f.name] = Path(raw)
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
