"""Maps rendered once per content: the folium maps of ui.maps (same arguments as st_folium) and
the commune choropleths of ui.layer_map, keyed by content."""

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
from rendering.maps import add_commune_outlines, base_map, choropleth_from_rates, configure_offline_assets
from ui import layer_map, maps
from ui.shared_cache import fingerprint

RANDOM_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def inputs(communes53):
    counts = ["53130"] * 50 + [communes53.loc[0, "code"]] * 9 + [communes53.loc[1, "code"]] * 3
    rates = rates_by_commune(pd.DataFrame({m.COMMUNE: counts}), communes53)
    breaks = class_breaks_from_values(rates["taux_pour_mille"].where(rates["faits"] > 0).to_numpy())
    classes = classes_from_values(rates["taux_pour_mille"].to_numpy(), breaks)
    return rates, breaks, classes, display_geometry_from_communes(communes53)


def outlines_map(geometry, *, base: str, colour: str = "#777777"):
    """A folium map of the communes' outlines (the zones and sites maps start so)."""
    fmap = base_map(geometry.total_bounds, base=base)
    add_commune_outlines(fmap, geometry)
    return fmap


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
    sf.st_folium(
        outlines_map(geometry, base="aucun"),
        key="k",
        returned_objects=[],
        height=500,
        use_container_width=True,
    )
    maps.clear_payloads()
    maps.show_map("k", outlines_map, geometry, base="aucun", height=500)
    theirs, ours = (_normalised(c) for c in recorder.calls)
    assert theirs.keys() == ours.keys()
    assert len(ours["script"]) > 10_000  # the communes are in it
    for name in theirs:
        assert ours[name] == theirs[name], name


def test_same_folium_content_is_built_once_and_shared(inputs):
    geometry = inputs[3]
    built = []

    def build(*args, **kwargs):
        built.append(1)
        return outlines_map(*args, **kwargs)

    maps.clear_payloads()
    first = maps.cached_payload(build, geometry, base="aucun")
    again = maps.cached_payload(build, geometry.copy(), base="aucun")  # another object, same content
    assert again is first and len(built) == 1
    moved = geometry.copy()
    moved.iloc[0] = moved.iloc[0].buffer(0.001)
    assert maps.cached_payload(build, moved, base="aucun") is not first and len(built) == 2


def test_same_choropleth_is_built_once_and_shared(inputs):
    rates, breaks, classes, geometry = inputs
    built = []

    def build(*args, **kwargs):
        built.append(1)
        return choropleth_from_rates(*args, **kwargs)

    layer_map.clear_rendered()
    args = dict(breaks=breaks, classes=classes, display_geometry=geometry, base="aucun")
    first = layer_map.cached_layer_map(build, rates, **args)
    again = layer_map.cached_layer_map(build, rates.copy(), **args)  # another object, same content
    assert again is first and len(built) == 1
    changed = rates.copy()
    changed.loc[changed.index[0], "faits"] += 1  # one count differs: another map
    other = layer_map.cached_layer_map(build, changed, **args)
    assert other is not first and len(built) == 2
    assert other.geometries == first.geometries  # the same outlines, under the same key
    hidden = layer_map.cached_layer_map(build, rates, **{**args, "hide_secret": False})
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
    layer_map.clear_rendered()
    args = dict(breaks=breaks, classes=classes, display_geometry=geometry)
    first = layer_map.cached_layer_map(choropleth_from_rates, rates, **args, base="aucun")
    monkeypatch.setattr(layer_map.RENDERED, "budget_bytes", first.nbytes + 1)
    layer_map.cached_layer_map(choropleth_from_rates, rates, **args, base="plan_ign")
    assert len(layer_map.RENDERED) == 1  # the older map made room
    assert layer_map.cached_layer_map(choropleth_from_rates, rates, **args, base="aucun") is not first
