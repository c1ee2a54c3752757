import warnings

import esda  # noqa: E402
import libpysal  # noqa: E402
import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose

from analysis.hotspots import (
    TooFewIncidentsError,
    band_kernel,
    counts_on_grid,
    fdr_bins,
    gi_star_from_points,
    gi_star_from_raster,
    grid_for_territory,
)
from errors import CRSError


def _esda_z(grid, counts, band, transform):
    x, y = grid.centres()
    w = libpysal.weights.DistanceBand(
        np.column_stack([x, y]), threshold=band, binary=True, silence_warnings=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(counts[grid.active], w, transform=transform, star=True, permutations=0).Zs


@pytest.mark.parametrize(
    ("cell", "band", "transform"), [(500.0, 1200.0, "B"), (300.0, 1000.0, "R"), (250.0, 400.0, "B")]
)
def test_gi_star_identical_to_esda(synthetic53, communes53, cell, band, transform):
    g = synthetic53.incidents.to_crs(2154)
    area = shapely.union_all(communes53.to_crs(2154).geometry.to_numpy())
    grid = grid_for_territory(area, cell)
    counts = counts_on_grid(g.geometry.x.to_numpy(), g.geometry.y.to_numpy(), grid)
    z = gi_star_from_raster(counts, grid.active, band_kernel(cell, band), transform=transform)
    assert_allclose(z, _esda_z(grid, counts, band, transform), atol=1e-9, rtol=0)


def test_grid_limited_to_territory():
    tri = shapely.Polygon([(0, 0), (1000, 0), (0, 1000)])
    grid = grid_for_territory(tri, 100.0)
    assert grid.active.shape == (10, 10)
    assert 50 < grid.active.sum() < 70  # about half the square
    assert counts_on_grid(np.array([50.0, 50.0, 5000.0]), np.array([50.0, 60.0, 0.0]), grid)[0, 0] == 2


def test_fdr_is_stricter_than_raw_and_signed():
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(size=2000), [5.0, -4.6]])
    raw, fdr = fdr_bins(z, fdr=False), fdr_bins(z, fdr=True)
    assert (np.abs(fdr) <= np.abs(raw)).all()
    assert (raw != 0).sum() > 150  # ~10 % false positives without correction
    assert fdr[-2] == 3 and fdr[-1] == -3
    assert (fdr[:-2] != 0).sum() < 10


def test_planted_hotspots_are_found(synthetic53, communes53):
    g = synthetic53.incidents.to_crs(2154)
    cells = gi_star_from_points(g, communes53.to_crs(2154), cell=200.0, band=600.0)
    hot = cells[cells["classe"] == 3]
    found = 0
    for hs in synthetic53.hotspots:
        if hot.distance(shapely.Point(hs.x, hs.y)).min() <= hs.radius_m + 200:
            found += 1
    assert found >= 5


def test_guards(communes53, small53):
    with pytest.raises(CRSError):
        gi_star_from_points(small53.incidents, communes53)
    few = small53.incidents.to_crs(2154).iloc[:10]
    with pytest.raises(TooFewIncidentsError, match="au moins 30"):
        gi_star_from_points(few, communes53.to_crs(2154))
