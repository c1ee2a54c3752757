"""Crash-safe file operations shared by the stores: an exclusive folder lock, a file written
and synced before it is renamed into place, and a synced folder entry."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

#: Name of the lock file in a locked folder.
LOCK = ".lock"


@contextlib.contextmanager
def locked(base: Path) -> Iterator[None]:
    """Exclusive lock of a folder (saves and deletions of one data set never overlap)."""
    base.mkdir(parents=True, exist_ok=True)
    with open(base / LOCK, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def fsync_dir(path: Path) -> None:
    """Make a folder's entries (a rename, a new file) durable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_synced(path: Path, data: bytes) -> None:
    """Write a file and sync it to disk (rename it into place afterwards)."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
