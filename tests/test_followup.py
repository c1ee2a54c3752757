"""Follow-up: periods, the exact rate-ratio test, FDR flags, privacy, every dimension."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats

from analysis.fdr import fdr_from_pvalues
from analysis.followup import followup_from_incidents, keys_for_incidents
from analysis.periods import Period, PeriodError, PeriodNotCoveredError, default_periods, reference_periods
from analysis.rate_tests import comparison_from_counts, published_comparison, rate_ratio_test
from core import model as m


@pytest.mark.parametrize(
    ("last", "current", "year", "before"),
    [
        (
            "2025-12-31",
            ("2025-11-01", "2025-12-31"),
            ("2024-11-01", "2024-12-31"),
            ("2025-09-01", "2025-10-31"),
        ),
        (
            "2025-03-15",
            ("2025-01-01", "2025-02-28"),
            ("2024-01-01", "2024-02-29"),
            ("2024-11-01", "2024-12-31"),
        ),
        (
            "2024-02-29",
            ("2024-01-01", "2024-02-29"),
            ("2023-01-01", "2023-02-28"),
            ("2023-11-01", "2023-12-31"),
        ),
    ],
)
def test_default_periods_are_the_last_two_full_months(last, current, year, before):
    got = default_periods(pd.Timestamp(last))
    for p, (a, b) in zip(got, (current, year, before), strict=True):
        assert (p.start, p.end) == (pd.Timestamp(a), pd.Timestamp(b))


def test_period_labels_and_day_references():
    assert Period("2025-11-01", "2025-12-31").label == "novembre – décembre 2025"
    assert Period("2025-12-01", "2026-01-31").label == "décembre 2025 – janvier 2026"
    refs = reference_periods(Period("2025-03-10", "2025-03-20"))
    assert (refs["precedente"].start, refs["precedente"].end) == (
        pd.Timestamp("2025-02-27"),
        pd.Timestamp("2025-03-09"),
    )
    assert refs["annee"].start == pd.Timestamp("2024-03-10")
    with pytest.raises(PeriodError, match="inversez"):
        Period("2025-03-20", "2025-03-10")


def test_rate_ratio_test_matches_scipy_binomtest():
    k1, k0 = np.array([30, 12, 7, 0, 50]), np.array([10, 12, 0, 4, 61])
    res = rate_ratio_test(k1, k0, days_current=61, days_reference=61)
    for i in range(len(k1)):
        bt = stats.binomtest(int(k1[i]), int(k1[i] + k0[i]), 0.5)
        ci = bt.proportion_ci(0.95, method="exact")
        assert_allclose(res["p_valeur"][i], bt.pvalue, rtol=1e-9)  # symmetric null: same two-sided p
        lo = ci.low / (1 - ci.low)
        hi = np.inf if ci.high == 1 else ci.high / (1 - ci.high)
        assert_allclose([res["ic_bas"][i], res["ic_haut"][i]], [lo, hi], rtol=1e-9)
    assert res["rapport"][0] == 3.0 and np.isinf(res["rapport"][2]) and res["rapport"][3] == 0.0


def test_rate_ratio_uses_the_period_lengths():
    res = rate_ratio_test([20], [20], days_current=30, days_reference=60)
    assert res["rapport"][0] == pytest.approx(2.0)
    assert res["p_valeur"][0] == pytest.approx(
        min(1, 2 * min(stats.binom.cdf(20, 40, 1 / 3), stats.binom.sf(19, 40, 1 / 3)))
    )
    assert res["p_valeur"][0] < 0.05
    assert rate_ratio_test([0], [0])["p_valeur"].isna().all()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 400), st.integers(0, 400), st.integers(20, 120), st.integers(20, 120))
def test_interval_excludes_one_exactly_when_significant(k1, k0, t1, t0):
    r = rate_ratio_test([k1], [k0], days_current=t1, days_reference=t0).iloc[0]
    if k1 + k0 == 0:
        assert np.isnan(r["p_valeur"])
        return
    excludes = (r["ic_bas"] > 1) or (r["ic_haut"] < 1)
    if abs(r["p_valeur"] - 0.05) > 1e-9 and min(abs(r["ic_bas"] - 1), abs(r["ic_haut"] - 1)) > 1e-9:
        assert excludes == (r["p_valeur"] < 0.05)
    assert r["ic_bas"] <= r["rapport"] <= r["ic_haut"]


def test_benjamini_hochberg_by_hand():
    q = fdr_from_pvalues(np.array([0.01, 0.04, 0.03, 0.005, np.nan]))
    assert_allclose(q[:4], [0.02, 0.04, 0.04, 0.02])
    assert np.isnan(q[4])


def test_comparison_flags_only_significant_published_changes():
    cur = pd.Series({"A": 200, "B": 100, "C": 3, "D": 40, "E": 0})
    ref = pd.Series({"A": 100, "B": 100, "C": 30, "D": 41, "E": 0})
    t = comparison_from_counts(
        cur,
        ref,
        days_current=61,
        days_reference=61,
        labels={"A": "Ville A"},
        universe=pd.Index(list("ABCDEF")),
    ).set_index("cle")
    assert t.loc["A", "sens"] == "hausse" and t.loc["A", "significatif"]
    assert t.loc["A", "libelle"] == "Ville A"
    assert not t.loc["B", "significatif"] and t.loc["B", "sens"] == "stable"
    # C fell from 30 to 3, which would be significant, but 3 is a secret count.
    assert t.loc["C", "secret"] and not t.loc["C", "significatif"]
    assert t.loc["F", "faits"] == 0 and np.isnan(t.loc["F", "p_valeur"])
    pub = published_comparison(t.reset_index()).set_index("libelle")
    assert (pub.loc["C", ["faits", "faits_reference", "evolution"]] == "secret").all()
    assert pub.loc["Ville A", "faits"] == 200
    # Secondary secrecy: with C hidden, the smallest other positive count of its column goes too.
    assert t["secret"].sum() >= 2


def test_comparison_lists_significant_first():
    cur = pd.Series({"a": 50, "b": 400, "c": 52})
    ref = pd.Series({"a": 50, "b": 200, "c": 48})
    t = comparison_from_counts(cur, ref, days_current=10, days_reference=10)
    assert t["cle"].iloc[0] == "b"


@pytest.fixture(scope="module")
def planted(communes53):
    """Two years of incidents; in November-December 2025 one commune triples."""
    rng = np.random.default_rng(3)
    com = communes53.set_index("code")
    codes = ["53130", "53062", "53147"]  # Laval, Château-Gontier-sur-Mayenne, Mayenne
    rows = []
    for code in codes:
        pt = com.loc[code, "geometry"].representative_point()
        for day in pd.date_range("2024-01-01", "2025-12-31"):
            rate = 3.0 if code == "53147" and day >= pd.Timestamp("2025-11-01") else 1.0
            for _ in range(rng.poisson(rate)):
                rows.append((day + pd.Timedelta(hours=int(rng.integers(24))), code, pt.x, pt.y))
    df = pd.DataFrame(rows, columns=[m.START, m.COMMUNE, "x", "y"])
    df[m.OFFENCE] = "Vols sans violence contre des personnes"
    df[m.FORCE] = np.where(df[m.COMMUNE] == "53130", "PN", "GN")
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.x, df.y), crs=communes53.crs)


def test_followup_finds_the_planted_rise(planted, communes53):
    current, year, before = default_periods(pd.Timestamp("2025-12-31"))
    fu = followup_from_incidents(
        planted, current=current, references={"annee": year, "precedente": before}, communes=communes53
    )
    com = fu.tables[("annee", "commune")].set_index("cle")
    assert com.loc["53147", "sens"] == "hausse"
    assert com.loc["53147", "rapport"] == pytest.approx(3.0, rel=0.25)
    assert not com.loc["53130", "significatif"] and not com.loc["53062", "significatif"]
    assert len(com) == len(communes53)  # every commune reported
    assert fu.tables[("precedente", "force")].set_index("cle").loc["GN", "sens"] == "hausse"
    tot = fu.totals.set_index("reference")
    assert tot.loc["annee", "faits"] == int(current.mask(planted[m.START]).sum())
    assert tot.loc["annee", "significatif"] and not tot.loc["annee", "secret"]
    few = planted[planted[m.COMMUNE] == "53062"].iloc[::40]  # a handful of incidents per period
    fu_few = followup_from_incidents(
        few, current=current, references={"annee": year, "precedente": before}, communes=communes53
    )
    assert fu_few.totals["secret"].any()
    assert ("annee", "zone") not in fu.tables  # no zones given


def test_incidents_in_zones_get_the_zone_id():
    zones = gpd.GeoDataFrame(
        {"id": ["z1", "z2"], "rang": [1, 2], "communes": ["A", "B"]},
        geometry=[shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 10)],
        crs=2154,
    )
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([5, 25, 50, 1], [5, 5, 5, 9]), crs=2154)
    keys = keys_for_incidents(pts, "zone", zones=zones)
    assert keys.tolist()[:2] == ["z1", "z2"] and pd.isna(keys.iloc[2]) and keys.iloc[3] == "z1"
    with pytest.raises(ValueError, match="Dimension inconnue"):
        keys_for_incidents(pts, "rue")


def test_references_the_data_do_not_cover_are_left_out(planted, communes53):
    current = Period("2024-03-01", "2024-04-30")
    fu = followup_from_incidents(
        planted, current=current, references=reference_periods(current), communes=communes53
    )
    assert list(fu.skipped) == ["annee"] and list(fu.references) == ["precedente"]
    assert list(fu.totals["reference"]) == ["precedente"]
    early = Period("2024-01-01", "2024-02-29")
    with pytest.raises(PeriodNotCoveredError, match="aucune période de référence"):
        followup_from_incidents(
            planted, current=early, references=reference_periods(early), communes=communes53
        )
    late = Period("2026-01-01", "2026-02-28")
    with pytest.raises(PeriodNotCoveredError, match="doit être comprise"):
        followup_from_incidents(
            planted, current=late, references=reference_periods(late), communes=communes53
        )


def test_a_filter_does_not_shrink_the_period_the_data_cover(planted, communes53):
    # One commune filtered in, whose incidents start only in 2025: before that it had none
    # (the data set covers 2024), so the year-earlier comparison is real, not missing data.
    late = planted[(planted[m.COMMUNE] == "53147") & (planted[m.START] >= "2025-01-01")]
    current, year, before = default_periods(pd.Timestamp("2025-12-31"))
    refs = {"annee": year, "precedente": before}
    alone = followup_from_incidents(late, current=current, references=refs, communes=communes53)
    assert list(alone.skipped) == ["annee"]  # from the filtered incidents alone: looks uncovered
    covered = Period(planted[m.START].min(), planted[m.START].max())
    fu = followup_from_incidents(late, current=current, references=refs, communes=communes53, covered=covered)
    assert fu.skipped == {} and list(fu.totals["reference"]) == ["annee", "precedente"]
    assert fu.totals.set_index("reference").loc["annee", "faits_reference"] == 0


def test_change_classes_for_maps():
    from analysis.rate_tests import change_classes_from_comparison

    cur = pd.Series({"a": 400, "b": 3, "c": 50})
    ref = pd.Series({"a": 100, "b": 40, "c": 52})
    t = comparison_from_counts(cur, ref, days_current=30, days_reference=30)
    keys = pd.Index(["a", "b", "c", "z"])  # "z": no incident at all, not in the table
    c_secret = bool(t.set_index("cle").loc["c", "secret"])  # secondary suppression may hide it
    expected = ["hausse", "secret", "secret" if c_secret else "stable", "stable"]
    assert change_classes_from_comparison(t, keys).tolist() == expected
    # Shown to the analyst: the secret commune is not flagged although it fell from 40 to 3.
    assert change_classes_from_comparison(t, keys, hide_secret=False)[1] == "stable"


def test_the_change_map_goes_to_the_epci_when_the_communes_are_secret(synthetic53, communes53):
    """In the published view, a follow-up whose communes are mostly secret (burglaries over two
    months) is mapped by EPCI (their counts publish) and the note says why; the internal view
    stays by commune; asked for, either level is drawn; every unit of the map has a class."""
    import datetime as dt

    from core.model import IncidentFilter
    from core.privacy import Audience
    from usecases.suivi import change_map_for, followup_for_selection

    data = followup_for_selection(
        synthetic53.incidents,
        communes53,
        IncidentFilter(offences=("Cambriolages de logement",)),
        start=dt.date(2025, 11, 1),
        end=dt.date(2025, 12, 31),
        crs="EPSG:2154",
    )
    from geo.communes import display_geometry_from_communes, geometry_by_group

    geometry = display_geometry_from_communes(communes53)
    epci = geometry_by_group(
        gpd.GeoDataFrame(geometry=geometry.to_numpy(), crs=4326), communes53["epci_code"]
    )
    by_commune = data.published.tables[("annee", "commune")]
    touched = by_commune[(by_commune["faits"] > 0) | (by_commune["faits_reference"] > 0)]
    assert touched["secret"].mean() > 0.5  # the case: most communes touched are secret
    public = change_map_for(data, communes53, geometry, epci, reference="annee", audience=Audience.public())
    assert public.level == "epci" and "secret statistique" in public.note
    assert len(public.units) == communes53["epci_code"].nunique()
    assert len(public.classes) == len(public.units) == len(public.display_geometry)
    assert set(public.classes) <= {"hausse", "baisse", "stable", "secret"}
    internal = change_map_for(
        data, communes53, geometry, epci, reference="annee", audience=Audience.internal()
    )
    assert internal.level == "commune" and not (internal.classes == "secret").any()
    asked = change_map_for(
        data, communes53, geometry, epci, reference="annee", audience=Audience.public(), level="commune"
    )
    assert asked.level == "commune" and (asked.classes == "secret").any()
