"""Priority zones end to end: 100,000 and 1,000,000 incidents (goals < 2 s and < 20 s).

Incidents: the embedded Mayenne data resampled with a 30 m jitter. Ours: the default local-excess scan ("local"), grid + Gi* + FDR
+ merged, scored zones ("gi"), and the cell-weighted DBSCAN ("dbscan"). Anchors, same run,
100,000 points: scikit-learn ``DBSCAN(eps=200, min_samples=25)`` on the points (clustering
only), and with ``--hdbscan`` scikit-learn ``HDBSCAN(min_cluster_size=25)`` (slow).
Memory: peak RSS (VmHWM) of this process after each size.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.zone_detectors import ZoneSettings  # noqa: E402
from analysis.zones import zones_from_incidents  # noqa: E402
from data.default_dataset import DEFAULT_SLUG
from data.locations import default_store
from geo.communes import communes_for_departement  # noqa: E402


def vmhwm_mb() -> float:
    return int([x.split()[1] for x in open("/proc/self/status") if x.startswith("VmHWM")][0]) / 1024


def sample(g: gpd.GeoDataFrame, n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    idx = rng.integers(0, len(g), n)
    out = g.iloc[idx].reset_index(drop=True)
    x = out.geometry.x.to_numpy() + rng.normal(0, 30, n)
    y = out.geometry.y.to_numpy() + rng.normal(0, 30, n)
    return gpd.GeoDataFrame(out.drop(columns="geometry"), geometry=gpd.points_from_xy(x, y), crs=g.crs)


def main() -> None:
    rng = np.random.default_rng(0)
    g = default_store().load(DEFAULT_SLUG).to_crs(2154)
    communes = communes_for_departement("53").to_crs(2154)
    zones_from_incidents(g, communes)  # warm-up (imports)
    for n in (100_000, 1_000_000):
        inc = sample(g, n, rng)
        for method in ("local", "gi", "dbscan"):
            t = time.perf_counter()
            z = zones_from_incidents(inc, communes, settings=ZoneSettings(method=method))
            print(
                f"{n:>9,} faits, méthode {method:6s} : {time.perf_counter() - t:6.2f} s, {len(z)} zones, mémoire max {vmhwm_mb():.0f} Mo"
            )
        if n == 100_000:
            from sklearn.cluster import DBSCAN

            xy = np.column_stack([inc.geometry.x, inc.geometry.y])
            t = time.perf_counter()
            DBSCAN(eps=200, min_samples=25).fit(xy)
            print(
                f"{n:>9,} faits, ancre scikit-learn DBSCAN (points, regroupement seul) : {time.perf_counter() - t:.2f} s"
            )
            if "--hdbscan" in sys.argv:
                from sklearn.cluster import HDBSCAN

                t = time.perf_counter()
                HDBSCAN(min_cluster_size=25).fit(xy)
                print(f"{n:>9,} faits, ancre scikit-learn HDBSCAN : {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
