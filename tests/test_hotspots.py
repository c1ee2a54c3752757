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
from core.errors import CRSError


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


def test_hexagons_and_knn_weights_match_esda(synthetic53):
    from analysis.hotspots import (
        band_weights,
        counts_on_cells,
        gi_star_from_weights,
        hex_cells_for_territory,
        knn_weights,
    )

    g = synthetic53.incidents.to_crs(2154)
    area = shapely.box(412_000, 6_778_000, 426_000, 6_792_000)  # around Laval
    centres, polys = hex_cells_for_territory(area, 250.0)
    assert shapely.area(polys).sum() >= area.area  # the hexagons cover the square
    inside = area.contains(shapely.points(g.geometry.x, g.geometry.y))
    counts = counts_on_cells(g.geometry.x.to_numpy(), g.geometry.y.to_numpy(), centres, 250.0)
    assert counts.sum() >= inside.sum()  # every point of the square is counted (edge hexagons spill over)
    # The nearest-centre rule is the hexagon containment.
    pts = shapely.points(g.geometry.x.to_numpy()[inside][:200], g.geometry.y.to_numpy()[inside][:200])
    assert shapely.contains(polys[:, None], pts[None, :]).any(axis=0).all()
    from scipy.spatial import cKDTree

    d, _ = cKDTree(centres).query(centres, k=8)
    untied = d[:, 6] < d[:, 7] - 1e-6  # the 6th neighbour is unambiguous (border cells tie)
    for weights, ref_w, rows in (
        (
            band_weights(centres, 700.0),
            libpysal.weights.DistanceBand(centres, threshold=700.0, binary=True, silence_warnings=True),
            np.ones(len(centres), dtype=bool),
        ),
        (knn_weights(centres, 6), libpysal.weights.KNN(centres, k=6), untied),
    ):
        z = gi_star_from_weights(counts, weights)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = esda.G_Local(counts, ref_w, transform="B", star=True, permutations=0).Zs
        assert rows.mean() > 0.8
        assert_allclose(z[rows], ref[rows], atol=1e-9, rtol=0)


@pytest.mark.parametrize(("shape", "weights"), [("hex", "band"), ("hex", "knn"), ("square", "knn")])
def test_adapter_other_grids_and_weights(synthetic53, communes53, shape, weights):
    g = synthetic53.incidents.to_crs(2154)
    cells = gi_star_from_points(
        g, communes53.to_crs(2154), cell=300.0, band=900.0, shape=shape, weights=weights
    )
    assert cells["faits"].sum() == len(g)
    hot = cells[cells["classe"] == 3]
    laval = shapely.Point(419_500, 6_785_000)
    assert hot.distance(laval).min() < 2000  # the county town is hot whatever the grid


def test_fdr_below_a_level_gives_the_same_decisions():
    from analysis.fdr import fdr_from_pvalues

    rng = np.random.default_rng(9)
    p = np.concatenate([rng.uniform(0, 1, 5000), rng.uniform(0, 0.002, 300), [np.nan]])
    full, partial = fdr_from_pvalues(p), fdr_from_pvalues(p, below=0.10)
    for alpha in (0.01, 0.05, 0.10):
        np.testing.assert_array_equal(full <= alpha, partial <= alpha)
    small = full <= 0.10
    np.testing.assert_allclose(partial[small], full[small])
    assert np.isnan(partial[-1]) and (partial[np.isfinite(p) & (p > 0.10)] == 1.0).all()


@pytest.mark.parametrize("density", [0.001, 0.05, 0.6])
def test_neighbourhood_sums_are_ndimage_correlate_sparse_or_not(density):
    from scipy import ndimage

    from analysis.cell_scores import prospective_kernel
    from analysis.hotspots import band_kernel, neighbourhood_sums, sparse_correlate

    rng = np.random.default_rng(5)
    counts = (rng.random((120, 90)) < density) * rng.integers(1, 4, (120, 90)).astype(float)
    weighted = counts * rng.random((120, 90))
    asym = rng.random((5, 3))  # not symmetric: correlation, not convolution
    for raster, kernel in (
        (counts, band_kernel(100, 450)),
        (weighted, prospective_kernel(4)),
        (weighted, asym),
    ):
        ref = ndimage.correlate(raster, kernel, mode="constant", cval=0.0)
        np.testing.assert_allclose(sparse_correlate(raster, kernel), ref, atol=1e-9)
        np.testing.assert_allclose(neighbourhood_sums(raster, kernel), ref, atol=1e-9)
    # Counts and a binary band: the sums are the exact integers on both paths.
    ref = ndimage.correlate(counts, band_kernel(100, 450), mode="constant", cval=0.0)
    np.testing.assert_array_equal(neighbourhood_sums(counts, band_kernel(100, 450)), ref)


def test_counts_on_the_active_cells_are_the_raster_at_the_active_cells():
    from analysis.hotspots import active_counts, counts_on_grid, grid_for_territory

    rng = np.random.default_rng(6)
    territory = shapely.Point(5000, 5000).buffer(4000)
    grid = grid_for_territory(territory, 100.0)
    x, y = rng.uniform(-500, 10_500, (2, 20_000))  # some outside the grid, some on inactive cells
    w = rng.random(20_000)
    np.testing.assert_array_equal(active_counts(x, y, grid), counts_on_grid(x, y, grid)[grid.active])
    np.testing.assert_allclose(
        active_counts(x, y, grid, weights=w), counts_on_grid(x, y, grid, weights=w)[grid.active]
    )
    np.testing.assert_array_equal(
        grid.on_active(counts_on_grid(x, y, grid)), counts_on_grid(x, y, grid)[grid.active]
    )
    # Each point's position among the active cells: the active cell holding it, or -1.
    pos = grid.active_positions(x, y)
    iy_, ix_ = grid.cell_index(x, y)
    on_grid = (ix_ >= 0) & (ix_ < grid.nx) & (iy_ >= 0) & (iy_ < grid.ny)
    active = np.zeros(len(x), dtype=bool)
    active[on_grid] = grid.active[iy_[on_grid], ix_[on_grid]]
    assert (pos >= 0).tolist() == active.tolist() and 0 < active.sum() < len(x) and (~on_grid).any()
    gx, gy = grid.centres()
    np.testing.assert_array_less(np.abs(gx[pos[active]] - x[active]), 50 + 1e-9)
    np.testing.assert_array_less(np.abs(gy[pos[active]] - y[active]), 50 + 1e-9)
    cx, cy = grid.centres()
    iy, ix = np.nonzero(grid.active)
    np.testing.assert_array_equal(cx, grid.x0 + (ix + 0.5) * grid.cell)
    np.testing.assert_array_equal(cy, grid.y0 + (iy + 0.5) * grid.cell)
