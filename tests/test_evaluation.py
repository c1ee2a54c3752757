"""Evaluation of an action: WDD and WDQ on hand-worked cases, the null, a planted displacement."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import shapely

from analysis.evaluation import AREAS, evaluation_from_counts, wdd_from_counts, wdq_from_counts
from core import model as m
from core.crs import metric_crs_for_departement
from core.model import IncidentFilter
from core.privacy import Audience
from usecases import evaluation as uc


def test_wdd_hand_worked_shared_control():
    # Target 50 -> 30, buffer 40 -> 44, control 100 -> 110.
    # WDD = (30-50) + (44-40) - 2 (110-100) = -20 + 4 - 20 = -36
    # Var = 50+30+40+44 + 4 (100+110) = 164 + 840 = 1004; z = -36 / sqrt(1004) = -1.13615
    r = wdd_from_counts((50, 30), (40, 44), (100, 110))
    assert float(r.wdd) == -36
    assert float(r.variance) == 1004
    assert float(r.z) == pytest.approx(-36 / np.sqrt(1004))
    assert float(r.z) == pytest.approx(-1.13615, abs=1e-5)
    assert float(r.p_value) == pytest.approx(0.25589, abs=1e-4)  # 2 (1 - Phi(1.13615))
    assert float(r.ci_low) == pytest.approx(-36 - 1.959964 * np.sqrt(1004))


def test_wdd_hand_worked_separate_controls():
    # Wheeler & Ratcliffe's form: WDD = dT - dCt + dD - dCd, Var = sum of the eight counts.
    r = wdd_from_counts((60, 40), (30, 35), (80, 85), buffer_control=(70, 70))
    assert float(r.wdd) == (40 - 60) - (85 - 80) + (35 - 30) - (70 - 70)  # -20
    assert float(r.variance) == 60 + 40 + 30 + 35 + 80 + 85 + 70 + 70


def test_wdq_hand_worked_and_readings():
    # Target 200 -> 120, buffer 150 -> 165, control 400 -> 400:
    # success = 120/400 - 200/400 = -0.2 ; buffer = 165/400 - 150/400 = 0.0375 ; WDQ = -0.1875.
    r = wdq_from_counts((200, 120), (150, 165), (400, 400))
    assert r.success == pytest.approx(-0.2) and r.buffer_change == pytest.approx(0.0375)
    assert r.wdq == pytest.approx(-0.1875) and r.reading == "deplacement"
    assert wdq_from_counts((200, 120), (150, 120), (400, 400)).reading == "diffusion"
    assert wdq_from_counts((200, 120), (150, 300), (400, 400)).reading == "deplacement_net"  # WDQ = -1.875
    assert wdq_from_counts((200, 180), (150, 20), (400, 400)).reading == "diffusion_forte"
    assert wdq_from_counts((200, 120), (150, 153), (400, 400)).reading == "neutre"  # +2 %
    assert wdq_from_counts((100, 130), (150, 165), (400, 400)).reading == "sans_baisse"
    assert wdq_from_counts((100, 60), (0, 5), (400, 400)).reading == "indetermine"


def test_wdd_null_rejects_five_percent_of_20000_cases():
    """Every area Poisson with the same additive change, expected counts >= 20."""
    rng = np.random.default_rng(20260)
    n = 20_000
    base = rng.uniform(35.0, 300.0, size=(3, n))
    change = rng.uniform(-15.0, 15.0, size=n)  # the same for the three areas
    before = rng.poisson(base)
    after = rng.poisson(base + change)
    r = wdd_from_counts((before[0], after[0]), (before[1], after[1]), (before[2], after[2]))
    rate = float(np.mean(r.p_value < 0.05))
    assert 0.04 <= rate <= 0.06, rate


def test_planted_displacement_is_found_and_read():
    """Target 200 -> 120 (-40 %), buffer 150 -> 165 (+10 %), control 400 -> 400 (expected values)."""
    counts = pd.DataFrame({"avant": [200, 150, 400], "apres": [120, 165, 400]}, index=list(AREAS))
    ev = evaluation_from_counts(counts)
    assert ev.changes.loc["cible", "rapport"] == pytest.approx(0.6)
    assert ev.changes.loc["cible_vs_temoin", "p_valeur"] < 0.001  # the drop is found
    assert ev.wdq.reading == "deplacement"
    assert float(ev.wdd.wdd) == -65
    # With Poisson noise around those means, the drop is found nearly always and the buffer's rise
    # is read as displacement more often than not (it is a 10 % rise on 150).
    rng = np.random.default_rng(4)
    found = reads = 0
    for _ in range(200):
        draw = pd.DataFrame(
            {"avant": rng.poisson([200, 150, 400]), "apres": rng.poisson([120, 165, 400])}, index=list(AREAS)
        )
        e = evaluation_from_counts(draw)
        found += e.changes.loc["cible_vs_temoin", "p_valeur"] < 0.05
        reads += e.wdq.reading.startswith("deplacement")
    assert found / 200 > 0.9
    assert reads / 200 > 0.6


def test_windows_and_errors():
    w = uc.windows_from_start(dt.date(2025, 3, 1), days=90, gap_days=14)
    assert w.before_end == dt.date(2025, 2, 28) and w.days == 90
    assert w.after_start == dt.date(2025, 3, 15) and (w.after_end - w.after_start).days + 1 == 90
    with pytest.raises(uc.EvaluationError, match="au moins 7 jours"):
        uc.windows_from_start(dt.date(2025, 3, 1), days=3)


@pytest.fixture(scope="module")
def laval(communes53):
    crs = metric_crs_for_departement("53")
    communes = communes53.to_crs(crs)
    centre = communes.loc[communes["code"] == "53130"].geometry.iloc[0].centroid
    return communes, crs, centre


def test_usecase_counts_match_a_direct_count(synthetic53, laval):
    communes, crs, centre = laval
    target = centre.buffer(800)
    areas = uc.evaluation_areas(
        target, communes, target_label="centre de Laval", buffer_m=400, control="epci"
    )
    assert areas.buffer.intersection(target).area < 1e-3
    assert areas.control.intersection(target.buffer(400)).area < 1e-3
    windows = uc.windows_from_start(dt.date(2024, 6, 1), days=120, gap_days=0)
    view = uc.evaluation_for_selection(
        synthetic53.incidents, IncidentFilter(), areas, windows, crs=crs, audience=Audience.internal()
    )
    inc = synthetic53.incidents
    pts = inc.geometry.to_crs(crs)
    day = inc[m.START].dt.normalize()
    before = (day >= "2024-02-02") & (day <= "2024-05-31")
    in_target = shapely.contains_xy(target, pts.x.to_numpy(), pts.y.to_numpy())
    assert view.evaluation.counts.loc["cible", "avant"] == int((before & in_target).sum())
    assert view.monthly["faits"].sum() >= view.evaluation.counts.to_numpy().sum()
    assert view.figures and not view.withheld
    assert "WDD" in view.reading
    # Saved record and its report rows.
    title, rows = uc.record_rows(view.record)
    assert "centre de Laval" in title and rows[0][0] == "Zone"


def test_usecase_refuses_windows_outside_the_data(synthetic53, laval):
    communes, crs, centre = laval
    areas = uc.evaluation_areas(centre.buffer(500), communes, target_label="x", buffer_m=300)
    with pytest.raises(uc.EvaluationError, match="après le dernier fait"):
        uc.evaluation_for_selection(
            synthetic53.incidents,
            IncidentFilter(),
            areas,
            uc.windows_from_start(dt.date(2025, 12, 1), days=90),
            crs=crs,
            audience=Audience.internal(),
        )


def test_published_view_withholds_small_counts(synthetic53, laval):
    communes, crs, centre = laval
    flt = IncidentFilter(offences=("Violences sexuelles",))
    areas = uc.evaluation_areas(
        centre.buffer(150), communes, target_label="petite cible", buffer_m=100, control="commune"
    )
    windows = uc.windows_from_start(dt.date(2024, 6, 1), days=30)
    internal = uc.evaluation_for_selection(
        synthetic53.incidents, flt, areas, windows, crs=crs, audience=Audience.internal()
    )
    counts = internal.evaluation.counts.to_numpy()
    assert (counts <= 5).any(), counts
    public = uc.evaluation_for_selection(
        synthetic53.incidents, flt, areas, windows, crs=crs, audience=Audience.public()
    )
    assert public.withheld and not public.figures
    shown = set(public.counts[["avant", "apres"]].to_numpy().ravel())
    assert shown == {"secret"}
    assert not ((public.monthly["faits"] > 0) & (public.monthly["faits"] <= 5)).any()
    _, rows = uc.record_rows(public.record)
    assert "Non diffusable" in rows[1][0]


def test_control_options_and_errors(laval):
    communes, _, centre = laval
    target = centre.buffer(500)
    a_commune = uc.evaluation_areas(target, communes, target_label="t", buffer_m=300, control="commune")
    a_epci = uc.evaluation_areas(target, communes, target_label="t", buffer_m=300, control="epci")
    a_dep = uc.evaluation_areas(target, communes, target_label="t", buffer_m=300, control="departement")
    assert a_commune.control.area < a_epci.control.area < a_dep.control.area
    drawn = centre.buffer(5000).difference(centre.buffer(3000))
    a_drawn = uc.evaluation_areas(
        target, communes, target_label="t", buffer_m=300, control="dessin", control_geometry=drawn
    )
    assert a_drawn.control.area == pytest.approx(drawn.area)
    with pytest.raises(uc.EvaluationError, match="tampon"):
        uc.evaluation_areas(target, communes, target_label="t", buffer_m=0)
    with pytest.raises(uc.EvaluationError, match="hors du département"):
        uc.evaluation_areas(shapely.Point(0, 0).buffer(10), communes, target_label="t", buffer_m=10)
    with pytest.raises(uc.EvaluationError, match="vide"):
        uc.evaluation_areas(
            target, communes, target_label="t", buffer_m=300, control="dessin", control_geometry=target
        )
