"""External tools for the tests (Chromium, poppler-utils): with ``CI=true`` a missing tool
fails the test, it never skips it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest


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
