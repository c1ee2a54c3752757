"""Grid statistics: counts on a square grid and Getis-Ord Gi* hot spots with FDR.

NumPy core on a raster of cells (metres): counts, a binary distance band evaluated as a
convolution (no n x n matrix, no neighbour list), Gi* with analytical z-scores following
esda's ``G_Local`` formulas exactly, and Benjamini-Hochberg false-discovery-rate bins at
90/95/99 % confidence. A GeoDataFrame adapter on top.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import geopandas as gpd
import numpy as np
import shapely
from scipy import ndimage, stats

from analysis.fdr import fdr_from_pvalues
from core.crs import require_metric
from core.errors import DelinquanceError, ParameterError
from core.model import has_position

T = TypeVar("T")

CONFIDENCES = (0.90, 0.95, 0.99)
MIN_INCIDENTS = 30  # as ArcGIS Optimized Hot Spot Analysis


class TooFewIncidentsError(DelinquanceError):
    """Not enough incidents for a statistically meaningful analysis."""


@dataclass
class Grid:
    """A square grid in metres: origin, cell size, shape, and the active cells."""

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    active: np.ndarray  # (ny, nx) bool: cells kept (inside the territory)
    # Derived from ``active`` once (a back-test reads them thousands of times): the flat
    # indices of the active cells, their centres and every cell's position among them (-1:
    # inactive), with the mask they were computed on.
    _derived: tuple | None = dataclasses.field(default=None, repr=False, compare=False)

    def _cache(self) -> tuple:
        if self._derived is None or self._derived[0] is not self.active:
            index = np.flatnonzero(self.active)
            iy, ix = np.divmod(index, self.nx)
            centres = (self.x0 + (ix + 0.5) * self.cell, self.y0 + (iy + 0.5) * self.cell)
            table = np.full(self.nx * self.ny, -1, dtype=np.int32 if len(index) < 2**31 else np.int64)
            table[index] = np.arange(len(index))
            for a in (index, *centres, table):
                a.flags.writeable = False
            self._derived = (self.active, index, centres, table)
        return self._derived

    @property
    def active_index(self) -> np.ndarray:
        """Flat (row-major) indices of the active cells (read-only)."""
        return self._cache()[1]

    def active_positions(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The position of each point's cell among the active cells (as :meth:`centres`),
        -1 for a point outside them.

        Read from a table of every cell's position (4 bytes a cell, made once per grid): a
        binary search of each point among the active cells was a tenth of a zone analysis.
        """
        iy, ix = self.cell_index(x, y)
        ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        flat = np.where(ok, iy * self.nx + ix, 0)
        return np.where(ok, self._cache()[3][flat], -1)

    def on_active(self, raster: np.ndarray) -> np.ndarray:
        """The values of a (ny, nx) raster at the active cells (flat, as :meth:`centres`):
        ``raster[grid.active]``, by index."""
        return np.asarray(raster).reshape(-1)[self.active_index]

    def cell_index(
        self, x: np.ndarray, y: np.ndarray, *, clip: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row and column (iy, ix) of the cell holding each point (metres, the grid's CRS).

        Points outside the grid get indices outside ``[0, ny)`` x ``[0, nx)``, or the nearest
        border cell with ``clip``.
        """
        ix = np.floor((np.asarray(x, dtype=float) - self.x0) / self.cell).astype(np.int64)
        iy = np.floor((np.asarray(y, dtype=float) - self.y0) / self.cell).astype(np.int64)
        if clip:
            ix, iy = np.clip(ix, 0, self.nx - 1), np.clip(iy, 0, self.ny - 1)
        return iy, ix

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Centres (x, y) of the active cells, in row-major order (read-only arrays)."""
        return self._cache()[2]

    def polygons(self) -> np.ndarray:
        """Square polygons of the active cells (same order as :meth:`centres`)."""
        x, y = self.centres()
        h = self.cell / 2
        return shapely.box(x - h, y - h, x + h, y + h)


_GRIDS: dict[tuple[bytes, float], Grid] = {}
_GRIDS_KEPT = 4
_UNIONS: dict[bytes, shapely.Geometry] = {}


def _remembered(store: dict, key: object, make: Callable[[], T]) -> T:
    """``store[key]``, made by ``make()`` when missing; the oldest of :data:`_GRIDS_KEPT`
    entries goes first (two threads may both make it: the same value)."""
    found = store.get(key)
    if found is None:
        found = make()
        while len(store) >= _GRIDS_KEPT:
            store.pop(next(iter(store)), None)
        store[key] = found
    return found


def territory_union(geometries: np.ndarray | gpd.GeoSeries) -> shapely.Geometry:
    """The union of a territory's communes, remembered by their WKB digest.

    A page asks for the same territory on every selection (the Nord's 647 communes: 0.07 s to
    merge, 2 ms to digest); a few territories are kept. Shapely geometries are immutable: the
    same object is returned to every caller.

    Parameters
    ----------
    geometries : array of shapely geometries or GeoSeries
        The communes (any CRS: the union is in theirs).
    """
    geoms = np.asarray(geometries.to_numpy() if hasattr(geometries, "to_numpy") else geometries, dtype=object)
    key = hashlib.sha1(b"".join(shapely.to_wkb(geoms))).digest()
    return _remembered(_UNIONS, key, lambda: shapely.union_all(geoms))


def grid_for_territory(territory: shapely.Geometry, cell: float) -> Grid:
    """Square grid covering a territory; cells whose square touches it are active.

    The last few grids are remembered (by the territory's WKB digest and the cell): a
    back-test asks for the same grid for every method of every window. Each call returns
    its own copy of the ``active`` mask.

    Parameters
    ----------
    territory : shapely geometry
        Territory in a metric CRS.
    cell : float
        Cell size in metres.
    """
    if cell <= 0:
        raise ParameterError("La taille de maille doit être positive (en mètres).")
    key = (hashlib.sha1(shapely.to_wkb(territory)).digest(), float(cell))
    g = _remembered(_GRIDS, key, lambda: _grid_for_territory(territory, float(cell)))
    out = dataclasses.replace(g, active=g.active.copy())
    out._derived = (out.active, *g._cache()[1:])  # made once, shared by the copies
    return out


def _grid_for_territory(territory: shapely.Geometry, cell: float) -> Grid:
    minx, miny, maxx, maxy = territory.bounds
    nx = int(np.ceil((maxx - minx) / cell)) or 1
    ny = int(np.ceil((maxy - miny) / cell)) or 1
    g = Grid(minx, miny, cell, nx, ny, np.ones((ny, nx), dtype=bool))
    shapely.prepare(territory)
    x, y = g.centres()
    inside = shapely.contains_xy(territory, x, y).reshape(ny, nx)
    # Cells whose centre is outside may still touch the territory: test only the ring of
    # cells around the inside ones (a box test on every cell would cost O(cells)).
    ring = ndimage.binary_dilation(inside, structure=np.ones((3, 3)), iterations=1) & ~inside
    if not inside.any():
        ring = np.ones_like(inside)
    ry, rx = np.nonzero(ring)
    boxes = shapely.box(minx + rx * cell, miny + ry * cell, minx + (rx + 1) * cell, miny + (ry + 1) * cell)
    inside[ry, rx] = shapely.intersects(territory, boxes)
    g.active = inside
    return g


def counts_on_grid(
    x: np.ndarray, y: np.ndarray, grid: Grid, *, weights: np.ndarray | None = None
) -> np.ndarray:
    """Points (or their ``weights``) per cell as a (ny, nx) raster (points outside the grid
    are ignored)."""
    iy, ix = grid.cell_index(x, y)
    ok = (ix >= 0) & (ix < grid.nx) & (iy >= 0) & (iy < grid.ny)
    w = None if weights is None else np.asarray(weights, dtype=float)[ok]
    flat = np.bincount(iy[ok] * grid.nx + ix[ok], weights=w, minlength=grid.nx * grid.ny)
    return flat.reshape(grid.ny, grid.nx).astype(float)


def active_counts(
    x: np.ndarray, y: np.ndarray, grid: Grid, *, weights: np.ndarray | None = None
) -> np.ndarray:
    """Points (or their ``weights``) per active cell (flat, as :meth:`Grid.centres`):
    ``counts_on_grid(x, y, grid)[grid.active]`` without the full raster."""
    pos = grid.active_positions(x, y)
    hit = pos >= 0
    w = None if weights is None else np.asarray(weights, dtype=float)[hit]
    return np.bincount(pos[hit], weights=w, minlength=len(grid.active_index)).astype(float)


def band_kernel(cell: float, band: float) -> np.ndarray:
    """Binary disc of the cells whose centres lie within ``band`` metres of the centre."""
    r = int(np.floor(band / cell + 1e-9))
    a = np.arange(-r, r + 1)
    d2 = (a[None, :] ** 2 + a[:, None] ** 2) * cell**2
    return (d2 <= band**2 * (1 + 1e-12)).astype(float)


def sparse_correlate(raster: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``ndimage.correlate(raster, kernel, mode="constant")`` computed from the nonzero cells
    of ``raster`` only (odd-sided kernel): each spreads ``value x kernel`` around it, in
    O(nonzero cells x kernel cells), exact in the order of a float sum."""
    ny, nx = raster.shape
    ky, kx = kernel.shape
    src = np.flatnonzero(raster)
    dy, dx = np.nonzero(kernel)
    if len(src) == 0 or len(dy) == 0:
        return np.zeros(raster.shape)
    # correlate: out[i] = sum_k raster[i + k - r] kernel[k], so a source s reaches s - (k - r).
    sy, sx = np.divmod(src, nx)
    ty = sy[:, None] - (dy - ky // 2)[None, :]
    tx = sx[:, None] - (dx - kx // 2)[None, :]
    ok = (ty >= 0) & (ty < ny) & (tx >= 0) & (tx < nx)
    weight = raster.reshape(-1)[src][:, None] * kernel[dy, dx][None, :]
    out = np.bincount((ty * nx + tx)[ok], weights=weight[ok], minlength=ny * nx)
    return out.reshape(ny, nx)


#: :func:`neighbourhood_sums` spreads the nonzero cells when they times the kernel's cells are
#: at most this many times the raster's cells (cheaper than the FFT below that, measured on
#: a département's 100 m grid: a quarter's incidents of the Mayenne against those of the Nord).
SPARSE_FACTOR = 2.0


def neighbourhood_sums(raster: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``ndimage.correlate(raster, kernel, mode="constant")`` for an odd-sided kernel: by
    :func:`sparse_correlate` when the raster is sparse enough (:data:`SPARSE_FACTOR`), else by
    FFT, rounded back when the raster and the kernel hold integers (counts and a binary band:
    the sums are integers, so the result is exact) and set to zero where the round-off
    leaves a trace of the FFT (below 1e-12 of the largest value)."""
    from scipy.signal import fftconvolve

    raster = np.asarray(raster, dtype=float)
    if kernel.shape[0] % 2 == 0 or kernel.shape[1] % 2 == 0:
        return ndimage.correlate(raster, kernel, mode="constant", cval=0.0)
    if np.count_nonzero(raster) * np.count_nonzero(kernel) <= SPARSE_FACTOR * raster.size:
        return sparse_correlate(raster, kernel)
    out = fftconvolve(raster, kernel[::-1, ::-1], mode="same")
    if np.array_equal(kernel, np.rint(kernel)) and np.array_equal(raster, np.rint(raster)):
        return np.rint(out)
    out[np.abs(out) < 1e-12 * max(float(np.abs(out).max()), 1.0)] = 0.0
    return out


_CARDINALITIES: dict[tuple, np.ndarray] = {}


def _cardinalities(active: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Active cells in each cell's neighbourhood: they depend on the territory only, so the
    last few are remembered (a back-test asks for them once per window)."""
    key = (
        hashlib.sha1(np.packbits(active).tobytes()).digest(),
        active.shape,
        hashlib.sha1(np.ascontiguousarray(kernel).tobytes()).digest(),
        kernel.shape,
    )
    card = _CARDINALITIES.get(key)
    if card is None:
        card = neighbourhood_sums(active.astype(float), kernel)[active]
        card.flags.writeable = False
        while len(_CARDINALITIES) >= 4:
            _CARDINALITIES.pop(next(iter(_CARDINALITIES)), None)
        _CARDINALITIES[key] = card
    return card


def gi_star_from_raster(
    values: np.ndarray, active: np.ndarray, kernel: np.ndarray, *, transform: str = "B"
) -> np.ndarray:
    """Getis-Ord Gi* z-scores of the active cells of a raster.

    The weights are ``kernel`` (binary, self included) restricted to active cells, the same
    as a distance band between cell centres. Formulas are esda's ``G_Local(star=True)``
    (analytical moments), so z-scores match it to floating-point precision.

    Parameters
    ----------
    values : ndarray (ny, nx)
        Value of each cell (counts).
    active : ndarray of bool (ny, nx)
        Cells of the study area.
    kernel : ndarray
        Binary neighbourhood (see :func:`band_kernel`).
    transform : {"B", "R"}
        Binary or row-standardised weights.

    Returns
    -------
    ndarray
        z-score of each active cell, in row-major order.
    """
    v = np.where(active, values, 0.0)
    wy = neighbourhood_sums(v, kernel)[active]
    card = _cardinalities(active, kernel)
    y = v[active]
    n = y.size
    if transform.upper() == "R":
        wy = wy / card
        card = np.ones_like(card)
    elif transform.upper() != "B":
        raise ParameterError("transform doit valoir « B » (binaire) ou « R » (standardisé en ligne).")
    ysum = y.sum()
    statistic = wy / ysum
    mean = ysum / n
    variance = (y**2).sum() / n - mean**2
    expected = card / n
    var_g = card * (n - card) / (n - 1) / n**2 * variance / mean**2
    with np.errstate(invalid="ignore", divide="ignore"):
        return (statistic - expected) / np.sqrt(var_g)


def fdr_bins(z: np.ndarray, *, fdr: bool = True) -> np.ndarray:
    """Hot/cold bins -3..3 (99/95/90 % confidence), optionally FDR-corrected.

    With ``fdr`` the Benjamini-Hochberg procedure is applied at each confidence level
    (as ArcGIS's "False Discovery Rate correction"): a cell is significant at level
    ``c`` when its two-sided p-value is below the BH critical value for ``1 - c``.
    """
    z = np.asarray(z, dtype=float)
    p = 2 * stats.norm.sf(np.abs(np.nan_to_num(z, nan=0.0)))
    bins = np.zeros(z.shape, dtype=np.int8)
    # q <= alpha: the BH step-up at level alpha (q-values above the loosest level not needed).
    tested = fdr_from_pvalues(p, below=1 - min(CONFIDENCES)) if fdr else p
    for level, conf in enumerate(CONFIDENCES, start=1):
        bins[tested <= 1 - conf] = level
    return (bins * np.sign(np.nan_to_num(z))).astype(np.int8)


def gi_star_from_points(
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    territory: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    cell: float = 200.0,
    band: float = 600.0,
    fdr: bool = True,
    min_incidents: int = MIN_INCIDENTS,
    shape: str = "square",
    weights: str = "band",
    k: int = 8,
) -> gpd.GeoDataFrame:
    """Gi* hot and cold spots of incidents on a square or hexagonal grid over a territory.

    Parameters
    ----------
    points : GeoDataFrame or GeoSeries
        Incidents, in a metric CRS.
    territory : GeoDataFrame or GeoSeries
        Study area (e.g. the communes), same CRS.
    cell : float, default 200
        Cell size in metres.
    band : float, default 600
        Distance band in metres (binary weights, the cell itself included).
    fdr : bool, default True
        False-discovery-rate correction of the confidence bins.
    min_incidents : int, default 30
        Fewer incidents raise :class:`TooFewIncidentsError`.
    shape : {"square", "hex"}
        Grid cells (``cell`` is the side of a square or the circumradius of a hexagon).
    weights : {"band", "knn"}
        Binary distance band (``band`` metres) or the ``k`` nearest cells.
    k : int, default 8
        Neighbours for ``weights="knn"``.

    Returns
    -------
    GeoDataFrame
        One row per active cell: ``faits``, ``z``, ``p``, ``classe`` (-3..3), square
        geometry, in the input CRS.
    """
    crs = require_metric(points, territory)
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    geoms = geoms[has_position(geoms)]
    if len(geoms) < min_incidents:
        raise TooFewIncidentsError(
            # No count in the message: it reaches every audience, and a small one is secret.
            f"Trop peu de faits pour une analyse de points chauds : il en faut au moins {min_incidents}. "
            "Élargissez la période ou les infractions."
        )
    area = shapely.union_all(
        territory.geometry.to_numpy() if isinstance(territory, gpd.GeoDataFrame) else territory.to_numpy()
    )
    x, y = geoms.x.to_numpy(), geoms.y.to_numpy()
    if shape == "square" and weights == "band":
        grid = grid_for_territory(area, cell)
        raster = counts_on_grid(x, y, grid)
        z = gi_star_from_raster(raster, grid.active, band_kernel(cell, band))
        counts, polys = grid.on_active(raster), grid.polygons()
    else:
        if shape == "hex":
            centres, polys = hex_cells_for_territory(area, cell)
            counts = counts_on_cells(x, y, centres, cell)
        elif shape == "square":
            grid = grid_for_territory(area, cell)
            counts = active_counts(x, y, grid)
            centres, polys = np.column_stack(grid.centres()), grid.polygons()
        else:
            raise ParameterError(f"Forme de maille inconnue : {shape!r} (square ou hex).")
        if weights == "band":
            w = band_weights(centres, band)
        elif weights == "knn":
            w = knn_weights(centres, k)
        else:
            raise ParameterError(f"Pondération inconnue : {weights!r} (band ou knn).")
        z = gi_star_from_weights(counts, w)
    return gpd.GeoDataFrame(
        {
            "faits": counts.astype(np.int64),
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
            "classe": fdr_bins(z, fdr=fdr),
        },
        geometry=polys,
        crs=crs,
    )


# ---------------------------------------------------------------------------------------
# Irregular cells (hexagons) and k-nearest weights: a sparse weights matrix
# ---------------------------------------------------------------------------------------
def hex_cells_for_territory(territory: shapely.Geometry, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointy-top hexagons of circumradius ``size`` metres covering a territory.

    Returns
    -------
    centres : ndarray (n, 2)
        Centres of the hexagons that touch the territory.
    polygons : ndarray of shapely Polygons
        Their geometry (same order).
    """
    if size <= 0:
        raise ParameterError("La taille des hexagones doit être positive (en mètres).")
    minx, miny, maxx, maxy = territory.bounds
    w, h = np.sqrt(3) * size, 1.5 * size
    rows = np.arange(int(np.ceil((maxy - miny) / h)) + 2)
    cols = np.arange(int(np.ceil((maxx - minx) / w)) + 2)
    cc, rr = np.meshgrid(cols, rows)
    cx = minx + cc * w + (rr % 2) * w / 2
    cy = miny + rr * h
    centres = np.column_stack([cx.ravel(), cy.ravel()])
    angles = np.deg2rad(np.arange(6) * 60 + 30)
    ring = np.stack([size * np.cos(angles), size * np.sin(angles)], axis=1)
    coords = centres[:, None, :] + ring[None, :, :]
    polys = shapely.polygons(np.concatenate([coords, coords[:, :1, :]], axis=1))
    shapely.prepare(territory)
    keep = shapely.intersects(territory, polys)
    return centres[keep], polys[keep]


def counts_on_cells(x: np.ndarray, y: np.ndarray, centres: np.ndarray, size: float) -> np.ndarray:
    """Points per hexagon: each point goes to its nearest centre (a hexagon is the Voronoi
    cell of its centre); points farther than ``size`` from every centre are ignored."""
    from scipy.spatial import cKDTree

    d, i = cKDTree(centres).query(np.column_stack([x, y]), k=1)
    return np.bincount(i[d <= size * (1 + 1e-9)], minlength=len(centres)).astype(float)


def band_weights(centres: np.ndarray, band: float, *, self_weight: bool = True):
    """Binary distance-band weights between cell centres (scipy CSR), self included."""
    from scipy import sparse
    from scipy.spatial import cKDTree

    pairs = cKDTree(centres).query_pairs(band, output_type="ndarray")
    n = len(centres)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n) if self_weight else []]).astype(np.int64)
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n) if self_weight else []]).astype(np.int64)
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def knn_weights(centres: np.ndarray, k: int, *, self_weight: bool = True):
    """Binary k-nearest-neighbour weights (each cell's k nearest other cells), scipy CSR."""
    from scipy import sparse
    from scipy.spatial import cKDTree

    n = len(centres)
    _, idx = cKDTree(centres).query(centres, k=k + 1)
    rows = np.repeat(np.arange(n), k)
    cols = idx[:, 1:].ravel()
    w = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return w + sparse.identity(n, format="csr") if self_weight else w


def gi_star_from_weights(y: np.ndarray, weights, *, transform: str = "B") -> np.ndarray:
    """Gi* z-scores for any sparse weights matrix (self weight included), esda's formulas.

    Parameters
    ----------
    y : ndarray
        Value of each cell.
    weights : scipy sparse matrix
        Binary weights with a non-zero diagonal (see :func:`band_weights`, :func:`knn_weights`).
    transform : {"B", "R"}
        Binary or row-standardised.
    """
    y = np.asarray(y, dtype=float)
    w = weights.tocsr().astype(float)
    if transform.upper() == "R":
        card = np.asarray(w.sum(axis=1)).ravel()
        w = w.multiply(1 / card[:, None]).tocsr()
    elif transform.upper() != "B":
        raise ParameterError("transform doit valoir « B » (binaire) ou « R » (standardisé en ligne).")
    n = y.size
    statistic = (w @ y) / y.sum()
    mean = y.sum() / n
    variance = (y**2).sum() / n - mean**2
    card = np.asarray(w.sum(axis=1)).ravel()
    expected = card / n
    var_g = card * (n - card) / (n - 1) / n**2 * variance / mean**2
    with np.errstate(invalid="ignore", divide="ignore"):
        return (statistic - expected) / np.sqrt(var_g)
