"""Published-view audit: adversarial selections, every use case, everything sent to the browser.

For each case the use cases are run with the published audience, and everything they
return (metric values, chart data, table cells, map properties, captions, downloads) is
inspected: no count from 1 to 5, no count recoverable by subtraction from what is shown
together, and no published place within the published resolution of 1 to 5 incidents.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from core import model as m
from core.crs import metric_crs_for_departement
from core.model import IncidentFilter, filter_incidents
from core.privacy import SECRET_LABEL, Audience, hierarchy_masks, secret_mask_from_counts
from core.settings import SETTINGS
from usecases import diagnostic as uc_diag
from usecases import suivi as uc_suivi
from usecases import videoprotection as uc_video
from usecases import zones as uc_zones

PUBLIC = Audience.public()
T = SETTINGS.privacy_threshold


def small(value: object) -> bool:
    """A published value that is a count of 1 to 5."""
    if isinstance(value, str):
        value = value.replace("\u202f", "").replace("\u00a0", "").replace(",", ".")
        try:
            value = float(value)
        except ValueError:
            return False
    try:
        v = float(value)
    except (TypeError, ValueError):
        return False
    return bool(np.isfinite(v) and 0 < v <= T)


def small_cells(frame: pd.DataFrame, columns: list[str]) -> list[object]:
    return [v for c in columns if c in frame for v in frame[c] if small(v)]


def csv_frame(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def assert_margin_safe(values: np.ndarray, shown: np.ndarray, margin_shown: bool = True) -> None:
    """A line published with its margin: no lone hidden cell, no hidden group summing to 1-5."""
    hidden = ~shown & (values > 0)
    if not margin_shown or not hidden.any():
        return
    assert hidden.sum() >= 2, f"one hidden cell recoverable from the total: {values[hidden]}"
    assert values[hidden].sum() > T, f"hidden cells sum to {values[hidden].sum()}: recoverable"


@pytest.fixture(scope="module")
def world(communes53, synthetic53, keys53):
    return synthetic53.incidents, communes53, keys53


ONE_DAY = IncidentFilter(start=dt.date(2025, 6, 15), end=dt.date(2025, 6, 15))


def _rare_offence_day(incidents) -> IncidentFilter:
    """The first day of June 2025 on which the data hold an incident of a rare offence (read
    from the data, not fixed: a new generator version moves every incident)."""
    rare = incidents[incidents[m.OFFENCE].astype(str) == "Violences sexuelles"][m.START]
    day = rare[(rare >= pd.Timestamp("2025-06-01")) & (rare < pd.Timestamp("2025-07-01"))].min().date()
    return IncidentFilter(start=day, end=day, offences=("Violences sexuelles",))


def _filter_of(flt, incidents) -> IncidentFilter:
    return flt(incidents) if callable(flt) else flt


def diag_cases():
    return [
        ("un jour", ONE_DAY),
        (
            "une infraction rare, un mois",
            IncidentFilter(
                start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 30), offences=("Violences sexuelles",)
            ),
        ),
        ("une infraction rare, un jour", _rare_offence_day),
        ("une semaine", IncidentFilter(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 7))),
    ]


@pytest.mark.parametrize(("name", "flt"), diag_cases(), ids=[c[0] for c in diag_cases()])
@pytest.mark.parametrize("level", ["commune", "epci", "canton"])
def test_diagnostic_published_view(world, name, flt, level):
    incidents, communes, keys = world
    flt = _filter_of(flt, incidents)
    v = uc_diag.diagnostic_for_selection(incidents, communes, flt, keys=keys, audience=PUBLIC)
    r = uc_diag.ranking_for_level(v, communes, keys, level, audience=PUBLIC)
    sel = filter_incidents(incidents, flt)
    n = len(sel)
    assert n > 0, "the adversarial case must select something"
    # Metrics.
    faits = next(mm for mm in v.metrics if mm.label == "Faits")
    assert not small(faits.value), faits.value
    if 0 < n <= T:
        assert {mm.value for mm in v.metrics} == {SECRET_LABEL}
    # Bars: shown categories never 1-5; hidden ones not recoverable from the total.
    for table, column in ((v.by_offence, m.OFFENCE), (v.by_place, m.PLACE)):
        assert not small_cells(table, ["faits"])
        full = sel[column].astype(object).fillna("non renseigné").value_counts()
        shown = full.index.isin(table["categorie"])
        assert_margin_safe(full.to_numpy(dtype=float), shown, margin_shown=not (0 < n <= T))
    # Months and hours.
    assert not small_cells(v.monthly, ["faits"])
    assert not small_cells(v.hour_weekday, ["faits"])
    # Ranking at every level, and its exports.
    assert not small_cells(r.table, ["faits"])
    export = csv_frame(r.export_csv)
    assert not small_cells(export, ["faits"])
    assert not re.search(r'"faits": ?[1-5][,}]', r.export_geojson.decode())
    # Map properties: a secret commune is drawn as secret.
    secret = v.rates["secret"].to_numpy(dtype=bool)
    assert not [f for f, s in zip(v.rates["faits"], secret, strict=True) if small(f) and not s]
    # Legend bounds come from published communes only.
    visible = v.rates.loc[~secret & (v.rates["faits"] > 0), "taux_pour_mille"]
    if visible.nunique() == 1:  # one published value: one class [v, v + 1] (nothing else shown)
        assert v.breaks.tolist() == [visible.iloc[0], visible.iloc[0] + 1.0]
    elif len(visible):
        assert v.breaks.min() >= visible.min() - 1e-6 and v.breaks.max() <= visible.max() + 1e-6


@pytest.mark.parametrize(("name", "flt"), diag_cases(), ids=[c[0] for c in diag_cases()])
def test_adversarial_cases_hold_small_counts(world, name, flt):
    """Non-vacuity: each case's raw figures do contain counts of 1 to 5 for the gate to hide."""
    incidents, communes, keys = world
    flt = _filter_of(flt, incidents)
    internal = uc_diag.diagnostic_for_selection(
        incidents, communes, flt, keys=keys, audience=Audience.internal()
    )
    raw_cells = [*internal.base.rates["faits"], *internal.by_place["faits"], *internal.by_offence["faits"]]
    assert any(small(v) for v in raw_cells)
    published = uc_diag.diagnostic_for_selection(incidents, communes, flt, keys=keys, audience=PUBLIC)
    assert published.rates["secret"].any()


def test_hidden_commune_not_recoverable_from_its_epci(world):
    """Commune, EPCI and canton tables of one selection, together with the total."""
    incidents, communes, keys = world
    flt = IncidentFilter(start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 14))
    view = uc_diag.diagnostic_for_selection(incidents, communes, flt, keys=keys, audience=PUBLIC)
    tables = {
        lvl: uc_diag.ranking_for_level(view, communes, keys, lvl, audience=PUBLIC).table
        for lvl in uc_diag.LEVELS
    }
    counts = (
        communes["code"].map(filter_incidents(incidents, flt)[m.COMMUNE].value_counts()).fillna(0).to_numpy()
    )
    shown_communes = set(tables["commune"].loc[tables["commune"]["faits"] != SECRET_LABEL, "code"])
    for level in ("epci", "canton"):
        table = tables[level]
        published_groups = set(table.loc[table["faits"] != SECRET_LABEL, "code"].astype(str))
        for group in published_groups:
            members = (keys[level].astype(str) == group).to_numpy()
            shown = communes["code"].isin(shown_communes).to_numpy()[members]
            assert_margin_safe(counts[members], shown | (counts[members] == 0))


@pytest.fixture(scope="module")
def suivi_villages(world):
    """Follow-up of three villages (about one incident a month, 24 to 72 in four years): the
    gate has work to do."""
    incidents, communes, _ = world
    per_commune = incidents[m.COMMUNE].value_counts()
    villages = per_commune[(per_commune >= 24) & (per_commune <= 72)].index[:3]
    small_selection = incidents[incidents[m.COMMUNE].isin(villages)]
    data = uc_suivi.followup_for_selection(
        small_selection,
        communes,
        IncidentFilter(),
        start=dt.date(2025, 9, 1),
        end=dt.date(2025, 10, 31),
        crs=metric_crs_for_departement("53"),
    )
    return data


def test_suivi_monthly_series_not_recoverable(suivi_villages):
    data = suivi_villages
    totals = uc_suivi.monthly_series_for_selection(data, split=None, audience=PUBLIC).set_index("mois")[
        "faits"
    ]
    assert not [v for v in totals if small(v)]
    for split in (m.FORCE, m.OFFENCE):
        raw = data.monthly[split]
        assert (raw.gt(0) & raw.le(T)).to_numpy().any()  # non-vacuity: there is something to hide
        shown = ~data.monthly_hidden[split]
        gated = uc_suivi.monthly_series_for_selection(data, split=split, audience=PUBLIC)
        assert not [v for v in gated["faits"] if small(v)]
        for month in raw.index:  # each month's series against its total, when shown
            if np.isfinite(totals[month]):
                assert_margin_safe(raw.loc[month].to_numpy(float), shown.loc[month].to_numpy())


def test_suivi_months_not_recoverable_from_period_totals(suivi_villages):
    """The two months followed add up to the period's total shown as a metric."""
    data = suivi_villages
    view = uc_suivi.suivi_view(
        data, reference="annee", dimension="force", only_significant=False, audience=PUBLIC
    )
    current = view.metrics[0].value
    months = data.monthly[None].loc["2025-09-01":"2025-10-01", "faits"].to_numpy(float)
    shown = ~data.monthly_hidden[None].loc["2025-09-01":"2025-10-01", "faits"].to_numpy()
    assert not small(current)
    if current != SECRET_LABEL:
        assert_margin_safe(months, shown)
    # Per force: the period's force row against its monthly cells.
    table = data.published.tables[("annee", "force")].set_index("cle")
    split = data.monthly[m.FORCE].loc["2025-09-01":"2025-10-01"]
    hidden = data.monthly_hidden[m.FORCE].loc["2025-09-01":"2025-10-01"]
    for force in split.columns.intersection(table.index):
        if not table.loc[force, "secret"]:
            assert_margin_safe(split[force].to_numpy(float), ~hidden[force].to_numpy())


def test_suivi_tables_and_exports(suivi_villages):
    data = suivi_villages
    for (ref, dim), table in data.published.tables.items():
        view = uc_suivi.suivi_view(
            data, reference=ref, dimension=dim, only_significant=False, audience=PUBLIC
        )
        assert not small_cells(view.table, ["Faits", "Référence"])
        assert not small_cells(csv_frame(view.export_csv), ["faits", "faits_reference"])
        if dim == "commune":  # villages: some communes are hidden
            assert table["secret"].any()


def test_videoprotection_small_commune_tiny_radius(world):
    incidents, communes, _ = world
    crs = metric_crs_for_departement("53")
    metric = communes.to_crs(crs)
    flt = IncidentFilter(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    sel = filter_incidents(incidents, flt)
    public = sel[sel[m.PLACE].isin(["voie publique", "transports", "commerce"])]
    per_commune = public[m.COMMUNE].value_counts()
    code = per_commune[per_commune == 1].index[0]  # a commune with one visible incident
    area = uc_video.study_area(metric, "commune", commune=code)
    demand = uc_video.demand_in_area(
        incidents, flt, area, places=["voie publique", "transports", "commerce"], crs=crs
    )
    assert len(demand) == 1
    caption = uc_video.demand_caption(len(demand), 10, None, PUBLIC)
    assert caption.startswith(SECRET_LABEL)
    from geo.candidates import candidates_from_lattice

    cands = candidates_from_lattice(
        area.lattice_territory(), 10.0, demand_xy=uc_video.metric_xy(demand), radius=20.0
    )
    run = uc_video.run_siting(
        demand,
        {},
        cands,
        existing=None,
        area=area,
        radius=20.0,
        p=1,
        target=None,
        time_limit=5.0,
        flt=flt,
        places=["voie publique"],
        source="maillage",
        signature="x",
    )
    view = uc_video.siting_view(run, metric, audience=PUBLIC)
    for metric_ in view.metrics[:1]:
        assert not small(metric_.value) and SECRET_LABEL in (metric_.delta or "")
    assert view.metrics[0].value == SECRET_LABEL  # 100 % of a secret count gives it back
    assert view.sites_wgs84.empty and view.export_table.empty  # the site would locate the incident
    assert view.notes and "non publié" in view.notes[0]
    assert b"longitude" in view.export_csv and len(csv_frame(view.export_csv)) == 0


def test_zones_published_tables(world):
    incidents, communes, _ = world
    crs = metric_crs_for_departement("53")
    flt = IncidentFilter(start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 30))
    res, n_truth = uc_zones.zone_analysis_for_selection(
        incidents,
        communes,
        flt,
        crs=crs,
        settings=uc_zones.ZoneSettings(),
        severity={},
        bandwidth=None,
        truth=None,
    )
    v = uc_zones.zones_view(res, n_truth, crs=crs, audience=PUBLIC)
    assert len(v.table) > 0  # non-vacuity
    offence_cols = [c for c in v.table.columns if c.startswith("n_")]
    assert not small_cells(v.table, [*offence_cols, "faits", "faits_periode_precedente"])
    export = csv_frame(v.export_csv)
    assert not small_cells(export, [*offence_cols, "faits", "faits_periode_precedente"])
    for _, row in v.table.iterrows():
        cells = np.array([row[c] != SECRET_LABEL for c in offence_cols], dtype=bool)
        values = res.zones.set_index("id").loc[row["id"], offence_cols].to_numpy(float)
        assert_margin_safe(values, cells)
    # The score with the zone total would solve two hidden counts of different weights.
    hidden_any = (v.table[offence_cols] == SECRET_LABEL).any(axis=1)
    assert (v.table.loc[hidden_any, "score"] == SECRET_LABEL).all()
    gdf = gpd.read_file(io.BytesIO(v.export_gpkg))
    assert len(gdf) == len(export)


def test_default_published_view_still_shows_things(world):
    """Non-vacuity: the Mayenne's year in the published view keeps its figures and charts."""
    incidents, communes, keys = world
    flt = IncidentFilter(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    v = uc_diag.diagnostic_for_selection(incidents, communes, flt, keys=keys, audience=PUBLIC)
    ranking = uc_diag.ranking_for_level(v, communes, keys, "commune", audience=PUBLIC).table
    assert v.metrics[0].value != SECRET_LABEL
    assert (ranking["faits"] != SECRET_LABEL).sum() > 50
    assert len(v.by_offence) >= 10 and v.monthly["faits"].notna().all()


def test_gate_rules():
    # one hidden cell in a line is given company; a hidden group summing to <= 5 grows
    mask = secret_mask_from_counts(np.array([3, 40, 50]))
    assert mask.tolist() == [True, True, False]
    mask = secret_mask_from_counts(np.array([1, 1, 40, 50]))
    assert mask.tolist() == [True, True, True, False]
    base, groups, total = hierarchy_masks(np.array([3, 20, 30, 40]), [np.array(["a", "a", "b", "b"])])
    assert base[0] and base.sum() >= 2 and not total


ONE_MONTH = IncidentFilter(start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 30))


@pytest.mark.parametrize("method", list(uc_diag.CLASS_METHODS))
@pytest.mark.parametrize("rate", list(uc_diag.RATE_KINDS))
def test_smoothed_rates_intervals_and_class_bounds_pass_the_gate(world, rate, method):
    from analysis.smoothing import queen_neighbours_from_geometry, smoothed_rates_from_counts

    incidents, communes, keys = world
    v = uc_diag.diagnostic_for_selection(
        incidents, communes, ONE_MONTH, keys=keys, audience=PUBLIC, method=method, rate=rate
    )
    secret = v.rates["secret"].to_numpy(dtype=bool)
    assert secret.any(), "the case must hide communes"
    # Hidden communes: no smoothed rate, no interval (both derive from the hidden count).
    assert v.rates.loc[secret, ["taux_lisse", "ic_bas", "ic_haut"]].isna().all().all()
    # Published smoothed rates do not depend on hidden counts: any value in their place gives the same.
    counts = v.rates["faits"].to_numpy().copy()
    counts[secret] = 999
    again, _ = smoothed_rates_from_counts(
        counts,
        v.rates["population"].to_numpy(float),
        queen_neighbours_from_geometry(communes.geometry),
        exclude=secret,
    )
    np.testing.assert_array_equal(again["taux_eb_spatial"].to_numpy(), v.rates["taux_lisse"].to_numpy())
    # Class bounds lie within the published values of the mapped rate.
    visible = v.rates.loc[~secret, v.value_column].dropna()
    if rate == "brut":
        visible = visible[v.rates.loc[visible.index, "faits"] > 0]
    assert len(visible) > 1
    assert v.breaks.min() >= visible.min() - 1e-9 and v.breaks.max() <= visible.max() + 1e-9
    # Ranking: a hidden row has no rank and is not listed (its name would say that something
    # happened there); the export lists it with « secret » in every derived column.
    r = uc_diag.ranking_for_level(v, communes, keys, "commune", audience=PUBLIC)
    assert not len(r.table[r.table["faits"] == "secret"])
    assert len(r.table) and (r.table["rang"] != "—").all()
    assert not set(r.table["code"]) & set(v.rates.loc[secret, "code"])
    export = csv_frame(r.export_csv)
    hidden_rows = export[export["faits"] == "secret"]
    assert len(hidden_rows)
    for column in ("taux_pour_mille", "ic_95", "fiabilite", "taux_lisse"):
        assert (hidden_rows[column] == "secret").all(), column
    assert set(export.loc[export["faits"] == "secret", "taux_lisse"]) == {"secret"}
    assert not small_cells(export, ["faits"])


def test_hot_streets_published_view_shows_no_segment_of_one_to_five(world):
    """The rule for lines: only segments above the threshold, each with its own count, in the
    metrics, the table, the map's properties and both exports; and the small counts are there
    in the internal view (the test would not be one otherwise)."""
    from analysis.streets import street_index_from_roads
    from data.synthetic_roads import synthetic_roads_for_departement
    from usecases.hot_streets import hot_streets_for_selection

    incidents, communes, _ = world
    crs = metric_crs_for_departement("53")
    streets = street_index_from_roads(synthetic_roads_for_departement(communes, seed=3).to_crs(crs))
    for flt in (
        IncidentFilter(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31)),
        _rare_offence_day(incidents),
    ):
        internal = hot_streets_for_selection(incidents, flt, streets, communes, audience=Audience.internal())
        view = hot_streets_for_selection(incidents, flt, streets, communes, audience=PUBLIC)
        for metric_ in view.metrics:
            assert not small(metric_.value) and not small((metric_.delta or "").split(" ")[0]), metric_
        assert not small_cells(view.table, ["faits"])
        assert not small_cells(view.segments_wgs84, ["faits"])
        exported = csv_frame(view.export_csv)
        assert not small_cells(exported, ["faits"])
        geo = gpd.read_file(io.BytesIO(view.export_geojson))
        assert not small_cells(geo, ["faits"]) and len(geo) == len(exported)
        # No group total: the table has no street or commune sums.
        assert set(view.table.columns) == {
            "rang",
            "rue",
            "entre",
            "commune",
            "faits",
            "longueur_m",
            "par_km",
        }
        if (internal.table["faits"] <= T).any():
            assert any("ne sont pas montrés" in n for n in view.notes)
    year = hot_streets_for_selection(
        incidents,
        IncidentFilter(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31)),
        streets,
        communes,
        audience=Audience.internal(),
    )
    assert (year.table["faits"] > 0).all() and small_cells(
        year.segments_wgs84, ["faits"]
    )  # internal: all of them
    day = hot_streets_for_selection(
        incidents, _rare_offence_day(incidents), streets, communes, audience=PUBLIC
    )
    assert day.metrics[1].value == SECRET_LABEL  # a share over 1-5 incidents on the network says nothing safe
    assert day.table.empty and day.segments_wgs84.empty
