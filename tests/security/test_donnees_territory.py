"""The Données use case decides on every read and action (territory, capability), and audits.

Data sets and statistics are saved in this test's own ``tmp_path``; the viewers are built here.
"""

from __future__ import annotations

import pandas as pd
import pytest

from core.access import ADMIN, ANALYST, PREFET, Viewer
from data.access import AccessStore
from data.profiles import MappingProfile, ProfileStore
from data.store import DatasetStore, StatisticsStore
from usecases import donnees as uc
from usecases.common import RefusedError

ANALYST_53 = Viewer(role=ANALYST, identity="a53@prefecture.test", departements=("53",))
PREFET_53 = Viewer(role=PREFET, identity="p53@prefecture.test", departements=("53",))
ADMIN_ALL = Viewer(role=ADMIN, identity="admin@prefecture.test")


@pytest.fixture
def world(tmp_path, synthetic53):
    store = DatasetStore(tmp_path / "datasets")
    sample = synthetic53.incidents.head(30)
    own = store.save(sample, name="Mayenne", source_file="m.csv", departement="53")
    other = store.save(sample, name="Sarthe", source_file="s.csv", departement="72")
    return store, AccessStore(tmp_path / "acces.sqlite"), own.slug, other.slug


def _refusals(journal: AccessStore) -> list[tuple[str, str]]:
    log = journal.journal()
    return list(
        zip(log.loc[log["etat"] == "refus", "action"], log.loc[log["etat"] == "refus", "objet"], strict=True)
    )


def test_a_viewer_sees_only_their_departements_data_sets(world):
    store, _, own, other = world
    assert [i.slug for i in uc.datasets_for_viewer(store, ANALYST_53)] == [own]
    assert {i.slug for i in uc.datasets_for_viewer(store, ADMIN_ALL)} == {own, other}


def test_reading_deleting_reclassifying_another_departement_is_refused_and_audited(world):
    store, journal, own, other = world
    with pytest.raises(RefusedError, match="territoire"):
        uc.history_for_viewer(store, other, ANALYST_53, journal)
    with pytest.raises(RefusedError):
        uc.delete_dataset(store, other, viewer=ANALYST_53, journal=journal)
    offences, places = uc.label_review(store.load(own))
    with pytest.raises(RefusedError):
        uc.reclassify_for_viewer(store, other, offences, places, viewer=ANALYST_53, journal=journal)
    assert store.exists(other)
    assert [a for a, o in _refusals(journal) if o == other] == [
        "reclassement",
        "suppression",
        "lecture",
    ]  # newest first


def test_a_prefet_may_read_but_not_change(world):
    store, journal, own, _ = world
    assert len(uc.history_for_viewer(store, own, PREFET_53, journal))
    with pytest.raises(RefusedError, match="rôle"):
        uc.delete_dataset(store, own, viewer=PREFET_53, journal=journal)
    assert store.exists(own)


def test_own_deletion_and_reclassification_are_audited(world):
    store, journal, own, _ = world
    offences, places = uc.label_review(store.load(own))
    uc.reclassify_for_viewer(store, own, offences, places, viewer=ANALYST_53, journal=journal)
    uc.delete_dataset(store, own, viewer=ANALYST_53, journal=journal)
    log = journal.journal()
    done = list(
        zip(log.loc[log["etat"] == "fait", "action"], log.loc[log["etat"] == "fait", "objet"], strict=True)
    )
    assert ("reclassement", own) in done and ("suppression", own) in done
    assert not store.exists(own)


def _statistics(codes: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"niveau": "commune", "code": codes, "indicateur": "Cambriolages de logement", "nombre": 12.0}
    )


def test_statistics_covering_other_departements_need_a_covering_territory(tmp_path):
    store, journal = StatisticsStore(tmp_path / "stats"), AccessStore(tmp_path / "acces.sqlite")
    both = _statistics(["53130", "72181"])
    with pytest.raises(RefusedError, match="hors de votre territoire"):
        uc.save_statistics(
            store, both, name="b", filename="b.csv", kind="communale", viewer=ANALYST_53, journal=journal
        )
    info = uc.save_statistics(
        store, both, name="b", filename="b.csv", kind="communale", viewer=ADMIN_ALL, journal=journal
    )
    mine = uc.save_statistics(
        store,
        _statistics(["53130"]),
        name="m",
        filename="m.csv",
        kind="communale",
        viewer=ANALYST_53,
        journal=journal,
    )
    shown = uc.statistics_table_for_viewer(store, ANALYST_53)
    assert set(shown["slug"]) == {info.slug, mine.slug}  # both have rows of the 53
    assert (
        set(
            uc.statistics_table_for_viewer(store, Viewer(role=ANALYST, identity="x", departements=("01",)))[
                "slug"
            ]
        )
        == set()
    )
    with pytest.raises(RefusedError):
        uc.delete_statistics(store, info.slug, viewer=ANALYST_53, journal=journal)
    uc.delete_statistics(store, mine.slug, viewer=ANALYST_53, journal=journal)
    assert store.exists(info.slug) and not store.exists(mine.slug)
    rows = uc.statistics_rows_for_viewer(both, ANALYST_53)
    assert list(rows["code"]) == ["53130"]


def test_profiles_are_audited_and_need_the_import_capability(tmp_path):
    profiles, journal = ProfileStore(tmp_path / "profils"), AccessStore(tmp_path / "acces.sqlite")
    profile = MappingProfile(name="Export GN", columns=["a"], mapping={}, offence_labels={}, place_labels={})
    with pytest.raises(RefusedError):
        uc.save_profile(profiles, profile, viewer=PREFET_53, journal=journal)
    saved = uc.save_profile(profiles, profile, viewer=ANALYST_53, journal=journal)
    uc.rename_profile(profiles, saved.slug, "Export GN 53", viewer=ANALYST_53, journal=journal)
    uc.delete_profile(profiles, saved.slug, viewer=ANALYST_53, journal=journal)
    log = journal.journal()
    assert {"profil enregistré", "profil renommé", "profil supprimé"} <= set(
        log.loc[log["etat"] == "fait", "action"]
    )
    assert not profiles.list()
