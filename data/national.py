"""The national data set: incidents of every département, stored one partition per département.

Layout (hive-style, readable whole by Dask or Arrow, and one département at a time by the
app without touching the others)::

    root/incidents/departement=53/part-0.parquet     GeoParquet, EPSG:4326, zstd
    root/incidents/departement=75/part-0.parquet
    ...
    root/manifest.json                               parameters, one entry per partition

By default the incidents are synthetic: the product's own generator
(:func:`data.synthetic.synthetic_incidents_for_departement`) on each département's real
communes, with one seed per département derived from the national seed and the département
code, so that any département can be regenerated alone and gives the same rows. The
manifest's :func:`data_version` changes whenever any partition changes: results computed
from the data set are kept under it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from core import model as m
from core.errors import DatasetStoreError, DelinquanceError
from core.settings import SETTINGS
from data.store import DatasetInfo, DatasetStore, checked_slug
from geo.communes import write_parquet_atomically, write_text_atomically

MANIFEST = "manifest.json"
GENERATOR = "synthetique-g8"
#: The planted hot spots of a partition (ground truth of the synthetic generator). The
#: leading underscore keeps Arrow and Dask from taking it for a data file of the partition.
HOTSPOTS = "_hotspots.json"
SLUG_PREFIX = "national-"


class NationalDataError(DelinquanceError):
    """The national data set is missing, incomplete or unreadable."""


@dataclass(frozen=True)
class GenerationSettings:
    """What a national generation depends on (recorded in the manifest).

    Parameters
    ----------
    years : tuple of int
        First and last year (inclusive).
    seed : int
        National seed; each département's is derived from it (:func:`departement_seed`).
    scale : float
        Multiplier of the calibrated yearly counts (1.0: the real volumes).
    today : str
        ISO date: no incident after it.
    """

    years: tuple[int, int]
    seed: int
    scale: float
    today: str

    def as_dict(self) -> dict:
        return {
            "years": list(self.years),
            "seed": self.seed,
            "scale": self.scale,
            "today": self.today,
            "generator": GENERATOR,
        }


def departement_seed(code: str, national_seed: int) -> int:
    """The seed of one département: a stable digest of the national seed and its code."""
    digest = hashlib.blake2b(f"{national_seed}:{code}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % (2**32)


def partition_path(root: Path, code: str) -> Path:
    """The file of one département's partition."""
    return Path(root) / "incidents" / f"departement={code}" / "part-0.parquet"


def read_manifest(root: Path) -> dict:
    """The manifest of the national data set at ``root`` (empty when there is none yet)."""
    path = Path(root) / MANIFEST
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NationalDataError(
            f"Manifeste du jeu national illisible ({path}) : supprimez-le et relancez la génération "
            "(les partitions déjà écrites seront vérifiées et gardées)."
        ) from exc


def _write_manifest(root: Path, manifest: dict) -> None:
    write_text_atomically(
        Path(root) / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True)
    )


def _file_digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_version(manifest: dict) -> str:
    """A digest of every partition's content and of the generation settings."""
    h = hashlib.blake2b(digest_size=12)
    h.update(json.dumps(manifest.get("settings", {}), sort_keys=True).encode())
    for code, entry in sorted(manifest.get("departements", {}).items()):
        h.update(f"{code}:{entry['sha']};".encode())
    return h.hexdigest()


def write_partition(root: Path, code: str, incidents: gpd.GeoDataFrame) -> dict:
    """Write one département's partition atomically; its manifest entry.

    Returns
    -------
    dict
        ``rows``, ``bytes``, ``sha`` (digest of the file).
    """
    path = partition_path(root, code)
    write_parquet_atomically(incidents, path)
    return {"rows": int(len(incidents)), "bytes": path.stat().st_size, "sha": _file_digest(path)}


def generate_national_dataset(
    root: Path,
    *,
    departements: Iterable[str] | None = None,
    years: tuple[int, int] = (2022, 2025),
    seed: int = 2024,
    scale: float = 1.0,
    today: dt.date | None = None,
    progress: Callable[[str, int, int, float], None] | None = None,
) -> dict:
    """Generate (or complete) the national synthetic data set at ``root``.

    A département whose partition is already there for the same settings, and whose file
    still has the recorded digest, is kept as it is: an interrupted generation goes on where
    it stopped.

    Parameters
    ----------
    root : Path
        Folder of the data set.
    departements : iterable of str, optional
        The départements (default: all 101).
    years, seed, scale, today
        See :class:`GenerationSettings` (``today`` defaults to the real today, and is never
        later than the last day of ``years``).
    progress : callable, optional
        Called after each département with (code, done, total, seconds it took).

    Returns
    -------
    dict
        The manifest (``settings``, ``departements``: code -> rows, bytes, sha, seconds).
    """
    from data.synthetic import synthetic_incidents_for_departement
    from geo.communes import communes_for_departement, departements_table

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    codes = list(departements) if departements is not None else departements_table()["code"].tolist()
    # No incident after today; a day after the last year changes nothing, so it is not recorded
    # (the data set, and the batch's results, stay valid from one day to the next).
    today = min(today or dt.date.today(), dt.date(int(years[1]), 12, 31))
    settings = GenerationSettings(tuple(years), int(seed), float(scale), today.isoformat())
    manifest = read_manifest(root)
    if manifest.get("settings") != settings.as_dict():
        manifest = {"settings": settings.as_dict(), "departements": {}}
    entries = manifest["departements"]
    for done, code in enumerate(codes, start=1):
        entry = entries.get(code)
        path = partition_path(root, code)
        if entry is not None and path.exists() and _file_digest(path) == entry["sha"]:
            if progress:
                progress(code, done, len(codes), 0.0)
            continue
        t0 = time.perf_counter()
        communes = communes_for_departement(code)
        data = synthetic_incidents_for_departement(
            communes,
            years=settings.years,
            seed=departement_seed(code, settings.seed),
            scale=settings.scale,
            today=dt.date.fromisoformat(settings.today),
        )
        entries[code] = {
            **write_partition(root, code, data.incidents),
            "seconds": round(time.perf_counter() - t0, 2),
        }
        write_text_atomically(
            partition_path(root, code).with_name(HOTSPOTS),
            data.hotspots_frame().to_json(orient="records", force_ascii=False, indent=1),
        )
        _write_manifest(root, manifest)
        if progress:
            progress(code, done, len(codes), time.perf_counter() - t0)
    manifest["version"] = data_version(manifest)
    _write_manifest(root, manifest)
    return manifest


def incidents_for_departement(root: Path, code: str) -> gpd.GeoDataFrame:
    """One département's incidents, read from its partition only.

    Raises
    ------
    NationalDataError
        The partition is missing (say which command creates it).
    """
    path = partition_path(root, code)
    if not path.exists():
        raise NationalDataError(
            f"Pas de partition pour le département {code} dans le jeu national ({root}) : "
            "lancez la génération (make national) ou choisissez un département généré."
        )
    return m.conform_incidents(gpd.read_parquet(path))


def national_departements(root: Path) -> list[str]:
    """The départements present in the data set (by the manifest)."""
    return sorted(read_manifest(root).get("departements", {}))


def _partition_info(code: str, entry: dict, settings: dict) -> DatasetInfo:
    years = settings.get("years") or ["?", "?"]
    return DatasetInfo(
        slug=slug_of_departement(code),
        name=f"{code} — jeu national",
        source_file="make national",
        imported_at=str(entry["sha"])[:16],
        n_rows=int(entry["rows"]),
        synthetic=True,
        departement=code,
        description=(
            f"Partition du jeu national synthétique ({years[0]}–{years[1]}, graine nationale "
            f"{settings.get('seed', '?')}, échelle {settings.get('scale', '?')}) : les mêmes "
            "faits que le calcul national."
        ),
    )


def slug_of_departement(code: str) -> str:
    """The slug under which a département's partition appears among the data sets."""
    return f"{SLUG_PREFIX}{code.lower()}"


class NationalStore(DatasetStore):
    """The national data set seen as a read-only store of data sets, one per partition.

    It lets a département's pages open their partition of the national data set like any
    saved data set (sidebar « Jeu de données »), reading that partition only. It cannot be
    saved to or deleted from: ``make national`` writes it. The users' evaluations of actions
    are kept in the workspace, like those of the embedded data set.

    Parameters
    ----------
    root : Path
        Folder of the national data set (default: the settings').
    notes_root : Path, optional
        Where evaluations are kept (default: the workspace's ``evaluations`` folder).
    """

    _filename = "part-0.parquet"

    def __init__(self, root: Path | None = None, notes_root: Path | None = None) -> None:
        super().__init__(
            Path(root) if root is not None else SETTINGS.national_data_dir,
            notes_root=notes_root if notes_root is not None else SETTINGS.workspace_dir / "evaluations",
        )

    def _code(self, slug: str) -> str:
        slug = checked_slug(slug)
        if not slug.startswith(SLUG_PREFIX):
            raise DatasetStoreError(f"« {slug} » n'est pas un département du jeu national.")
        return slug.removeprefix(SLUG_PREFIX).upper()

    def _entry(self, slug: str) -> tuple[str, dict]:
        code = self._code(slug)
        entry = read_manifest(self.root).get("departements", {}).get(code)
        if entry is None or not partition_path(self.root, code).exists():
            raise DatasetStoreError(
                f"Le jeu national n'a pas de partition pour le département {code} : lancez "
                f'make national ARGS="--departements {code}" ou choisissez un autre jeu.'
            )
        return code, entry

    def _version_dir(self, slug: str) -> Path:
        code, _entry = self._entry(slug)
        return partition_path(self.root, code).parent

    def info(self, slug: str) -> DatasetInfo:
        """The partition as a data set: synthetic, of one département, stamped by its digest."""
        code, entry = self._entry(slug)
        return _partition_info(code, entry, read_manifest(self.root).get("settings", {}))

    def planted_hotspots(self, slug: str) -> pd.DataFrame | None:
        """The planted hot spots written with the partition (None for an older partition)."""
        path = self._version_dir(slug) / HOTSPOTS
        if not path.exists():
            return None
        return pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))

    def list(self, departement: str | None = None) -> list[DatasetInfo]:
        """One data set per partition present (of ``departement`` only when given), by code.

        The manifest is read once: the sidebar asks on every run.
        """
        manifest = read_manifest(self.root)
        entries = manifest.get("departements", {})
        codes = [departement] if departement is not None else sorted(entries)
        return [
            _partition_info(code, entries[code], manifest.get("settings", {}))
            for code in codes
            if code in entries and partition_path(self.root, code).exists()
        ]

    def save(self, *args, **kwargs) -> DatasetInfo:  # noqa: D102 - read-only
        raise DatasetStoreError("Le jeu national ne se modifie pas ici : il se régénère avec make national.")

    def delete(self, slug: str) -> None:  # noqa: D102 - read-only
        raise DatasetStoreError(
            "Le jeu national ne se supprime pas ici : supprimez son dossier ou relancez make national."
        )


def national_store() -> NationalStore:
    """The national data set of the settings, as a read-only store."""
    return NationalStore()
