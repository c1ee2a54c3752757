"""Maps rendered once per content (ui.maps): same arguments as st_folium, keyed by content."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import streamlit_folium as sf

from analysis.diagnostic import class_breaks_from_values, classes_from_values, rates_by_commune
from core import model as m
from core.privacy import Audience, View
from geo.communes import display_geometry_from_communes
from rendering.maps import choropleth_from_rates, configure_offline_assets
from ui import maps
from ui.shared_cache import fingerprint

RANDOM_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def inputs(communes53):
    counts = ["53130"] * 50 + [communes53.loc[0, "code"]] * 9 + [communes53.loc[1, "code"]] * 3
    rates = rates_by_commune(pd.DataFrame({m.COMMUNE: counts}), communes53)
    breaks = class_breaks_from_values(rates["taux_pour_mille"].where(rates["faits"] > 0).to_numpy())
    classes = classes_from_values(rates["taux_pour_mille"].to_numpy(), breaks)
    return rates, breaks, classes, display_geometry_from_communes(communes53)


class Recorder:
    """Stands for the streamlit-folium component: keeps the arguments it is called with."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        return kwargs.get("default")


def _normalised(kwargs: dict) -> dict:
    out = {k: v for k, v in kwargs.items() if k != "on_change"}
    return {k: RANDOM_ID.sub("ID", v) if isinstance(v, str) else v for k, v in out.items()}


def test_payload_equals_what_st_folium_sends(inputs, monkeypatch):
    configure_offline_assets()
    rates, breaks, classes, geometry = inputs
    recorder = Recorder()
    monkeypatch.setattr(sf, "_component_func", recorder)
    args = dict(breaks=breaks, classes=classes, display_geometry=geometry, base="aucun")
    sf.st_folium(
        choropleth_from_rates(rates, **args),
        key="k",
        returned_objects=[],
        height=500,
        use_container_width=True,
    )
    maps.clear_payloads()
    maps.show_map("k", choropleth_from_rates, rates, **args, height=500)
    theirs, ours = (_normalised(c) for c in recorder.calls)
    assert theirs.keys() == ours.keys()
    assert len(ours["script"]) > 10_000  # the communes are in it
    for name in theirs:
        assert ours[name] == theirs[name], name


def test_same_content_is_built_once_and_shared(inputs, monkeypatch):
    rates, breaks, classes, geometry = inputs
    monkeypatch.setattr(sf, "_component_func", Recorder())
    built = []

    def build(*args, **kwargs):
        built.append(1)
        return choropleth_from_rates(*args, **kwargs)

    maps.clear_payloads()
    args = dict(breaks=breaks, classes=classes, display_geometry=geometry, base="aucun")
    first = maps.cached_payload(build, rates, **args)
    again = maps.cached_payload(build, rates.copy(), **args)  # another object, same content
    assert again is first and len(built) == 1
    changed = rates.copy()
    changed.loc[changed.index[0], "faits"] += 1  # one count differs: another map
    other = maps.cached_payload(build, changed, **args)
    assert other is not first and len(built) == 2
    hidden = maps.cached_payload(build, rates, **{**args, "hide_secret": False})
    assert hidden is not first and len(built) == 3


def test_fingerprint_covers_values_types_and_geometry(inputs):
    rates, _, _, geometry = inputs
    base = fingerprint(rates, geometry, "plan_ign", 3)
    assert base == fingerprint(rates.copy(), geometry.copy(), "plan_ign", 3)
    assert base != fingerprint(rates, geometry, "plan_ign", 3.0)  # int and float differ
    assert base != fingerprint(rates, geometry, "aucun", 3)
    moved = geometry.copy()
    moved.iloc[5] = moved.iloc[5].buffer(0.001)
    assert base != fingerprint(rates, moved, "plan_ign", 3)
    nan_rate = rates.copy()
    nan_rate["taux_pour_mille"] = nan_rate["taux_pour_mille"].where(nan_rate["faits"] > 3)
    assert base != fingerprint(nan_rate, geometry, "plan_ign", 3)
    renamed = rates.rename(columns={"faits": "faits_"})
    assert base != fingerprint(renamed, geometry, "plan_ign", 3)
    assert fingerprint(Audience(View.PUBLISHED)) != fingerprint(Audience(View.INTERNAL))
    assert fingerprint(np.arange(3)) != fingerprint(np.arange(3).astype(float))
    with pytest.raises(TypeError, match="non prise en charge"):
        fingerprint(object())


def test_cache_stays_within_its_budget(inputs, monkeypatch):
    rates, breaks, classes, geometry = inputs
    maps.clear_payloads()
    first = maps.cached_payload(
        choropleth_from_rates, rates, breaks=breaks, classes=classes, display_geometry=geometry, base="aucun"
    )
    monkeypatch.setattr(maps.PAYLOADS, "budget_bytes", first.nbytes + 1)
    maps.cached_payload(
        choropleth_from_rates,
        rates,
        breaks=breaks,
        classes=classes,
        display_geometry=geometry,
        base="plan_ign",
    )
    assert len(maps.PAYLOADS) == 1  # the older map made room
    assert (
        maps.cached_payload(
            choropleth_from_rates,
            rates,
            breaks=breaks,
            classes=classes,
            display_geometry=geometry,
            base="aucun",
        )
        is not first
    )
