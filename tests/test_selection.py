"""The sidebar's selection value and the store decisions that hang on it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import pytest

from core.model import IncidentFilter
from tests.tooling import isolated_settings
from usecases.selection import Selection, datasets_for_departement, store_for


@pytest.fixture
def workspace(tmp_path, monkeypatch, small53):
    """An isolated workspace holding one generated and two imported data sets of the Mayenne."""
    import data.locations
    import data.store

    isolated_settings(monkeypatch, workspace_dir=tmp_path / "ws")
    generated = data.store.DatasetStore(tmp_path / "generes")
    monkeypatch.setattr(data.locations, "default_store", lambda: generated)
    inc = small53.incidents
    truth = {"hotspots.json": small53.hotspots_frame().to_json(orient="records").encode()}
    generated.save(inc, name="Démo", source_file="gen", departement="53", synthetic=True, extra_files=truth)
    ws = store_for("espace")
    old = ws.save(inc.head(50), name="Ancien export", source_file="a.csv", departement="53")
    time.sleep(1.1)  # versions are stamped to the second
    # An imported file carrying a hotspots.json is still real data: no planted truth applies.
    new = ws.save(
        inc.head(80), name="Nouvel export", source_file="b.csv", departement="53", extra_files=truth
    )
    ws.save(inc.head(10), name="Autre département", source_file="c.csv", departement="72")
    return old, new


def test_a_selection_is_a_key_that_changes_with_each_part():
    flt = IncidentFilter(start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31))
    sel = Selection("espace", "export", "2025-04-01T10:00:00", "53", flt)
    assert hash(sel) == hash(dataclasses.replace(sel)) and sel == dataclasses.replace(sel)
    for change in ({"stamp": "2025-04-02"}, {"departement": "72"}, {"kind": "defaut"}, {"slug": "x"}):
        assert dataclasses.replace(sel, **change) != sel, change
    assert sel.undated().flt == flt.undated() and sel.undated().dataset_key == sel.dataset_key
    assert sel.with_filter(IncidentFilter()) != sel
    with pytest.raises(ValueError, match="unknown store kind"):
        store_for("ailleurs")


def test_a_departement_offers_its_own_data_sets_generated_first(workspace):
    found = datasets_for_departement("53")
    assert [k for k, _ in found] == ["defaut", "espace", "espace"]
    assert {i.name for _, i in found} == {"Démo", "Ancien export", "Nouvel export"}
    assert [i.name for _, i in datasets_for_departement("72")] == ["Autre département"]


def test_the_mayor_sees_the_newest_imported_file_not_the_demonstration(workspace):
    from usecases.ma_commune import dataset_for_mayor

    _old, new = workspace
    sel, info = dataset_for_mayor("53")
    assert (sel.kind, sel.slug, sel.stamp, info.name) == (
        "espace",
        new.slug,
        new.imported_at,
        "Nouvel export",
    )
    assert dataset_for_mayor("2A") is None


def test_planted_truth_only_for_a_synthetic_data_set(workspace):
    from usecases.zones import planted_truth

    _old, new = workspace
    assert planted_truth(Selection.of("espace", new, "53")) is None
    demo = next(i for k, i in datasets_for_departement("53") if k == "defaut")
    truth = planted_truth(Selection.of("defaut", demo, "53"))
    assert truth is not None and len(truth) == 2  # small53 plants two hot spots
