import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from analysis.diagnostic import (
    class_breaks_from_values,
    classes_from_values,
    diagnostic_from_incidents,
    fisher_jenks_bins,
    hour_weekday_from_windows,
    monthly_counts,
    offender_profile_table,
    published_commune_table,
    rates_by_commune,
)
from core import model as m
from core.model import IncidentFilter, filter_incidents
from core.privacy import published_counts, secret_mask_from_counts
from core.settings import SETTINGS


def ts(s):
    return np.array([np.datetime64(s)])


def test_aoristic_point_incident_goes_to_its_hour():
    t = hour_weekday_from_windows(ts("2024-01-01T14:20"), np.array([np.datetime64("NaT")]))  # a Monday
    assert t[0, 14] == 1 and t.sum() == 1


def test_aoristic_window_is_spread_not_put_at_start():
    # Wednesday 2024-01-03 from 10:30 to 13:30: 0.5 h, 1 h, 1 h, 0.5 h out of 3 h.
    t = hour_weekday_from_windows(ts("2024-01-03T10:30"), ts("2024-01-03T13:30"))
    assert_allclose(t[2, 10:14], [1 / 6, 1 / 3, 1 / 3, 1 / 6])
    assert_allclose(t.sum(), 1.0)


def test_aoristic_overnight_window_crosses_days():
    # Sunday 22:00 to Monday 02:00: four hours, a quarter each.
    t = hour_weekday_from_windows(ts("2024-01-07T22:00"), ts("2024-01-08T02:00"))
    assert_allclose([t[6, 22], t[6, 23], t[0, 0], t[0, 1]], [0.25] * 4)


def test_aoristic_long_window_is_uniform():
    t = hour_weekday_from_windows(ts("2024-01-01T00:00"), ts("2024-01-20T00:00"))
    assert_allclose(t, np.full((7, 24), 1 / 168))


@given(st.lists(st.tuples(st.integers(0, 10**8), st.integers(-10, 400 * 3600)), min_size=1, max_size=40))
def test_aoristic_each_incident_weighs_one(pairs):
    start = np.array([np.datetime64("2020-01-01T00:00") + np.timedelta64(s, "s") for s, _ in pairs])
    end = np.array(
        [
            st_ + np.timedelta64(d, "s") if d > 0 else np.datetime64("NaT")
            for st_, (_, d) in zip(start, pairs, strict=True)
        ]
    )
    t = hour_weekday_from_windows(start, end)
    assert_allclose(t.sum(), len(pairs))
    assert (t >= -1e-12).all()


def test_secret_primary_and_secondary():
    mask = secret_mask_from_counts(np.array([0, 3, 40, 12, 7]), threshold=5)
    # 3 is hidden; alone it could be recovered from the total, so 7 is hidden too.
    assert mask.tolist() == [False, True, False, False, True]
    table = np.array([[10, 2, 30], [20, 25, 40]])
    mask2 = secret_mask_from_counts(table, threshold=5)
    assert mask2[0, 1]
    assert mask2.sum(axis=1)[0] >= 2 and mask2.sum(axis=0)[1] >= 2
    assert published_counts(pd.Series([1, 50, 60])).tolist() == ["secret", "secret", 60]


def test_rates_and_classes(communes53):
    inc = pd.DataFrame({m.COMMUNE: ["53130"] * 100 + ["53001"] * 3})
    r = rates_by_commune(inc, communes53)
    laval = r.set_index("code").loc["53130"]
    assert laval["faits"] == 100
    assert_allclose(laval["taux_pour_mille"], 100 / laval["population"] * 1000)
    assert r.set_index("code").loc["53001", "secret"]
    assert r.index.equals(communes53.index)
    breaks = class_breaks_from_values([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], k=5)
    assert breaks[0] == 1 and breaks[-1] == 10 and len(breaks) == 6
    assert classes_from_values(np.array([1, 10, np.nan]), breaks).tolist() == [0, 4, -1]
    with pytest.raises(ValueError, match="inconnue"):
        class_breaks_from_values([1, 2], method="jenks?")


@pytest.mark.parametrize("seed", range(12))
def test_fisher_jenks_equals_mapclassify(seed):
    import warnings

    import mapclassify

    rng = np.random.default_rng(seed)
    values = rng.gamma(2.0, 5.0, size=int(rng.integers(12, 300)))
    k = int(rng.integers(2, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Numba not installed": the slow anchor is fine here
        anchor = mapclassify.FisherJenks(values, k=k).bins
    assert_allclose(fisher_jenks_bins(values, k), anchor)
    breaks = class_breaks_from_values(values, k=k, method="fisher_jenks")
    assert_allclose(breaks, np.concatenate([[values.min()], anchor]))
    # Classes follow mapclassify's rule (upper bounds included).
    assert_allclose(classes_from_values(values, breaks), mapclassify.UserDefined(values, anchor).yb)


@pytest.mark.parametrize("method", ["quantiles", "equal", "headtail"])
def test_other_class_methods_are_mapclassify(method):
    import mapclassify

    values = np.random.default_rng(3).lognormal(1.0, 0.9, size=240)
    anchor = {
        "quantiles": lambda: mapclassify.Quantiles(values, k=5),
        "equal": lambda: mapclassify.EqualInterval(values, k=5),
        "headtail": lambda: mapclassify.HeadTailBreaks(values),
    }[method]()
    breaks = class_breaks_from_values(values, method=method)
    assert_allclose(breaks[1:], anchor.bins)
    assert_allclose(classes_from_values(values, breaks), anchor.yb)


def test_ranking_says_when_the_first_rates_are_unreliable(communes53, synthetic53):
    from analysis.smoothing import queen_neighbours_from_geometry, smoothed_rates_from_counts
    from usecases.diagnostic import _top_warning, _with_smoothing

    village = communes53.loc[communes53["population"].idxmin(), "code"]
    inc = synthetic53.incidents
    year = inc[(inc[m.START].dt.year == 2025) & (inc[m.START].dt.month == 6)]
    inc = pd.concat([year[[m.COMMUNE]], pd.DataFrame({m.COMMUNE: [village] * 4})], ignore_index=True)
    rates = rates_by_commune(inc, communes53)
    smooth, _ = smoothed_rates_from_counts(
        rates["faits"].to_numpy(),
        rates["population"].to_numpy(float),
        queen_neighbours_from_geometry(communes53.geometry),
    )
    rates = _with_smoothing(rates, smooth)
    raw = published_commune_table(rates, hide_secret=False)
    assert raw.iloc[0]["code"] == village and raw.iloc[0]["fiabilite"] == "peu fiable"
    warning = _top_warning(raw, "brut")
    assert warning is not None and "première unité" in warning and "Taux lissé" in warning
    smoothed = published_commune_table(rates, hide_secret=False, order="taux_lisse")
    row = rates.set_index("code").loc[village]
    assert row["taux_lisse"] < row["taux_pour_mille"]  # pulled towards its neighbourhood
    # Spatial EB keeps an outlier well above all its neighbours high (esda's formula: the local
    # variance includes its own rate), so it is still first here: the ranking says so.
    assert smoothed.iloc[0]["code"] == village
    warning = _top_warning(smoothed, "lisse")
    assert warning is not None and "première unité" in warning and "intervalle" in warning


def test_published_table_never_shows_secret(communes53):
    inc = pd.DataFrame({m.COMMUNE: ["53130"] * 100 + ["53001"] * 3 + ["53002"] * 9})
    table = published_commune_table(rates_by_commune(inc, communes53))
    row = table.set_index("code").loc["53001"]
    assert row["faits"] == "secret" and row["taux_pour_mille"] == "secret" and row["rang"] is None
    assert 3 not in table["faits"].tolist()
    # 9 would reveal the 3 from the total 112: hidden by secondary secrecy.
    assert table.set_index("code").loc["53002", "faits"] == "secret"


def test_filter_and_diagnostic(synthetic53, communes53):
    g = synthetic53.incidents
    flt = IncidentFilter(
        start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31), offences=("Cambriolages de logement",)
    )
    sel = filter_incidents(g, flt)
    assert (sel[m.START].dt.year == 2024).all() and (sel[m.OFFENCE] == "Cambriolages de logement").all()
    d = diagnostic_from_incidents(g, communes53, flt)
    assert d.figures["faits"] == len(sel)
    assert d.rates["faits"].sum() == len(sel)
    assert_allclose(d.hour_weekday.to_numpy().sum(), len(sel))
    assert d.monthly["faits"].sum() == len(sel) and len(d.monthly) == 12
    assert d.by_place.set_index("categorie").loc["domicile", "faits"] == len(sel)
    # Burglaries are known within windows: the aoristic profile differs from start hours.
    starts = np.bincount(sel[m.START].dt.hour, minlength=24)
    assert not np.allclose(d.hour_weekday.sum(axis=0).to_numpy(), starts)


def test_offender_profile_hides_small_cells():
    inc = pd.DataFrame(
        {
            m.AGE: ["18-24 ans"] * 30 + ["65 ans et plus"] * 2 + [None] * 5,
            m.SEX: ["homme"] * 20 + ["femme"] * 10 + ["homme"] * 2 + [None] * 5,
        }
    )
    table, mask = offender_profile_table(inc)
    assert table.loc["65 ans et plus", "homme"] == 2
    assert mask[4, 0] and mask.sum() >= 2


def test_monthly_counts_fill_gaps():
    inc = pd.DataFrame({m.START: pd.to_datetime(["2024-01-05", "2024-03-02", "2024-03-09"])})
    mc = monthly_counts(inc)
    assert mc["faits"].tolist() == [1, 0, 2]


def test_burglary_rates_per_dwelling_from_an_ssmsi_base(communes53, synthetic53):
    """Burglaries per 1,000 dwellings when the SSMSI communal base (real format) gives dwellings."""
    import datetime as dt

    from analysis.official import dwellings_from_statistics
    from core.privacy import Audience
    from readers.ssmsi import official_statistics_from_bytes
    from usecases.diagnostic import diagnostic_for_selection, ranking_for_level

    header = (
        '"CODGEO_2026";"annee";"indicateur";"unite_de_compte";"nombre";"taux_pour_mille";"est_diffuse";'
        '"insee_pop";"insee_pop_millesime";"insee_log";"insee_log_millesime";"complement_info_nombre";'
        '"complement_info_taux"'
    )
    lines = [header]
    dwellings = {}
    for code, pop in zip(communes53["code"], communes53["population"], strict=True):
        dwellings[code] = int(pop * 0.47) + 3
        lines.append(
            f'"{code}";"2025";"Cambriolages de logement";"Logement";"NA";"NA";"ndiff";"{pop}";"2023";'
            f'"{dwellings[code]}";"2022";"1,5";"2,1"'
        )
    stats = official_statistics_from_bytes("\n".join(lines).encode("utf-8"), "base.csv").table
    found = dwellings_from_statistics(stats, communes53["code"])
    assert found is not None and found.to_dict() == {k: float(v) for k, v in dwellings.items()}
    keys = pd.DataFrame(
        {
            "epci": communes53["epci_code"],
            "epci_nom": communes53["epci_nom"],
            "canton": "1",
            "canton_nom": "c",
        },
        index=communes53.index,
    )
    flt = IncidentFilter(
        start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), offences=("Cambriolages de logement",)
    )
    v = diagnostic_for_selection(
        synthetic53.incidents, communes53, flt, keys=keys, audience=Audience.internal(), dwellings=found
    )
    assert v.unit == "logements" and any(mm.label == "Pour 1 000 logements" for mm in v.metrics)
    laval = v.rates.set_index("code").loc["53130"]
    assert_allclose(laval["taux_pour_mille"], laval["faits"] / dwellings["53130"] * 1000)
    r = ranking_for_level(v, communes53, keys, "commune", audience=Audience.internal())
    assert "logements" in r.table.columns and "population" not in r.table.columns
    # What a reader asks first: rank, name, the rate, its interval and reliability; the export keeps its order.
    assert list(r.table.columns[:5]) == ["rang", "Commune", "taux_pour_mille", "ic_95", "fiabilite"]
    assert r.export_csv.decode("utf-8-sig").splitlines()[0].split(";")[:3] == ["rang", "code", "Commune"]
    epci = ranking_for_level(v, communes53, keys, "epci", audience=Audience.internal())
    assert "logements" in epci.table.columns
    other = IncidentFilter(
        start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), offences=("Vols de véhicule",)
    )
    v2 = diagnostic_for_selection(
        synthetic53.incidents, communes53, other, keys=keys, audience=Audience.internal(), dwellings=found
    )
    assert v2.unit == "habitants"


def test_the_use_case_chooses_the_labels_the_page_draws(synthetic53, communes53, keys53):
    import datetime as dt

    from core.model import IncidentFilter
    from core.privacy import Audience, View
    from usecases import diagnostic as uc

    flt = IncidentFilter(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    v = uc.diagnostic_for_selection(
        synthetic53.incidents, communes53, flt, keys=keys53, audience=Audience(View.PUBLISHED), rate="lisse"
    )
    assert (v.map_heading, v.legend_title, v.base_label) == (
        "Taux lissé pour 1 000 habitants par commune",
        "Taux lissé pour 1 000 hab.",
        "Population",
    )
    dwellings = v.rates.set_index("code")["population"] * 0.5
    burglaries = IncidentFilter(start=flt.start, end=flt.end, offences=uc.PER_DWELLING)
    w = uc.diagnostic_for_selection(
        synthetic53.incidents,
        communes53,
        burglaries,
        keys=keys53,
        audience=Audience(View.PUBLISHED),
        dwellings=dwellings,
    )
    assert (w.unit, w.legend_title, w.base_label) == (
        "logements",
        "Taux brut pour 1 000 logements",
        "Logements",
    )


@pytest.mark.parametrize("level", ["epci", "canton"])
def test_the_map_follows_the_level_and_its_secret(synthetic53, communes53, keys53, level):
    """At the EPCI or canton level the map draws each group with its own rate (the ranking's);
    in the published view a group holding 1 to 5 incidents is drawn as secret, and the classes
    come from the published groups only."""
    import datetime as dt

    from core.privacy import Audience
    from geo.communes import display_geometry_from_communes, geometry_by_group
    from usecases import diagnostic as uc
    from usecases.diagnostic_levels import commune_map, level_map_for

    shown = gpd.GeoDataFrame(geometry=display_geometry_from_communes(communes53).to_numpy(), crs=4326)
    outlines = geometry_by_group(shown, keys53[level])

    flt = IncidentFilter(start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 7))
    for audience in (Audience.internal(), Audience.public()):
        view = uc.diagnostic_for_selection(
            synthetic53.incidents, communes53, flt, keys=keys53, audience=audience
        )
        lm = level_map_for(view, communes53, keys53, level, outlines, audience=audience)
        groups = keys53[level].dropna().astype(str).unique()
        assert sorted(lm.rates["code"]) == sorted(groups)
        assert lm.area_label == uc.LEVELS[level] and lm.heading.endswith(f"par {uc.LEVELS[level]}")
        assert lm.rates["faits"].sum() == len(filter_incidents(synthetic53.incidents, flt))
        small = lm.rates["faits"].between(1, SETTINGS.privacy_threshold).to_numpy()
        secret = lm.rates["secret"].to_numpy(dtype=bool)
        if audience.published:
            assert small.any() and not (small & ~secret).any()  # every small group is secret
            visible = lm.rates.loc[~secret & (lm.rates["faits"] > 0), "taux_pour_mille"]
            assert lm.breaks.min() >= visible.min() - 1e-9 and lm.breaks.max() <= visible.max() + 1e-9
        else:
            assert not secret.any()
        assert lm.display_geometry.index.equals(lm.rates.index) and lm.display_geometry.notna().all()
        by_commune = commune_map(view, shown.geometry)  # the commune map: the Diagnostic's own
        assert by_commune.rates is view.rates and by_commune.value_column == view.value_column


def test_coordinates_of_located_incidents_are_those_of_their_points():
    import shapely

    from core.model import located, xy_of_located

    g = gpd.GeoDataFrame(
        {"n": range(5)},
        geometry=gpd.GeoSeries(
            [shapely.Point(1, 2), None, shapely.Point(), shapely.Point(3, 4), shapely.Point(5, 6)]
        ),
    )
    x, y = xy_of_located(g)
    assert x.tolist() == [1, 3, 5] and y.tolist() == [2, 4, 6]
    assert x.tolist() == located(g).geometry.x.tolist()
    full = g.iloc[[0, 3]]
    assert xy_of_located(full)[0].tolist() == [1, 3]
