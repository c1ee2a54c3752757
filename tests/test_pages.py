"""Every page runs without exception under Streamlit's AppTest (st_folium is not rendered)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import data.locations
import data.national
import data.profiles
import data.store
import ui.access
import ui.cache
from data.default_dataset import ensure_default_dataset
from tests.tooling import NATIONAL_SECRET, isolated_settings


@pytest.fixture(autouse=True)
def isolated_workspace(tmp_path, monkeypatch):
    # The workspace, audit log and national results of these runs, not the real ones.
    isolated_settings(monkeypatch, workspace_dir=tmp_path / "ws")
    ensure_default_dataset()
    yield
    ui.cache.dataset.clear()
    ui.cache.official_statistics.clear()
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()


def _run(page: str = "app_pages/diagnostic.py") -> AppTest:
    # Pages are run directly: AppTest loses the sidebar on reruns under st.navigation.
    at = AppTest.from_file(f"../{page}", default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def test_app_entry_point_runs():
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.run()
    assert not at.exception
    assert "Diagnostic territorial" in at.title[0].value


def test_every_page_is_in_the_navigation():
    """A page file missing from ``st.navigation`` is unreachable for users."""
    root = Path(__file__).resolve().parents[1]
    entry = (root / "app.py").read_text(encoding="utf-8")
    # Files starting with « _ » are sections shared by a page, not pages.
    pages = sorted(p.name for p in (root / "app_pages").glob("*.py") if not p.name.startswith("_"))
    assert pages, "no page found"
    missing = [name for name in pages if f'"app_pages/{name}"' not in entry]
    assert missing == []


def test_diagnostic_page_runs():
    at = _run()
    assert "Diagnostic territorial" in at.title[0].value
    assert any("synthétiques" in w.value for w in at.warning)  # the synthetic notice
    labels = [m.label for m in at.metric]
    assert "Faits" in labels and "Pour 1 000 habitants" in labels
    assert len(at.dataframe) == 1  # the ranking; the charts' tabs are drawn when chosen
    assert at.sidebar.selectbox[0].value == "53"
    at.session_state["diag_charts"] = "Profil des mis en cause"
    at.run()
    assert len(at.dataframe) == 2 and not at.exception  # ranking and offender profile


def test_diagnostic_filters_change_figures():
    at = _run()
    before = next(m.value for m in at.metric if m.label == "Faits")
    at.sidebar.multiselect(key="w_offences").set_value(["Cambriolages de logement"]).run()
    after = next(m.value for m in at.metric if m.label == "Faits")
    assert before != after
    assert not at.exception


def test_public_view_off_still_runs():
    at = _run()
    gated = "Effectifs de 1 à"
    assert any(gated in c.value for c in at.caption)  # the published view says it hides counts
    at.sidebar.toggle(key="w_public_view").set_value(False).run()
    # ui.guard turns an exception into st.error: both must be empty, and the view internal.
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert not any(gated in c.value for c in at.caption)
    assert at.metric and at.dataframe


def test_donnees_page_runs():
    at = _run("app_pages/donnees.py")
    assert at.title[0].value == "Données"
    assert any("Aucun jeu importé" in c.value for c in at.caption)


def test_other_departement_without_data_offers_generation(tmp_path, monkeypatch):
    generated = data.store.DatasetStore(tmp_path / "generes")  # generation writes here, not in cache/
    monkeypatch.setattr(data.locations, "default_store", lambda: generated)
    at = _run()
    at.sidebar.selectbox(key="w_departement").set_value("2A").run()
    assert not at.exception
    assert any("Aucun jeu de données" in i.value for i in at.sidebar.info)
    # Generating is a state change: audited (intent, then done), naming the département.
    next(b for b in at.sidebar.button if b.label == "Générer des faits synthétiques").click().run()
    assert not at.exception
    log = ui.access.access_store().journal()
    lines = log[log["action"] == "génération synthétique"]
    assert list(lines["etat"]) == ["fait", "intention"] and set(lines["objet"]) == {"2A"}


def test_diagnostic_official_statistics_view():
    from data.locations import statistics_store
    from readers.ssmsi import official_statistics_from_bytes
    from tests.test_ssmsi import OLD_COMMUNAL

    stats = official_statistics_from_bytes(OLD_COMMUNAL.encode(), "old.csv")
    statistics_store().save(stats.table, name="SSMSI test", source_file="old.csv", description=stats.kind)
    at = _run()
    at.button_group(key="diag_source").set_value("ssmsi").run()
    assert not at.exception, [e.value for e in at.exception]
    labels = {m.label: m.value for m in at.metric}
    assert labels["Communes publiées"] == "1 / 240"
    assert labels["Non diffusées"] == "1"
    assert any("Source : SSMSI" in c.value for c in at.caption)


def test_donnees_lists_saved_statistics():
    from data.locations import statistics_store
    from readers.ssmsi import official_statistics_from_bytes
    from tests.test_ssmsi import OLD_COMMUNAL

    stats = official_statistics_from_bytes(OLD_COMMUNAL.encode(), "old.csv")
    statistics_store().save(stats.table, name="SSMSI test", source_file="old.csv", description=stats.kind)
    at = _run("app_pages/donnees.py")
    assert any("Statistiques officielles" in h.value for h in at.subheader)
    assert len(at.dataframe) >= 1


def test_organisation_page_runs_indicative():
    at = _run("app_pages/organisation.py")
    assert "Organisation territoriale" in at.title[0].value
    assert any("indicative" in w.value for w in at.warning)
    assert len(at.dataframe) == 4  # units, communes, EPCI, cantons
    units = at.dataframe[0].value
    assert (units["force"] == "PN").sum() == 1 and (units["force"] == "GN").sum() >= 10
    # The Mayenne has a network (the demonstration's): times by road, said on the page.
    before = at.dataframe[1].value
    assert set(before["estimation"]) == {"route"}
    assert any(
        "Temps par la route" in c.value and "Réseau routier synthétique" in c.value for c in at.caption
    )
    at.number_input(key="speed").set_value(30).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    after = at.dataframe[1].value
    # The straight-line speed no longer sets the times: each road's own speed does.
    key = ["code"]
    merged = before.merge(after, on=key, suffixes=("_avant", "_apres"))
    assert (merged["temps_min_avant"] == merged["temps_min_apres"]).all()
    assert after["temps_min"].astype(float).between(0, 120).all()


@pytest.mark.parametrize("level", ["epci", "canton"])
def test_diagnostic_ranking_by_epci_and_canton(level):
    at = _run()
    at.button_group(key="diag_level").set_value(level).run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert ("EPCI" if level == "epci" else "Canton") in table.columns
    assert 5 <= len(table) <= 40


def test_zones_page_runs():
    at = _run("app_pages/zones.py")
    assert not at.exception, [e.value for e in at.exception]
    labels = {m.label: m.value for m in at.metric}
    assert "Zones" in labels
    assert "Taux de réussite (période suivante)" not in labels  # the default period is the last year
    # The public view (default) never shows an offence count from 1 to 5 in the zone table.
    table = next(d.value for d in at.dataframe if "rang" in d.value.columns)
    counts = table[[c for c in table.columns if c.startswith("n_")]].to_numpy().ravel()
    assert len(counts) and not any(isinstance(v, (int, np.integer)) and 1 <= v <= 5 for v in counts)
    assert any(v == "secret" for v in counts)


def test_zones_page_counts_incidents_per_street_segment_on_demand():
    at = _run("app_pages/zones.py")
    assert not any(m.label == "Faits sur une rue" for m in at.metric)  # not on the first render
    at.toggle(key="hs_on").set_value(True).run()
    assert not at.exception and not at.error, [e.value for e in at.exception]
    labels = {m.label: m.value for m in at.metric}
    assert labels["Tronçons qui concentrent la moitié des faits"].endswith("%")
    table = next(d.value for d in at.dataframe if "rue" in d.value.columns)
    assert len(table) and (table["faits"] > 5).all()  # the published view: segments above the threshold
    assert table["faits"].is_monotonic_decreasing
    assert any("Réseau routier synthétique" in c.value for c in at.caption)


def test_zones_page_evaluates_on_a_covered_period():
    import datetime as dt

    at = AppTest.from_file("../app_pages/zones.py", default_timeout=120)
    at.session_state["keep_period_defaut_defaut-mayenne-synthetique"] = (
        dt.date(2023, 1, 1),
        dt.date(2023, 12, 31),
    )
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    labels = {m.label: m.value for m in at.metric}
    assert "PAI (période suivante)" in labels
    assert int(labels["Zones"]) >= 1
    # The check against the planted hot spots belongs to the tests and the bench, not the page.
    assert not any("points chauds plantés" in c.value for c in at.caption)


def test_zones_page_emerging_hotspots():
    at = _run("app_pages/zones.py")
    at.toggle(key="e_on").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    cats = next(d.value for d in at.dataframe if "catégorie" in d.value.columns)
    assert set(cats["catégorie"]) >= {"nouveau", "persistant", "sporadique"}
    assert cats["cellules"].sum() > 0


def test_zones_page_too_few_incidents_says_so():
    import datetime as dt

    at = AppTest.from_file("../app_pages/zones.py", default_timeout=120)
    at.session_state["keep_period_defaut_defaut-mayenne-synthetique"] = (
        dt.date(2025, 6, 1),
        dt.date(2025, 6, 30),
    )
    at.session_state["keep_offences"] = ["Vols avec armes"]
    at.run()
    assert not at.exception
    assert any("Trop peu de faits" in e.value and "au moins 30" in e.value for e in at.error)


def test_videoprotection_page_runs():
    at = _run("app_pages/videoprotection.py")
    assert any("Calculer les emplacements" in i.value for i in at.info)  # nothing computed before the click
    at.button(key="v_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    labels = {m.label: m.value for m in at.metric}
    assert labels["Nouvelles caméras"] == "10"
    table = next(d.value for d in at.dataframe if "rang" in d.value.columns)
    assert (table["statut"] == "nouvelle").sum() == 10
    assert table["couverture_cumulee"].is_monotonic_increasing
    # The département has a network (the demonstration's): candidates on it by default, each
    # site named by its streets, and the page says which network it is.
    assert at.radio(key="v_source").value == "reseau"
    assert table["adresse"].str.contains("angle |Rue |D ", regex=True).mean() > 0.5, table["adresse"]
    assert any("Réseau routier synthétique" in c.value for c in at.caption)
    at.radio(key="v_source").set_value("maillage").run()
    at.button(key="v_go").click().run()
    at.number_input(key="v_radius").set_value(200).run()
    assert any("paramètres ont changé" in w.value for w in at.warning)  # stale results are not shown
    # Whole département: the 100 m lattice is kept near the incidents only (a camera elsewhere
    # sees nothing), so it stays fine; the caption gives the incident and site counts.
    caption = next(c.value for c in at.caption if "faits dans des lieux visibles" in c.value)
    n_sites = int(caption.split(";")[1].split("sites")[0].replace("\u00a0", "").replace("\u202f", ""))
    assert 1_000 < n_sites <= 25_000, caption
    raised = [c.value for c in at.caption if "Espacement porté" in c.value]
    assert not raised or int(raised[0].split("à ")[1].split(" m")[0]) < 150, raised
    # A 10 m radius on a 100 m lattice: most incidents have no site close enough; said in French.
    at.number_input(key="v_radius").set_value(10).run()
    assert any("aucun site candidat assez proche" in c.value for c in at.caption)
    at.radio(key="v_mode").set_value("cible").run()
    at.button(key="v_go").click().run()
    assert not at.exception and "inatteignable" in at.error[0].value
    at.number_input(key="v_radius").set_value(200).run()
    # One town, 100 m lattice: the target is reached.
    at.radio(key="v_area_kind").set_value("commune").run()
    at.selectbox(key="v_area_commune").set_value("53130").run()
    at.button(key="v_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    share = next(m.value for m in at.metric if m.label == "Demande couverte")
    assert int(share.rstrip("%")) >= 50
    assert next(m.value for m in at.metric if m.label == "Nombre de caméras") == "le plus petit possible"
    labels = {m.label for m in at.metric}
    assert not labels & {
        "Écart d'optimalité prouvé",
        "Temps de calcul",
    }  # plain words; details in an expander
    assert any(e.label == "Détails du calcul" for e in at.expander)
    # The public view (default) never shows a site adding 1 to 5 incidents, nor its share.
    table = next(d.value for d in at.dataframe if "rang" in d.value.columns)
    shown = table["faits"].tolist()
    assert not any(isinstance(v, (int, np.integer)) and 1 <= v <= 5 for v in shown)
    # 80 cameras of 50 m in Laval: the last ones add only a few incidents, so the tail is secret.
    at.radio(key="v_mode").set_value("budget").run()
    at.number_input(key="v_radius").set_value(50).run()
    at.number_input(key="v_limit").set_value(5).run()
    at.number_input(key="v_p").set_value(80).run()
    at.button(key="v_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = next(d.value for d in at.dataframe if "rang" in d.value.columns)
    shown = table["faits"].tolist()
    assert not any(isinstance(v, (int, np.integer)) and 1 <= v <= 5 for v in shown)
    first = shown.index("secret")
    assert first > 0 and (table["couverture_cumulee"].iloc[first:] == "secret").all()
    assert any("Courbe arrêtée avant" in c.value for c in at.caption)  # nor the curve
    assert any(e.label == "Méthode et limites" for e in at.expander)


def test_videoprotection_restricted_to_priority_zones():
    at = _run("app_pages/videoprotection.py")
    at.radio(key="v_area_kind").set_value("zones").run()
    at.button(key="v_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    caption = " ".join(c.value for c in at.caption)
    assert "zone(s) prioritaire(s)" in caption
    n_zone = int(caption.split(" faits dans des lieux visibles")[0].split()[-1])
    at.radio(key="v_area_kind").set_value("departement").run()
    caption = " ".join(c.value for c in at.caption)
    n_all = int(caption.split(" faits dans des lieux visibles")[0].split()[-1])
    assert 0 < n_zone < n_all


def test_suivi_page_runs_and_switches_views():
    at = _run("app_pages/suivi.py")
    values = [m.value for m in at.metric]
    assert len(values) == 3 and all(v.replace("\u00a0", "").replace("\u202f", "").isdigit() for v in values)
    assert any(m.label == "Faits — novembre – décembre 2025" for m in at.metric)
    table = at.dataframe[0].value
    assert list(table.columns[:4]) == ["Unité", "Faits", "Référence", "Évolution"]
    assert len(table) == 240  # every commune of the Mayenne
    # Public view: small counts say "secret", never a number from 1 to 5.
    small = table["Faits"].str.fullmatch(r"[1-5]")
    assert not small.any()
    at.radio(key="s_reference").set_value("precedente").run()
    at.selectbox(key="s_dimension").set_value("infraction").run()
    assert not at.exception and not at.error
    assert len(at.dataframe[0].value) >= 10
    at.selectbox(key="s_split").set_value("force").run()
    assert not at.exception and not at.error


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("2025-12-10", "aucune période de référence"),  # three weeks of data: nothing to compare with
        ("2025-03-01", "même période un an plus tôt"),  # ten months: the year before is not covered
    ],
)
def test_suivi_on_a_short_import_says_what_is_missing(start, message):
    from data.default_dataset import DEFAULT_SLUG
    from data.locations import default_store, workspace_store

    inc = default_store().load(DEFAULT_SLUG)
    short = inc[inc["date_debut"] >= start].reset_index(drop=True)
    info = workspace_store().save(short, name="Export court", source_file="court.csv", departement="53")
    at = AppTest.from_file("../app_pages/suivi.py", default_timeout=120)
    at.run()
    at.sidebar.selectbox(key="w_dataset_53").set_value(f"espace:{info.slug}").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(x.value for x in [*at.error, *at.info])
    assert message in shown.replace("\\", "")


def test_tables_get_french_headers_and_keep_their_column_names():
    import pandas as pd

    from ui.columns import column_config_from_frame

    frame = pd.DataFrame({"code": ["53130"], "taux_pour_mille": [1.0], "colonne_inconnue": [2]})
    config = column_config_from_frame(frame, code="Code EPCI")
    assert config["taux_pour_mille"]["label"] == "Faits pour 1 000 hab."
    assert config["code"] == "Code EPCI"  # overrides win
    assert "colonne_inconnue" not in config  # shown under its own name
    assert list(frame.columns) == ["code", "taux_pour_mille", "colonne_inconnue"]


def test_videoprotection_says_when_fewer_cameras_suffice():
    at = AppTest.from_file("../app_pages/videoprotection.py", default_timeout=120)
    at.session_state["keep_public_view"] = False  # the analyst's view: the village's counts are small
    at.run()
    at.radio(key="v_area_kind").set_value("commune").run()
    at.selectbox(key="v_area_commune").set_value("53027").run()  # Beaumont-Pied-de-Bœuf, a village
    at.radio(key="v_source").set_value("maillage").run()  # a node near every incident
    at.number_input(key="v_p").set_value(200).run()
    at.button(key="v_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    n_new = int(next(m.value for m in at.metric if m.label == "Nouvelles caméras"))
    assert 0 < n_new < 200
    assert any(f"{n_new} caméra(s) suffisent" in i.value for i in at.info)
    assert next(m.value for m in at.metric if m.label == "Demande couverte") == "100\u00a0%"


def test_donnees_label_review_and_profile():
    from data.profiles import profile_store
    from tests.test_label_review import FILE

    at = _run("app_pages/donnees.py")
    at.file_uploader(key="upload").upload("janvier.csv", FILE, "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    at.button[[b.label for b in at.button].index("Valider le fichier")].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(s.value == "Revue des libellés" for s in at.subheader)
    tables = [d.value for d in at.dataframe if "libellé" in d.value.columns]
    offences = next(t for t in tables if "RECELS" in set(t["libellé"]))
    assert offences["libellé"].iloc[0] == "RODEO MOTORISE" and offences["statut"].iloc[0] == "⚠ non reconnu"
    # One offence label and one place label are unknown.
    assert any(c.value.startswith("2 libellé(s) non reconnu(s)") for c in at.caption), [
        c.value for c in at.caption
    ]
    name = next(t for t in at.text_input if t.label.startswith("Enregistrer cette correspondance"))
    name.set_value("Export GN Mayenne").run()
    at.button[[b.label for b in at.button].index("Enregistrer le profil")].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [p.name for p in profile_store().list()] == ["Export GN Mayenne"]
    # Next month, same columns: the profile applies by itself.
    at2 = _run("app_pages/donnees.py")
    at2.file_uploader(key="upload").upload("fevrier.csv", FILE, "text/csv").run()
    at2.button[[b.label for b in at2.button].index("Valider le fichier")].click().run()
    assert any("Profil « Export GN Mayenne » appliqué" in c.value for c in at2.caption)


def test_donnees_keeps_only_the_preview_and_releases_the_file():
    from tests.test_label_review import FILE

    at = _run("app_pages/donnees.py")
    at.file_uploader(key="upload").upload("janvier.csv", FILE * 1, "text/csv").run()
    preview = at.session_state["raw"]
    assert type(preview).__name__ == "FilePreview" and len(preview.head) == 4  # not the parsed table
    at.button[[b.label for b in at.button].index("Valider le fichier")].click().run()
    assert "import_result" in at.session_state
    at.button[[b.label for b in at.button].index("Enregistrer le jeu de données")].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("enregistré (4 faits)" in s.value for s in at.success)
    assert "import_result" not in at.session_state  # released once saved


def test_suivi_evaluation_section_commune_target_keep_and_report():
    at = _run("app_pages/suivi.py")
    at.sidebar.toggle(key="w_public_view").set_value(False).run()
    at.segmented_control(key="s_mode").set_value("evaluation").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    # Default target: the first priority zone; switch to a commune (Laval).
    at.radio(key="ev_target_kind").set_value("commune").run()
    at.selectbox(key="ev_commune").set_value("53130").run()
    at.radio(key="ev_control").set_value("departement").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    text = " ".join(m.value for m in at.markdown)
    assert "WDD" in text and "Zone tampon" in text
    counts = at.dataframe[0].value
    assert list(counts.columns) == ["zone", "avant", "apres", "evolution", "ic_95", "p_valeur"]
    assert counts["zone"].tolist()[:3] == ["Zone cible", "Zone tampon", "Zone témoin"]
    labels = [m.label for m in at.metric]
    assert "Différence de déplacement pondérée (WDD)" in labels and "Quotient de déplacement (WDQ)" in labels
    # Windows outside the data: a French message, no traceback.
    at.number_input(key="ev_days").set_value(730).run()
    assert not at.exception
    assert at.error and "fenêtre" in at.error[0].value.lower()
    at.number_input(key="ev_days").set_value(90).run()
    assert not at.error
    # Keep it: it is listed, then offered to the report.
    at.button(key="ev_keep").click().run()
    assert not at.exception and not at.error
    assert any("commune de Laval" in m.value for m in at.markdown)
    at.segmented_control(key="s_mode").set_value("periodes").run()
    options = at.multiselect(key="s_report_evaluations").options
    assert len(options) == 1 and "commune de Laval" in options[0]


def test_suivi_evaluation_published_view_offers_no_keep_button():
    at = _run("app_pages/suivi.py")  # published view by default
    at.segmented_control(key="s_mode").set_value("evaluation").run()
    at.radio(key="ev_target_kind").set_value("commune").run()
    at.selectbox(key="ev_commune").set_value("53130").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert not [b for b in at.button if b.key == "ev_keep"]


def test_zones_page_default_and_automatic_methods():
    at = _run("app_pages/zones.py")
    assert at.selectbox(key="z_method").value == "recurrent"
    assert any("Méthode par défaut : les mailles récurrentes" in c.value for c in at.caption)
    at.selectbox(key="z_method").set_value("automatique").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(c.value.startswith("Méthode automatique : « ") for c in at.caption)


def test_zones_page_says_why_a_score_is_secret():
    at = _run("app_pages/zones.py")  # published view by default
    table = next(d.value for d in at.dataframe if "score" in d.value.columns)
    n_secret = int((table["score"].astype(str) == "secret").sum())
    assert n_secret > 0  # the demo's zones hold rare offences
    assert any(c.value.startswith(f"Score « secret » pour {n_secret} zone(s)") for c in at.caption)


def test_zones_page_shows_only_the_chosen_methods_settings():
    at = _run("app_pages/zones.py")
    labels = {n.label for n in at.number_input} | {t.label for t in at.text_input}
    assert "Part du territoire couverte (%)" in labels and "Mailles récurrentes : demi-vie (mois)" in labels
    assert at.text_input(key="z_share").value == "0,1"  # a decimal written the French way
    assert not labels & {
        "Rayon DBSCAN (m)",
        "Distance de voisinage Gi* (m)",
        "Excès local : rayon du disque (m)",
    }
    at.selectbox(key="z_method").set_value("dbscan").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = {n.label for n in at.number_input} | {t.label for t in at.text_input}
    assert {"Rayon DBSCAN (m)", "Faits minimum par noyau DBSCAN", "Faits minimum par zone"} <= labels
    assert "Part du territoire couverte (%)" not in labels
    at.selectbox(key="z_method").set_value("gi").run()
    assert {"Distance de voisinage Gi* (m)"} <= {n.label for n in at.number_input}
    assert any(s.label == "Confiance (après correction FDR)" for s in at.selectbox)


def test_zones_page_backtest_section():
    at = _run("app_pages/zones.py")
    assert not any("Ici, la méthode" in i.value for i in at.info)  # never on the first render
    at.session_state["bt_windows"] = 3  # three windows keep the test short
    at.toggle(key="bt_on").set_value(True).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(i.value.startswith("Ici, la méthode qui a le mieux prédit est") for i in at.info)
    summary = next(d.value for d in at.dataframe if "Rapport à la référence" in d.value.columns)
    assert summary["Méthode"].iloc[0] == "Mailles récurrentes" and len(summary) == 7
    assert any("fenêtres glissantes" in c.value for c in at.caption)
    # By street segment too (the département has a network), scored by length share.
    assert any(i.value.startswith("Par tronçon de rue : sur ") for i in at.info)
    streets = next(d.value for d in at.dataframe if "PAI (longueur)" in d.value.columns)
    assert [v.replace("\xa0", " ") for v in streets["Part de la longueur visée"]] == [
        "0,50 %",
        "1,0 %",
        "2,0 %",
        "5,0 %",
    ]


def test_zones_page_near_repeat_and_concentration_sections():
    at = _run("app_pages/zones.py")
    at.sidebar.toggle(key="w_public_view").set_value(False).run()
    at.toggle(key="nr_on").set_value(True).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(i.value.startswith("Après un cambriolage, le risque") for i in at.info)
    # Hand-typed bands: wrong ones get a French message.
    at.text_input(key="nr_distances").set_value("200 100").run()
    assert at.error and "croissants" in at.error[0].value
    at.text_input(key="nr_distances").set_value("50 150 300").run()
    assert not at.error
    at.toggle(key="cc_on").set_value(True).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    tables = [d.value for d in at.dataframe]
    concentration = next(t for t in tables if "gini_lieux" in t.columns)
    assert concentration.iloc[0]["infraction"] == "Ensemble"
    assert any("latitude" in t.columns for t in tables)  # internal view: the repeat places
    # Published view: no repeat-place list is sent.
    at.sidebar.toggle(key="w_public_view").set_value(True).run()
    assert not at.exception and not at.error
    assert not any("latitude" in d.value.columns for d in at.dataframe)


def _france() -> AppTest:
    """The France page inside the app's navigation (its links point at the other pages)."""
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.run()
    at.switch_page("app_pages/france.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def test_france_page_without_results_says_how_to_compute_them():
    at = _france()
    assert at.title[0].value == "France — tous les départements"
    assert any("make national" in i.value for i in at.info)


def _with_national(template) -> None:
    shutil.copytree(template, data.national.SETTINGS.national_data_dir.parent)


def test_france_page_table_measures_and_secret(national_template):
    _with_national(national_template)
    at = _france()
    table = at.dataframe[0].value.set_index("Département")
    assert sorted(table.index) == ["23", NATIONAL_SECRET, "90"]  # those with results (the map shows all 101)
    assert any("avec résultats (3)" in h.value for h in at.subheader)
    assert any("98 département" in c.value and "sans résultat" in c.value for c in at.caption)
    assert table.loc["90", "Faits (12 mois)"] > 5 and table.loc["90", "Ouvrir"] == "./?departement=90"
    assert pd.isna(table.loc[NATIONAL_SECRET, "Faits (12 mois)"])  # 3 incidents: secret
    assert table.loc[NATIONAL_SECRET, "Remarque"].startswith("secret statistique")
    for measure in ("evolution_annee", "evolution_precedente", "zones"):
        at.radio(key="fr_measure").set_value(measure).run()
        assert not at.exception and not at.error
    links = [el.proto for el in at.get("page_link")]
    assert [(p.label, p.page) for p in links] == [  # the Diagnostic is the default page: at the root
        ("Diagnostic — 23", ""),
        ("Zones prioritaires — 23", "zones"),
        ("Suivi bimestriel — 23", "suivi"),
    ]
    assert all(p.query_string == "departement=23" for p in links)


def test_a_link_sets_the_departement_and_offers_its_national_partition(national_template):
    _with_national(national_template)
    at = AppTest.from_file("../app_pages/diagnostic.py", default_timeout=120)
    at.query_params["departement"] = "90"
    at.run()
    assert not at.exception and not at.error
    assert at.sidebar.selectbox(key="w_departement").value == "90"
    assert "departement" not in at.query_params  # taken once: the sidebar decides afterwards
    datasets = at.sidebar.selectbox(key="w_dataset_90")
    assert datasets.value == "national:national-90" and "jeu national" in datasets.format_func(datasets.value)
    assert at.title[0].value.startswith("Diagnostic territorial — Territoire de Belfort")
    at.sidebar.selectbox(key="w_departement").set_value("53").run()
    assert at.sidebar.selectbox(key="w_departement").value == "53"


def test_a_link_outside_the_known_departements_is_ignored():
    at = AppTest.from_file("../app_pages/diagnostic.py", default_timeout=120)
    at.query_params["departement"] = "<script>"
    at.run()
    assert not at.exception and not at.error
    assert at.sidebar.selectbox(key="w_departement").value == "53"


def test_a_link_to_a_departement_outside_the_territory_falls_back(monkeypatch):
    import ui.sidebar
    from core.access import ANALYST, Viewer

    territory = Viewer(role=ANALYST, identity="a@prefecture.test", name="A", departements=("53", "72"))
    monkeypatch.setattr(ui.sidebar, "current_viewer", lambda: territory)
    at = AppTest.from_file("../app_pages/diagnostic.py", default_timeout=120)
    at.query_params["departement"] = "90"
    at.run()
    assert not at.exception and not at.error
    chooser = at.sidebar.selectbox(key="w_departement")
    assert chooser.value == "53" and chooser.options == ["53 – Mayenne", "72 – Sarthe"]


def test_a_french_decimal_field_reads_a_comma_and_says_what_is_wrong():
    """The share field of the Zones page: « 0,2 » and « 0.2 » are read alike; a word or a value
    out of range keeps the default and says why, in French."""
    from ui.inputs import parse_french_number

    assert parse_french_number("0,2") == parse_french_number(" 0.2 ") == 0.2
    assert parse_french_number("1\u202f234,5") == 1234.5
    assert parse_french_number("deux") is None and parse_french_number("1,2,3") is None
    at = _run("app_pages/zones.py")
    at.text_input(key="z_share").set_value("beaucoup").run()
    assert any("« beaucoup » n'est pas un nombre" in e.value for e in at.error)
    at.text_input(key="z_share").set_value("50").run()
    assert any("hors des bornes" in e.value and "entre 0,01 et 20" in e.value for e in at.error)
    at.text_input(key="z_share").set_value("0,2").run()
    assert not at.error and not at.exception


def test_the_zones_page_finds_its_analysis_and_map_computed_ahead(monkeypatch):
    """The Diagnostic asks for the Zones page's analysis and rendered map in the background;
    the page opened next computes neither (same cache keys as the page's)."""
    from collections import OrderedDict

    import ui.layer_map
    import ui.prefetch
    import usecases.zones

    monkeypatch.setattr(ui.prefetch, "IDLE_S", 0.0)
    monkeypatch.setattr(ui.prefetch, "_done", OrderedDict())
    ui.layer_map.clear_rendered()
    _run()  # the Diagnostic
    diagnostic = len(ui.layer_map.RENDERED)  # its own map
    ui.prefetch._worker.submit(lambda: None).result(timeout=180)  # the worker has finished
    assert len(ui.layer_map.RENDERED) == diagnostic + 1  # the zones map, rendered ahead
    analyses = []
    real = usecases.zones.zone_analysis_for_selection
    monkeypatch.setattr(
        usecases.zones, "zone_analysis_for_selection", lambda *a, **k: analyses.append(1) or real(*a, **k)
    )
    at = _run("app_pages/zones.py")
    assert analyses == [] and len(ui.layer_map.RENDERED) == diagnostic + 1
    assert "Zones" in {m.label for m in at.metric}


def _selection_in_words() -> None:
    """A page of one line: the sidebar's selection as the reports write it."""
    import streamlit as st

    from core.formatting import filter_description
    from ui.sidebar import current_context

    st.text(filter_description(current_context().flt, dates=False))


def test_the_sidebars_default_selection_is_every_offence():
    """« Toutes les infractions » of a data set without « Autre » is not « toutes sauf « Autre » »."""
    at = AppTest.from_function(_selection_in_words, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text[-1].value == "tous les faits"


def _kept_by_the_default_selection() -> None:
    """A page of one line: how many of three incidents of the period the sidebar's default
    selection keeps; one has no force (the import could not tell it), one no known place."""
    import pandas as pd
    import streamlit as st

    from core import model as m
    from core.model import filter_incidents
    from ui.sidebar import current_context

    flt = current_context().flt
    day = pd.Timestamp(flt.end)
    frame = pd.DataFrame(
        {
            m.START: [day, day, day],
            m.OFFENCE: ["Cambriolages de logement"] * 3,
            m.PLACE: ["domicile", None, "domicile"],
            m.FORCE: ["GN", "PN", None],
        }
    )
    st.text(str(len(filter_incidents(frame, flt))))


def test_the_default_selection_keeps_incidents_whose_force_is_unknown():
    """« Police et gendarmerie » (no force chosen) is every incident: the import leaves the force
    missing when neither the file, the unit nor the commune tells it, and such incidents were
    left out of every page without a word."""
    at = AppTest.from_function(_kept_by_the_default_selection, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text[-1].value == "3"
