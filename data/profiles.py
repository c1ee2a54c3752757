"""Mapping profiles: how the files of one source are read, saved under a name.

A profile (e.g. « Export GN Mayenne ») keeps the column mapping of a file and the classes
the analyst chose for its offence and place labels in the label review. It applies
automatically to the next file whose normalised column names are the same set. Profiles
are small JSON files in the workspace, written atomically; names are free, folder names
are the store's (:func:`data.store.slug_from_name`, never reused silently).
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.errors import DatasetStoreError
from core.settings import SETTINGS
from core.vocabulary import normalize_label
from data.store import checked_slug, slug_from_name


@dataclass
class MappingProfile:
    """A named way of reading one source's files."""

    name: str
    columns: list[str]
    mapping: dict[str, str | None]
    offence_labels: dict[str, str] = field(default_factory=dict)
    place_labels: dict[str, str] = field(default_factory=dict)
    slug: str = ""

    def mapping_for(self, columns: list[str]) -> dict[str, str | None]:
        """The saved mapping in the spelling of another file's columns (same normalised set)."""
        by_norm = {normalize_label(c): c for c in columns}
        return {f: (by_norm.get(normalize_label(c)) if c else None) for f, c in self.mapping.items()}

    def fits(self, columns: list[str]) -> bool:
        """True for a file whose normalised column names are the same set."""
        return column_set(columns) == column_set(self.columns)


def column_set(columns: list[str]) -> frozenset[str]:
    """Normalised column names (case, accents and punctuation ignored)."""
    return frozenset(normalize_label(c) for c in columns)


class ProfileStore:
    """Profiles saved as ``<root>/<slug>.json``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, slug: str) -> Path:
        return self.root / f"{checked_slug(slug)}.json"

    def list(self) -> list[MappingProfile]:
        """Every saved profile, by name."""
        if not self.root.exists():
            return []
        out = []
        for path in sorted(self.root.glob("*.json")):
            try:
                out.append(MappingProfile(**json.loads(path.read_text(encoding="utf-8"))))
            except (ValueError, TypeError):
                continue  # a damaged profile is skipped, never fatal
        return sorted(out, key=lambda p: normalize_label(p.name))

    def for_columns(self, columns: list[str]) -> MappingProfile | None:
        """The profile that fits a file's columns (the first by name when several do)."""
        return next((p for p in self.list() if p.fits(columns)), None)

    def _write(self, profile: MappingProfile) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{profile.slug}.{uuid.uuid4().hex}.tmp"
        tmp.write_text(json.dumps(asdict(profile), ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self._path(profile.slug))

    def save(self, profile: MappingProfile) -> MappingProfile:
        """Save a new profile (its own folder name) or, with its ``slug`` set, update it."""
        if not profile.slug:
            self.root.mkdir(parents=True, exist_ok=True)
            stem = slug_from_name(profile.name)
            slug, i = stem, 1
            while self._path(slug).exists():
                i += 1
                slug = f"{stem[:74]}-{i}"
            profile.slug = slug
        self._write(profile)
        return profile

    def rename(self, slug: str, name: str) -> MappingProfile:
        """Give a profile another name (its file keeps its folder name)."""
        profile = self.get(slug)
        profile.name = name
        self._write(profile)
        return profile

    def get(self, slug: str) -> MappingProfile:
        """One profile, or a French error."""
        path = self._path(slug)
        if not path.exists():
            raise DatasetStoreError(f"Profil introuvable : « {slug} ».")
        return MappingProfile(**json.loads(path.read_text(encoding="utf-8")))

    def delete(self, slug: str) -> None:
        """Delete a profile."""
        path = self._path(slug)
        if not path.exists():
            raise DatasetStoreError(f"Profil introuvable : « {slug} ».")
        path.unlink()


def profile_store() -> ProfileStore:
    """The workspace's profiles."""
    return ProfileStore(SETTINGS.workspace_dir / "profils")
