"""Shared fixtures: real communes (Mayenne), small seeded synthetic data, temporary stores."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pytest

from data.synthetic import SyntheticDataset, synthetic_incidents_for_departement
from geo.communes import communes_for_departement

TODAY = dt.date(2026, 11, 21)


@pytest.fixture(scope="session")
def communes53() -> gpd.GeoDataFrame:
    return communes_for_departement("53")


@pytest.fixture(scope="session")
def keys53(communes53: gpd.GeoDataFrame):
    """EPCI and canton of each Mayenne commune (as the app computes them)."""
    from geo.communes import cantons_for_departement
    from geo.organisation import area_keys_from_communes

    return area_keys_from_communes(communes53, cantons_for_departement("53"))


@pytest.fixture(scope="session")
def synthetic53(communes53: gpd.GeoDataFrame) -> SyntheticDataset:
    return synthetic_incidents_for_departement(communes53, years=(2022, 2025), seed=7, today=TODAY)


@pytest.fixture(scope="session")
def small53(communes53: gpd.GeoDataFrame) -> SyntheticDataset:
    return synthetic_incidents_for_departement(
        communes53, years=(2024, 2024), seed=11, scale=0.1, n_hotspots=2, today=TODAY
    )


@pytest.fixture(scope="session")
def national_template(tmp_path_factory):
    """A small national data set and its results, built once (copy it before changing it)."""
    from tests.tooling import build_national_workspace

    return build_national_workspace(tmp_path_factory.mktemp("national"))
