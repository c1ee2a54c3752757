"""The content fingerprint behind the shared maps and charts (ui.shared_cache)."""

from __future__ import annotations

import gc

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ui import shared_cache
from ui.shared_cache import fingerprint


def _big_frame(seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    n = 300
    return gpd.GeoDataFrame(
        {"code": [f"53{i:03d}" for i in range(n)], "taux": rng.random(n)},
        geometry=shapely.points(rng.random(n), rng.random(n)),
        crs="EPSG:2154",
    )


def test_a_large_object_is_digested_once_and_equals_its_copy(monkeypatch):
    frame = _big_frame()
    calls = []
    original = shared_cache._feed_value

    def counted(h, obj):
        if obj is frame:
            calls.append(1)
        original(h, obj)

    monkeypatch.setattr(shared_cache, "_feed_value", counted)
    first = fingerprint(frame, "plan_ign")
    assert fingerprint(frame, "plan_ign") == first and len(calls) == 1  # the second time from memory
    assert fingerprint(frame.copy(), "plan_ign") == first  # another object, same content
    changed = frame.copy()
    changed.loc[0, "taux"] = 2.0
    assert fingerprint(changed, "plan_ign") != first
    moved = frame.copy()
    moved.geometry = moved.geometry.translate(1.0)
    assert fingerprint(moved, "plan_ign") != first


def test_the_memory_forgets_an_object_when_it_is_freed():
    frame = _big_frame(1)
    fingerprint(frame)
    key = id(frame)
    assert key in shared_cache._DIGESTS
    del frame
    gc.collect()
    assert key not in shared_cache._DIGESTS


def test_small_values_are_always_hashed_afresh():
    small = pd.DataFrame({"a": [1, 2]})
    before = len(shared_cache._DIGESTS)
    fingerprint(small)
    assert len(shared_cache._DIGESTS) == before
    small.loc[0, "a"] = 5  # a small frame changed in place is seen as changed
    assert fingerprint(small) != fingerprint(pd.DataFrame({"a": [1, 2]}))
