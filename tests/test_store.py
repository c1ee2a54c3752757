import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from core import model as m
from core.errors import DatasetStoreError
from data.default_dataset import ensure_default_dataset
from data.store import DatasetStore, slug_from_name

ROOT = Path(__file__).resolve().parents[1]


def test_roundtrip_list_delete(tmp_path, small53):
    store = DatasetStore(tmp_path)
    rej = pd.DataFrame(
        {"ligne": [3, 3, 7], "champ": ["a", "b", "c"], "motif": ["x", "y", "z"], "valeur": ["", "", ""]}
    )
    info = store.save(
        small53.incidents, name="Export BTA été", source_file="bta.csv", rejections=rej, departement="53"
    )
    assert info.slug == "export-bta-ete"
    assert info.n_rows == len(small53.incidents)
    assert info.n_rejected == 2
    loaded = store.load(info.slug)
    pd.testing.assert_frame_equal(
        loaded.drop(columns="geometry"), m.conform_incidents(small53.incidents).drop(columns="geometry")
    )
    assert loaded.geometry.geom_equals_exact(small53.incidents.geometry.reset_index(drop=True), 1e-9).all()
    assert [i.slug for i in store.list()] == [info.slug]
    assert len(store.rejections(info.slug)) == 3
    store.delete(info.slug)
    assert store.list() == []
    with pytest.raises(DatasetStoreError, match="introuvable"):
        store.load(info.slug)


def test_replace_keeps_only_current_version(tmp_path, small53):
    store = DatasetStore(tmp_path)
    store.save(small53.incidents, name="jeu", source_file="a.csv")
    store.save(small53.incidents.iloc[:10], name="jeu", source_file="b.csv", slug="jeu", replace=True)
    assert store.info("jeu").n_rows == 10
    versions = [p for p in (tmp_path / "jeu").iterdir() if p.is_dir()]
    assert len(versions) == 1


def test_slug():
    assert slug_from_name("Délits — Laval 2024 !") == "delits-laval-2024"
    assert slug_from_name("***") == "jeu"
    assert slug_from_name("Αθήνα") == "athina" and slug_from_name("Москва") == "moskva"
    assert slug_from_name("東京") != "jeu"


def test_names_sharing_a_folder_never_replace_each_other(tmp_path, small53):
    store = DatasetStore(tmp_path)
    names = ["Faits 2024", "faits_2024", "Café", "Cafe", "Αθήνα", "Athina", "東京", "Москва", "jeu", "***"]
    part = small53.incidents.iloc[:3]
    infos = [store.save(part, name=n, source_file=f"{i}.csv") for i, n in enumerate(names)]
    assert len({i.slug for i in infos}) == len(names)  # one folder each, readable ASCII
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]*", i.slug) for i in infos)
    assert sorted(i.name for i in store.list()) == sorted(names)
    with pytest.raises(DatasetStoreError, match="existe déjà"):
        store.save(part, name="x", source_file="x.csv", slug=infos[0].slug)


# Every hostile name points inside this test's own folder: should the check ever regress, the
# damage stays in tmp_path (an absolute path such as "/etc" would make a regressed store delete
# that system folder: never put one here).
@pytest.mark.parametrize("slug", ["..", ".", "../keep", "a/b", "", "A", "-x", "x" * 81, "<absolute>"])
def test_only_the_stores_own_folder_names(tmp_path, small53, slug):
    store = DatasetStore(tmp_path / "store" / "root")
    (tmp_path / "keep").mkdir()
    slug = str(tmp_path / "keep") if slug == "<absolute>" else slug
    for call in (store.delete, store.load, store.info):
        with pytest.raises(DatasetStoreError, match="invalide"):
            call(slug)
    with pytest.raises(DatasetStoreError, match="invalide"):
        store.save(small53.incidents.iloc[:3], name="x", source_file="x.csv", slug=slug, replace=True)
    assert (tmp_path / "keep").exists()


def test_concurrent_saves_of_one_data_set(tmp_path, small53):
    from concurrent.futures import ThreadPoolExecutor

    store = DatasetStore(tmp_path)
    part = small53.incidents.iloc[:50]
    with ThreadPoolExecutor(8) as pool:
        futures = [
            pool.submit(store.save, part, name="jeu", source_file=f"{i}.csv", slug="jeu", replace=True)
            for i in range(40)
        ]
        errors = [f.exception() for f in futures if f.exception() is not None]
    assert errors == []
    assert len(store.load("jeu")) == 50
    assert len([p for p in (tmp_path / "jeu").iterdir() if p.is_dir()]) == 1


WRITER = textwrap.dedent(
    """
    import os, sys, time
    sys.path.insert(0, {root!r})
    from data.synthetic import synthetic_incidents_for_departement
    from data.store import DatasetStore
    from geo.communes import communes_for_departement
    import data.store as st
    c = communes_for_departement("53")
    ds = synthetic_incidents_for_departement(c, years=(2024, 2024), seed=5, scale=0.2)
    real_replace = os.replace
    def hang(src, dst):
        print("COMMITTING", flush=True)
        time.sleep(600)
    st.os.replace = hang  # the writer is killed right before its commit point
    st.os.rename = (lambda f: (lambda a, b: (f(a, b), print("RENAMED", flush=True))))(os.rename)
    DatasetStore({store!r}).save(ds.incidents, name="jeu", source_file="new.csv", slug="jeu", replace=True)
    """
)


def test_killed_writer_leaves_previous_dataset_intact(tmp_path, small53):
    store = DatasetStore(tmp_path / "store")
    before = store.save(small53.incidents, name="jeu", source_file="old.csv")
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(root=str(ROOT), store=str(tmp_path / "store")))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        lines = []
        while time.time() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "COMMITTING" in line:
                break
        assert any("COMMITTING" in x for x in lines), lines
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    # The new version was fully written then the writer died: the old one is still current.
    info = store.info("jeu")
    assert info.source_file == "old.csv"
    assert info.imported_at == before.imported_at
    assert len(store.load("jeu")) == len(small53.incidents)
    # A later save cleans the orphan version.
    store.save(small53.incidents.iloc[:5], name="jeu", source_file="again.csv", slug="jeu", replace=True)
    assert len([p for p in (tmp_path / "store" / "jeu").iterdir() if p.is_dir()]) == 1


def test_killed_writer_midway_through_parquet(tmp_path, small53):
    store = DatasetStore(tmp_path / "store")
    store.save(small53.incidents, name="jeu", source_file="old.csv")
    script = tmp_path / "writer2.py"
    script.write_text(
        WRITER.format(root=str(ROOT), store=str(tmp_path / "store")).replace(
            "st.os.replace = hang",
            "import geopandas as gpd\n"
            "def half(self, path, **kw):\n"
            '    open(path, "wb").write(b"PAR1" + b"x" * 1000)\n'
            '    print("COMMITTING", flush=True); time.sleep(600)\n'
            "gpd.GeoDataFrame.to_parquet = half",
        )
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            if "COMMITTING" in proc.stdout.readline():
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert store.info("jeu").source_file == "old.csv"
    assert len(store.load("jeu")) == len(small53.incidents)


def test_corrupt_dataset_message(tmp_path, small53):
    store = DatasetStore(tmp_path)
    store.save(small53.incidents, name="jeu", source_file="a.csv")
    store.extra_path("jeu", "incidents.parquet").write_bytes(b"garbage")
    with pytest.raises(DatasetStoreError, match="illisible"):
        store.load("jeu")


def test_default_dataset_built_with_truth(tmp_path):
    store = DatasetStore(tmp_path)
    info = ensure_default_dataset(store=store)
    assert info.synthetic and info.departement == "53"
    truth = json.loads(store.extra_path(info.slug, "hotspots.json").read_text())
    assert len(truth) == 6 and {"x", "y", "radius_m", "offences", "start", "end"} <= set(truth[0])
    again = ensure_default_dataset(store=store)
    assert again.imported_at == info.imported_at  # not rebuilt when up to date


def test_evaluations_are_kept_across_versions_and_deleted_with_the_set(tmp_path, small53):
    store = DatasetStore(tmp_path)
    info = store.save(small53.incidents, name="jeu", source_file="a.csv", departement="53")
    assert store.evaluations(info.slug) == []
    store.save_evaluation(info.slug, {"id": "a1", "cible": "zone 1 <b>"})
    store.save_evaluation(info.slug, {"id": "b2", "cible": "commune"})
    store.save_evaluation(info.slug, {"id": "a1", "cible": "zone 1 (révisée)"})  # same id: replaced
    assert [r["cible"] for r in store.evaluations(info.slug)] == ["commune", "zone 1 (révisée)"]
    # A new version of the data set (an append, a replacement) keeps them.
    store.save(
        small53.incidents, name="jeu", source_file="b.csv", slug=info.slug, replace=True, departement="53"
    )
    assert len(store.evaluations(info.slug)) == 2
    store.delete_evaluation(info.slug, "b2")
    assert [r["id"] for r in store.evaluations(info.slug)] == ["a1"]
    assert not [p for p in (tmp_path / info.slug).iterdir() if p.name.startswith(".evaluations")]
    store.delete(info.slug)
    with pytest.raises(DatasetStoreError, match="introuvable"):
        store.evaluations(info.slug)
    with pytest.raises(DatasetStoreError):
        store.save_evaluation("../x", {"id": "z"})


def test_evaluations_of_a_cache_store_live_in_the_notes_root(tmp_path, small53):
    store = DatasetStore(tmp_path / "cache", notes_root=tmp_path / "workspace" / "evaluations")
    info = store.save(small53.incidents, name="défaut", source_file="g", departement="53")
    store.save_evaluation(info.slug, {"id": "a"})
    assert (tmp_path / "workspace" / "evaluations" / info.slug / "evaluations.json").exists()
    assert not (tmp_path / "cache" / info.slug / "evaluations.json").exists()
    store.delete(info.slug)
    assert not (tmp_path / "workspace" / "evaluations" / info.slug).exists()
