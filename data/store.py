"""Dataset store: incident data sets persisted as GeoParquet plus a manifest.

Layout of a store rooted at ``root``::

    root/<slug>/CURRENT                 name of the committed version folder
    root/<slug>/<version>/incidents.parquet
    root/<slug>/<version>/manifest.json
    root/<slug>/<version>/rejets.csv     rejection report of the import
    root/<slug>/<version>/<extra files>  e.g. hotspots.json (synthetic ground truth)
    root/<slug>/evaluations.json        evaluations of actions kept by the users (all versions;
                                        under ``notes_root`` when the store has one)

A save writes a whole new version folder, then switches ``CURRENT`` with an atomic
rename: a crash at any point leaves the previous version intact and readable.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import unicodedata
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from anyascii import anyascii

from core import model as m
from core.errors import DatasetStoreError
from core.escape import csv_safe_frame
from data.files import LOCK, fsync_dir, locked, write_file_synced
from data.notes import EVALUATIONS, EvaluationNotes

POINTER = "CURRENT"


@dataclass
class DatasetInfo:
    """Manifest of a saved data set."""

    slug: str
    name: str
    source_file: str
    imported_at: str
    n_rows: int
    n_rejected: int = 0
    synthetic: bool = False
    departement: str = ""
    description: str = ""
    first_date: str | None = None
    last_date: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


#: The only form a store folder name may take (never ``..``, never a path).
SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")


def slug_from_name(name: str) -> str:
    """A readable ASCII folder name for a data set name (any script transliterated).

    Examples
    --------
    >>> slug_from_name("Café 2024")
    'cafe-2024'
    >>> slug_from_name("Αθήνα")
    'athina'
    """
    s = anyascii(unicodedata.normalize("NFKC", str(name))).lower()
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return s[:60].strip("-") or "jeu"


def checked_slug(slug: object) -> str:
    """``slug`` when it has the store's own form, else a French error (no path ever escapes)."""
    if not isinstance(slug, str) or not SLUG_PATTERN.fullmatch(slug):
        raise DatasetStoreError(
            f"Identifiant de jeu de données invalide : « {slug} ». Il ne peut contenir que des lettres "
            "minuscules sans accents, des chiffres et des tirets."
        )
    return slug


class DatasetStore:
    """Persist incident data sets in a folder (see the module docstring).

    Parameters
    ----------
    root : Path
        Folder of the store, created when missing.
    notes_root : Path, optional
        Where the users' evaluations of each data set are kept (default ``root``: beside the
        data set). The default data set lives in the rebuildable cache: its evaluations go to
        the workspace instead.
    """

    #: Normalises a table before saving and after loading (incident model by default).
    _conform = staticmethod(m.conform_incidents)
    _read = staticmethod(gpd.read_parquet)
    _filename = "incidents.parquet"

    def __init__(self, root: Path, notes_root: Path | None = None) -> None:
        self.root = Path(root)
        self.notes_root = Path(notes_root) if notes_root is not None else self.root
        self.notes = EvaluationNotes(self.notes_root)

    # -- reading ---------------------------------------------------------------------
    def _version_dir(self, slug: str) -> Path:
        pointer = self.root / checked_slug(slug) / POINTER
        try:
            version = pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise DatasetStoreError(
                f"Jeu de données introuvable : « {slug} ». Rechargez la liste des jeux "
                "enregistrés ou importez le fichier de nouveau."
            ) from None
        path = self.root / slug / version
        if not path.is_dir():
            raise DatasetStoreError(
                f"Jeu de données « {slug} » incomplet (version {version} absente) : "
                "supprimez-le puis importez le fichier de nouveau."
            )
        return path

    def version(self, slug: str) -> str | None:
        """The committed version's name (it changes with every save), None without one: a
        cache key read from the pointer alone, without the manifest."""
        try:
            return self._version_dir(slug).name
        except DatasetStoreError:
            return None

    def exists(self, slug: str) -> bool:
        """Return True when a committed version of ``slug`` exists."""
        try:
            self._version_dir(slug)
        except DatasetStoreError:
            return False
        return True

    def info(self, slug: str) -> DatasetInfo:
        """Return the manifest of a saved data set."""
        path = self._version_dir(slug) / "manifest.json"
        try:
            return DatasetInfo(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise DatasetStoreError(
                f"Manifeste illisible pour « {slug} » ({exc}) : supprimez ce jeu et "
                "importez le fichier de nouveau."
            ) from exc

    def load(self, slug: str) -> gpd.GeoDataFrame:
        """Return the incidents of a saved data set (EPSG:4326)."""
        path = self._version_dir(slug) / self._filename
        try:
            return self._conform(self._read(path))
        except Exception as exc:  # noqa: BLE001 - any read failure is reported the same way
            raise DatasetStoreError(
                f"Fichier de données illisible pour « {slug} » ({type(exc).__name__}) : "
                "supprimez ce jeu et importez le fichier de nouveau."
            ) from exc

    def rejections(self, slug: str) -> pd.DataFrame:
        """Return the rejection report saved with a data set (possibly empty)."""
        path = self._version_dir(slug) / "rejets.csv"
        if not path.exists():
            return pd.DataFrame(columns=["ligne", "champ", "motif", "valeur"])
        return pd.read_csv(path, dtype=str, keep_default_na=False)

    def extra_path(self, slug: str, filename: str) -> Path:
        """Path of an extra file saved with a data set (it may not exist)."""
        return self._version_dir(slug) / filename

    def planted_hotspots(self, slug: str) -> pd.DataFrame | None:
        """The planted hot spots saved with a synthetic data set (None when there are none)."""
        path = self.extra_path(slug, "hotspots.json")
        if not path.exists():
            return None
        return pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))

    def list(self) -> list[DatasetInfo]:
        """Return the manifests of every committed data set, newest first."""
        if not self.root.exists():
            return []
        infos = []
        for child in sorted(self.root.iterdir()):
            if child.is_dir() and (child / POINTER).exists():
                try:
                    infos.append(self.info(child.name))
                except DatasetStoreError:
                    continue
        return sorted(infos, key=lambda i: i.imported_at, reverse=True)

    # -- writing ---------------------------------------------------------------------
    def save(
        self,
        incidents: gpd.GeoDataFrame,
        *,
        name: str,
        source_file: str,
        rejections: pd.DataFrame | None = None,
        synthetic: bool = False,
        departement: str = "",
        description: str = "",
        extra_files: dict[str, bytes] | None = None,
        slug: str | None = None,
        extra: dict[str, object] | None = None,
        replace: bool = False,
    ) -> DatasetInfo:
        """Save a data set atomically (a new one, or a new version of ``slug`` with ``replace``).

        Parameters
        ----------
        incidents : GeoDataFrame
            Incidents in the model of :mod:`core.model`.
        name : str
            Name shown to users.
        source_file : str
            Name of the imported file (or of the generator).
        rejections : DataFrame, optional
            Rejection report of the import (``ligne``, ``champ``, ``motif``, ``valeur``).
        synthetic : bool, default False
            True for generated data (the UI then says so).
        departement, description : str
            Shown in the manifest.
        extra_files : dict of str to bytes, optional
            Files saved beside the data (e.g. ``hotspots.json``).
        slug : str, optional
            Identifier (default: derived from ``name``, with a suffix when taken: a save
            never replaces another data set by accident).
        replace : bool, default False
            With ``slug``: replace that data set (a new version; the old one stays until the
            new one is complete). Without it, an existing ``slug`` is an error.
        extra : dict, optional
            Free metadata kept in the manifest.

        Returns
        -------
        DatasetInfo
            The manifest written.
        """
        if slug is None:
            slug = self._new_slug(slug_from_name(name))
        elif not replace and self.exists(checked_slug(slug)):
            raise DatasetStoreError(
                f"Un jeu de données « {slug} » existe déjà : choisissez un autre nom ou remplacez-le explicitement."
            )
        base = self.root / checked_slug(slug)
        with locked(base):
            return self._savelocked(
                base,
                slug,
                incidents,
                name,
                source_file,
                rejections,
                synthetic,
                departement,
                description,
                extra_files,
                extra,
            )

    def _new_slug(self, stem: str) -> str:
        """A folder name not used yet (``stem``, ``stem-2``…), reserved by creating it."""
        self.root.mkdir(parents=True, exist_ok=True)
        for i in range(1, 10_000):
            slug = stem if i == 1 else f"{stem[:74]}-{i}"
            try:
                (self.root / slug).mkdir()
                return slug
            except FileExistsError:
                continue
        raise DatasetStoreError("Trop de jeux de données portent ce nom : choisissez-en un autre.")

    def _savelocked(
        self,
        base: Path,
        slug: str,
        incidents: gpd.GeoDataFrame,
        name: str,
        source_file: str,
        rejections: pd.DataFrame | None,
        synthetic: bool,
        departement: str,
        description: str,
        extra_files: dict[str, bytes] | None,
        extra: dict[str, object] | None,
    ) -> DatasetInfo:
        self._remove_orphans(base)
        tmp = base / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        incidents = self._conform(incidents)
        rejections = rejections if rejections is not None else pd.DataFrame()
        starts = (
            incidents[m.START].dropna() if m.START in incidents else pd.Series([], dtype="datetime64[ns]")
        )
        info = DatasetInfo(
            slug=slug,
            name=name,
            source_file=source_file,
            imported_at=dt.datetime.now().isoformat(timespec="seconds"),
            n_rows=len(incidents),
            n_rejected=int(rejections["ligne"].nunique()) if "ligne" in rejections else 0,
            synthetic=synthetic,
            departement=departement,
            description=description,
            first_date=starts.min().isoformat() if len(starts) else None,
            last_date=starts.max().isoformat() if len(starts) else None,
            extra=dict(extra or {}),
        )
        try:
            incidents.to_parquet(tmp / self._filename, index=False, compression="zstd")
            with open(tmp / self._filename, "rb+") as fh:
                os.fsync(fh.fileno())
            write_file_synced(
                tmp / "rejets.csv", csv_safe_frame(rejections).to_csv(index=False).encode("utf-8")
            )
            for filename, data in (extra_files or {}).items():
                write_file_synced(tmp / Path(filename).name, data)
            write_file_synced(
                tmp / "manifest.json",
                json.dumps(asdict(info), ensure_ascii=False, indent=1).encode("utf-8"),
            )
            version = f"v{dt.datetime.now():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
            os.rename(tmp, base / version)
            fsync_dir(base)
            pointer_tmp = base / f".{POINTER}.{uuid.uuid4().hex}"
            write_file_synced(pointer_tmp, version.encode("utf-8"))
            os.replace(pointer_tmp, base / POINTER)  # the commit point
            fsync_dir(base)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        self._remove_orphans(base)
        return info

    # -- evaluations of actions (kept across versions: an append does not lose them) ------
    def evaluations(self, slug: str) -> list[dict]:
        """The evaluations kept with a data set, oldest first (see :mod:`data.notes`)."""
        self._version_dir(slug)  # the data set must exist
        return self.notes.records(slug)

    def save_evaluation(self, slug: str, record: dict) -> None:
        """Keep one evaluation with a data set (atomic; replaces one with the same ``id``)."""
        self._version_dir(slug)  # never create the folder of a data set that does not exist
        self.notes.save(slug, record)

    def delete_evaluation(self, slug: str, record_id: str) -> None:
        """Remove a kept evaluation (nothing happens if it is not there)."""
        self._version_dir(slug)
        self.notes.delete(slug, record_id)

    def delete(self, slug: str) -> None:
        """Delete a data set and every version of it."""
        base = self.root / checked_slug(slug)
        if not base.exists():
            raise DatasetStoreError(f"Jeu de données introuvable : « {slug} ».")
        with locked(base):
            pointer = base / POINTER
            if pointer.exists():
                pointer.unlink()  # uncommit first: a crash then leaves only orphans
            shutil.rmtree(base, ignore_errors=True)
        if self.notes.root != self.root:
            self.notes.remove(slug)

    @staticmethod
    def _remove_orphans(base: Path) -> None:
        """Remove temporary folders and versions other than the committed one."""
        try:
            current = (base / POINTER).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            current = None
        for child in base.iterdir():
            if child.name in (POINTER, LOCK) or child.name == current:
                continue
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            elif child.name.startswith((f".{POINTER}.", f".{EVALUATIONS}.")):  # interrupted writes
                child.unlink(missing_ok=True)


class StatisticsStore(DatasetStore):
    """Store of official statistics tables (SSMSI bases in the canonical form of
    :mod:`readers.ssmsi`), same layout and atomicity as :class:`DatasetStore`."""

    _conform = staticmethod(lambda df: pd.DataFrame(df).reset_index(drop=True))
    _read = staticmethod(pd.read_parquet)
    _filename = "statistiques.parquet"


class UnitsStore(DatasetStore):
    """Store of imported force units (points), same layout and atomicity."""

    _conform = staticmethod(lambda g: gpd.GeoDataFrame(g).reset_index(drop=True))
    _read = staticmethod(gpd.read_parquet)
    _filename = "unites.parquet"


class RoadsStore(DatasetStore):
    """Store of imported road networks, one per département (slug: its code), same layout
    and atomicity; the manifest's ``extra`` holds the source, the data's date and what the
    import left out (:func:`usecases.roads.import_road_network`)."""

    _conform = staticmethod(lambda g: gpd.GeoDataFrame(g).reset_index(drop=True))
    _read = staticmethod(gpd.read_parquet)
    _filename = "reseau.parquet"
