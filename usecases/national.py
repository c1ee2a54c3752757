"""Every département computed alike: the per-département results of the national batch.

:func:`results_for_departement` is what one task of the batch computes for one département,
with the product's own functions and their default settings (no second implementation):

* the priority zones of the last twelve months (:func:`usecases.zones.default_zones_for_selection`);
* the bimonthly follow-up of the last two whole months against both references (the same
  days a year earlier, the period before), published view (:func:`usecases.suivi.followup_for_selection`);
* a summary row: incidents of the twelve months, rate per 1,000 inhabitants, zones,
  significant changes.

:func:`write_results` stores them partitioned like the input (``departement=XX/``), under
the data version they were computed from, so that a batch run again skips what is done.
The Dask orchestration lives in :mod:`usecases.national_batch`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from analysis.periods import PeriodNotCoveredError
from core import model as m
from core.crs import WGS84, metric_crs_for_departement
from core.model import IncidentFilter
from core.privacy import SECRET_LABEL, is_secret
from core.settings import SETTINGS
from geo.communes import write_parquet_atomically, write_text_atomically
from usecases.suivi import default_followed_period, followup_for_selection
from usecases.zones import default_zones_for_selection

#: Columns of the summary row of a département (one row per département in the France table).
SUMMARY_COLUMNS = [
    "departement",
    "nom",
    "debut",
    "fin",
    "faits",
    "population",
    "taux_pour_mille",
    "zones",
    "periode_suivie",
    "evolution_annee",
    "evolution_precedente",
    "hausses_significatives",
    "baisses_significatives",
    "remarque",
]
RESULT_FILES = ("zones.parquet", "suivi.parquet", "resume.json")
#: The secrecy threshold the results were gated with (recorded beside the data version).
THRESHOLD = "seuil_secret"


@dataclass
class DepartementResults:
    """What the batch keeps for one département."""

    summary: dict
    zones: gpd.GeoDataFrame  # EPSG:4326, published columns
    followup: pd.DataFrame  # long: reference, dimension, then the comparison columns


def _last_twelve_months(incidents: pd.DataFrame) -> tuple[dt.date, dt.date]:
    last = incidents[m.START].max().date()
    return last - dt.timedelta(days=364), last


def results_for_departement(
    incidents: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, *, code: str, name: str = ""
) -> DepartementResults:
    """Zones, follow-up and summary of one département, default settings.

    Parameters
    ----------
    incidents : GeoDataFrame
        The département's incidents (its partition of the national data set).
    communes : GeoDataFrame
        Its communes (units: arrondissements for Paris, Lyon, Marseille).
    code : str
        Département code.
    name : str
        Département name (for the summary).

    Returns
    -------
    DepartementResults
    """
    crs = metric_crs_for_departement(code)
    population = int(communes["population"].sum())
    if not len(incidents):
        summary = {c: None for c in SUMMARY_COLUMNS} | {
            "departement": code,
            "nom": name,
            "faits": 0,
            "population": population,
            "zones": 0,
            "hausses_significatives": 0,
            "baisses_significatives": 0,
            "remarque": "aucun fait dans le jeu",
        }
        no_zones = gpd.GeoDataFrame({"id": [], "rang": [], "communes": []}, geometry=[], crs=WGS84)
        return DepartementResults(summary, no_zones, pd.DataFrame())
    start, end = _last_twelve_months(incidents)
    year = IncidentFilter(start=start, end=end)
    zones = default_zones_for_selection(incidents, communes, year, crs=crs)
    if "faits" in zones:  # the gate: a zone drawn around 1 to 5 incidents is not published
        zones = zones[~zones["faits"].map(is_secret).astype(bool)]
    f_start, f_end, _, _ = default_followed_period(incidents)
    remark = ""
    try:
        fu = followup_for_selection(
            incidents, communes, IncidentFilter(), start=f_start, end=f_end, crs=crs
        ).published
    except PeriodNotCoveredError as exc:  # too short a history: no comparison, said in the row
        fu, remark = None, f"suivi impossible : {exc}"
    tables = (
        [
            table.assign(reference=reference, dimension=dimension)
            for (reference, dimension), table in sorted(fu.tables.items())
        ]
        if fu is not None
        else []
    )
    followup = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    n = int(((incidents[m.START].dt.date >= start) & (incidents[m.START].dt.date <= end)).sum())
    totals = fu.totals.set_index("reference") if fu is not None else pd.DataFrame()
    evolution = {
        ref: _published_change(totals.loc[ref]) if ref in totals.index else None
        for ref in ("annee", "precedente")
    }
    significant = (
        followup[followup.get("dimension", pd.Series(dtype=str)) == "commune"] if len(followup) else followup
    )
    summary = {
        "departement": code,
        "nom": name,
        "debut": start.isoformat(),
        "fin": end.isoformat(),
        "faits": SECRET_LABEL if is_secret(n) else n,
        "population": population,
        "taux_pour_mille": None if is_secret(n) or not population else round(1000 * n / population, 3),
        "zones": int(len(zones)),
        "periode_suivie": f"{f_start.isoformat()}/{f_end.isoformat()}",
        "evolution_annee": evolution["annee"],
        "evolution_precedente": evolution["precedente"],
        "hausses_significatives": int((significant.get("sens", pd.Series(dtype=str)) == "hausse").sum()),
        "baisses_significatives": int((significant.get("sens", pd.Series(dtype=str)) == "baisse").sum()),
        "remarque": remark,
    }
    keep = [c for c in zones.columns if c in ("id", "rang", "communes", "geometry")]
    return DepartementResults(summary, zones[keep].to_crs(WGS84), followup)


def _published_change(row: pd.Series) -> float | None:
    """The relative change of a totals row, unless it is secret."""
    if bool(row.get("secret", False)) or pd.isna(row.get("evolution")):
        return None
    return round(float(row["evolution"]), 4)


def results_dir(out_root: Path, code: str) -> Path:
    """The folder of one département's results (partitioned like the input)."""
    return Path(out_root) / f"departement={code}"


def results_done(out_root: Path, code: str, version: str) -> bool:
    """Whether the département's results are there for this data version and the secrecy
    threshold in force (results gated with another threshold are computed again)."""
    folder = results_dir(out_root, code)
    if not all((folder / f).exists() for f in RESULT_FILES):
        return False
    try:
        record = json.loads((folder / "resume.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return record.get("version") == version and record.get(THRESHOLD) == SETTINGS.privacy_threshold


def write_results(out_root: Path, code: str, version: str, results: DepartementResults) -> Path:
    """Write one département's results; ``resume.json`` last, so it marks them complete."""
    folder = results_dir(out_root, code)
    folder.mkdir(parents=True, exist_ok=True)
    write_parquet_atomically(results.zones, folder / "zones.parquet")
    followup = results.followup.astype(
        {c: str for c in results.followup.columns if results.followup[c].dtype == object}
    )
    write_parquet_atomically(followup, folder / "suivi.parquet")
    record = {**results.summary, "version": version, THRESHOLD: SETTINGS.privacy_threshold}
    write_text_atomically(folder / "resume.json", json.dumps(record, ensure_ascii=False, indent=1))
    return folder


def summary_stamp(out_root: Path) -> str:
    """A key that changes when any département's summary is written (names, sizes, times)."""
    parts = []
    for path in sorted(Path(out_root).glob("departement=*/resume.json")):
        try:
            st = path.stat()
        except OSError:
            continue
        parts.append(f"{path.parent.name}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


def summary_table(out_root: Path) -> pd.DataFrame:
    """Every département's summary row found under ``out_root`` (the France table)."""
    rows = []
    for path in sorted(Path(out_root).glob("departement=*/resume.json")):
        try:
            rows.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return pd.DataFrame(rows, columns=[*SUMMARY_COLUMNS, "version", THRESHOLD])
