"""The users' evaluations of actions, kept with a data set across its versions (an append or
a re-import does not lose them), one JSON file per data set, written atomically."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

from core.errors import DatasetStoreError
from data.files import fsync_dir, locked, write_file_synced

#: File of a data set's evaluations in its notes folder.
EVALUATIONS = "evaluations.json"


class EvaluationNotes:
    """Evaluations of each data set under ``root/<slug>/evaluations.json``.

    Parameters
    ----------
    root : Path
        Folder of the notes (a store's own folder, or the workspace for the default data set,
        which lives in the rebuildable cache).

    Notes
    -----
    Slugs are checked by the store that owns the notes (:class:`data.store.DatasetStore`),
    which also checks that the data set exists before any read or write.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def records(self, slug: str) -> list[dict]:
        """The evaluations kept with a data set, oldest first (see :mod:`usecases.evaluation`)."""
        path = self.root / slug / EVALUATIONS
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except ValueError as exc:
            raise DatasetStoreError(
                f"Évaluations illisibles pour « {slug} » ({exc}) : supprimez le fichier {EVALUATIONS} du jeu."
            ) from exc
        return [r for r in records if isinstance(r, dict)]

    def save(self, slug: str, record: dict) -> None:
        """Keep one evaluation (atomic; replaces one with the same ``id``)."""
        base = self.root / slug
        with locked(base):
            records = [r for r in self.records(slug) if r.get("id") != record.get("id")]
            self._write(base, [*records, record])

    def delete(self, slug: str, record_id: str) -> None:
        """Remove one evaluation (nothing happens if it is not there)."""
        base = self.root / slug
        with locked(base):
            self._write(base, [r for r in self.records(slug) if r.get("id") != record_id])

    def remove(self, slug: str) -> None:
        """Remove every evaluation of a deleted data set."""
        shutil.rmtree(self.root / slug, ignore_errors=True)

    @staticmethod
    def _write(base: Path, records: list[dict]) -> None:
        tmp = base / f".{EVALUATIONS}.{uuid.uuid4().hex}"
        write_file_synced(tmp, json.dumps(records, ensure_ascii=False, indent=1).encode("utf-8"))
        os.replace(tmp, base / EVALUATIONS)
        fsync_dir(base)
