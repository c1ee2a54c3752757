"""External tools for the tests (Chromium, poppler-utils): with ``CI=true`` a missing tool
fails the test, it never skips it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest


def isolated_settings(monkeypatch: pytest.MonkeyPatch, **changes: object):
    """Give every product module settings with ``changes`` (e.g. a ``workspace_dir`` under
    ``tmp_path``) for one test, and return them.

    Modules read the settings as ``from core.settings import SETTINGS``. Every product module
    is imported first (pages excepted: they are scripts), then each one holding the object is
    patched: moving a function between modules cannot send a test's writes to the real
    workspace, and no module imported during the test keeps the temporary settings after it.
    """
    import dataclasses
    import importlib
    import pkgutil
    import sys

    import core.settings
    from core.layers import LAYERS

    root = Path(__file__).resolve().parents[1]
    for package in LAYERS:
        if (root / package / "__init__.py").exists() and package != "app_pages":
            for info in pkgutil.walk_packages([str(root / package)], prefix=f"{package}."):
                importlib.import_module(info.name)
    original = core.settings.SETTINGS
    isolated = dataclasses.replace(original, **changes)
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in LAYERS and getattr(module, "SETTINGS", None) is original:
            monkeypatch.setattr(module, "SETTINGS", isolated)
    return isolated


def skip_or_fail(message: str) -> NoReturn:
    """Skip the test on a developer's machine; fail it in CI."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def tool_path(name: str, package: str = "poppler-utils") -> str:
    """Path of a command from a Debian package, or skip/fail saying how to install it."""
    path = shutil.which(name)
    if path is None:
        skip_or_fail(
            f"{name} introuvable : installez le paquet Debian « {package} » (make test le fait en root)."
        )
    return path


def pdf_text(path: Path, first: int | None = None, last: int | None = None) -> str:
    """Text of a PDF (``pdftotext -layout``), spaces normalised (no-break spaces included)."""
    args = [tool_path("pdftotext"), "-layout"]
    if first:
        args += ["-f", str(first), "-l", str(last or first)]
    out = subprocess.run([*args, str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.replace("\u00a0", " ").replace("\u202f", " ").split())


#: The small national workspace of the France page's tests: two départements computed, one
#: (the Lozère, a few incidents) whose count is secret.
NATIONAL_COMPUTED = ("90", "23")
NATIONAL_SECRET = "48"


def build_national_workspace(national_dir: Path) -> Path:
    """A national data set and its batch results under ``national_dir`` (``donnees``, ``resultats``).

    The product's own functions, in this process (the Dask batch has its own tests): the
    Territoire de Belfort and the Creuse at a twentieth of their volumes, and the Lozère at a
    five-hundredth (three incidents: its count is secret). The data set holds the first two.
    """
    import datetime as dt

    from data.national import generate_national_dataset
    from usecases.national_batch import departement_task

    data, out = national_dir / "donnees", national_dir / "resultats"
    manifest = generate_national_dataset(
        data,
        departements=NATIONAL_COMPUTED,
        years=(2024, 2025),
        seed=9,
        scale=0.05,
        today=dt.date(2025, 12, 31),
    )
    for code in NATIONAL_COMPUTED:
        departement_task(str(data), str(out), code, manifest["version"])
    tiny = national_dir / "minuscule"
    small = generate_national_dataset(
        tiny,
        departements=[NATIONAL_SECRET],
        years=(2025, 2025),
        seed=5,
        scale=0.002,
        today=dt.date(2026, 11, 21),
    )
    departement_task(str(tiny), str(out), NATIONAL_SECRET, small["version"])
    return national_dir
