import numpy as np
import pytest
import shapely
from sklearn.neighbors import KernelDensity

from analysis.density import default_bandwidth, density_on_grid
from analysis.hotspots import grid_for_territory


@pytest.mark.parametrize(
    ("bandwidth", "cell"), [(150.0, 100.0), (300.0, 100.0), (80.0, 50.0), (400.0, 50.0), (900.0, 100.0)]
)
def test_matches_sklearn_within_one_percent(bandwidth, cell):
    rng = np.random.default_rng(1)
    pts = np.vstack([rng.normal(0, 800, (3000, 2)), rng.normal((1500, -500), 150, (800, 2))])
    grid = grid_for_territory(shapely.box(-3000, -3000, 3000, 3000), cell)
    d = density_on_grid(pts[:, 0], pts[:, 1], grid, bandwidth=bandwidth)[grid.active]
    x, y = grid.centres()
    ref = np.exp(KernelDensity(bandwidth=bandwidth).fit(pts).score_samples(np.column_stack([x, y])))
    m = ref > 0.01 * ref.max()
    assert np.max(np.abs(d[m] - ref[m]) / ref[m]) < 0.01


def test_integrates_to_one_and_is_zero_outside_territory():
    rng = np.random.default_rng(2)
    pts = rng.normal(0, 300, (2000, 2))
    tri = shapely.Polygon([(-3000, -3000), (3000, -3000), (-3000, 3000)])
    grid = grid_for_territory(shapely.box(-3000, -3000, 3000, 3000), 50.0)
    d = density_on_grid(pts[:, 0], pts[:, 1], grid, bandwidth=100.0)
    assert d.sum() * 50.0**2 == pytest.approx(1.0, rel=1e-3)
    grid_tri = grid_for_territory(tri, 50.0)
    d_tri = density_on_grid(pts[:, 0], pts[:, 1], grid_tri, bandwidth=100.0)
    assert (d_tri[~grid_tri.active] == 0).all()


def test_default_bandwidth_rule():
    rng = np.random.default_rng(3)
    x, y = rng.normal(0, 1000, 10_000), rng.normal(0, 1000, 10_000)
    sd = np.sqrt(((x - x.mean()) ** 2 + (y - y.mean()) ** 2).mean())
    dm = np.median(np.hypot(x - x.mean(), y - y.mean()))
    assert default_bandwidth(x, y) == pytest.approx(0.9 * min(sd, np.sqrt(1 / np.log(2)) * dm) * 10_000**-0.2)
    with pytest.raises(ValueError, match="largeur de bande"):
        density_on_grid(x, y, grid_for_territory(shapely.box(0, 0, 10, 10), 1.0), bandwidth=0)
