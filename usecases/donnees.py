"""Données page: the tables of saved data sets and official statistics (the analyst's tool)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pandas as pd

from core.access import IMPORT, MAYOR, Viewer, departement_of_commune
from data.access import AccessStore
from data.append import DROP, KEEP, AppendResult, appended_with_identifiers, appended_without_identifiers
from data.locations import statistics_store, workspace_store
from data.profiles import MappingProfile, ProfileStore, profile_store
from data.store import DatasetInfo, DatasetStore
from readers.incidents import COORDINATE_MODES as COORDINATE_MODES  # for the page
from readers.incidents import FIELD_LABELS as FIELD_LABELS
from readers.incidents import (
    ImportResult,
    RawTable,
    incidents_from_table,
    mapping_from_columns,
    read_incident_file,
    template_csv_from_communes,
)
from readers.ssmsi import official_statistics_from_bytes
from usecases.common import refusal
from usecases.label_review import label_review, reclassify_dataset


def _moment(iso: str) -> pd.Timestamp | None:
    """An ISO time of the store as a time (the tables write it « 01/12/2026 09:00 »)."""
    try:
        return pd.Timestamp(iso)
    except (TypeError, ValueError):
        return None


DATASET_COLUMNS: dict[str, Callable[[DatasetInfo], object]] = {
    "nom": lambda i: i.name,
    "département": lambda i: i.departement,
    "fichier source": lambda i: i.source_file,
    "importé le": lambda i: _moment(i.imported_at),
    "faits": lambda i: i.n_rows,
    "lignes rejetées": lambda i: i.n_rejected,
}


STATISTICS_COLUMNS: dict[str, Callable[[DatasetInfo], object]] = {
    "nom": lambda i: i.name,
    "type": lambda i: i.description,
    "lignes": lambda i: i.n_rows,
    "importé le": lambda i: _moment(i.imported_at),
}


def table_from_infos(
    infos: list[DatasetInfo], columns: dict[str, Callable[[DatasetInfo], object]]
) -> pd.DataFrame:
    """Saved data sets (or statistics) as shown on the page, one row each."""
    return pd.DataFrame({label: [get(i) for i in infos] for label, get in columns.items()})


#: What the importer does with offence labels, index numbers and NATINF codes (Markdown).
NOMENCLATURE_NOTE = (
    "Chaque libellé d'infraction est classé sur **mots entiers** (accents, majuscules, pluriels "
    "et apostrophes neutralisés ; jamais sur un morceau de mot : « violences *vol*ontaires » n'est "
    "pas un vol). Trois issues : l'un des **14 indicateurs** du SSMSI ; **reconnu hors des 14** "
    "(recels, homicides, outrages… : gardés, classés « Autre ») ; **non reconnu** (ou ambigu) : "
    "jamais deviné, classé « Autre » et signalé.\n\n"
    "Un **index de l'état 4001** (numéro ou libellé) est classé par la table ci-dessous, index par "
    "index. L'index 7 (« Autres coups et blessures volontaires ») ne dit pas si l'auteur est un "
    "proche : il est classé **hors cadre familial**, et les **violences intrafamiliales ne peuvent "
    "pas être isolées** à partir de l'index seul ; un libellé qui nomme le lien (« conjoint », "
    "« concubin », « ex- », « enfant », « ascendant »…) les classe, lui, en intrafamiliales. "
    "Quand le libellé et l'index sont tous deux présents, le libellé reconnu l'emporte, sinon l'index.\n\n"
    "Un **code NATINF** est gardé sur chaque fait, tel quel ; il ne classe pas le fait à lui seul. "
    "Le libellé d'origine, l'index et le code NATINF restent sur chaque fait : une correspondance "
    "corrigée reclasse le jeu sans réimporter le fichier.\n\n"
    "Source des libellés de l'état 4001 : ministère de l'Intérieur, fichiers mensuels "
    "départementaux (data.gouv.fr), Licence Ouverte 2.0."
)


def etat_4001_table() -> pd.DataFrame:
    """The *état 4001* table as shown to users: index, published label, class, reason."""
    from core.offence_labels import etat_4001

    return etat_4001().rename(
        columns={
            "index": "Index",
            "libelle_index": "Libellé publié",
            "classe": "Classe",
            "motif": "Motif du choix",
        }
    )


def append_to_dataset(
    store: DatasetStore,
    slug: str,
    result: ImportResult,
    *,
    source_file: str,
    duplicates: str = DROP,
) -> tuple[DatasetInfo, AppendResult]:
    """Add a validated file to a saved data set (a new version; the old one stays until it is complete).

    Parameters
    ----------
    store : DatasetStore
        Where the data set is.
    slug : str
        The data set.
    result : ImportResult
        The validated file (:func:`readers.incidents.incidents_from_table`).
    source_file : str
        Its name, for the history.
    duplicates : {"ignorer", "garder"}
        Without identifiers in the file: what to do with exact duplicates.

    Returns
    -------
    DatasetInfo, AppendResult
        The new manifest (its history says which file added what, when) and the counts.
    """
    info = store.info(slug)
    existing = store.load(slug)
    if result.mapping.get("identifiant"):
        merged = appended_with_identifiers(existing, result.incidents)
    else:
        merged = appended_without_identifiers(existing, result.incidents, duplicates=duplicates)
    history = list(info.extra.get("historique", [])) or [
        {
            "fichier": info.source_file,
            "date": info.imported_at,
            "nouveaux": info.n_rows,
            "doublons": 0,
            "mis_a_jour": 0,
            "rejetes": info.n_rejected,
        }
    ]
    now = dt.datetime.now().isoformat(timespec="seconds")
    history.append(
        {
            "fichier": source_file,
            "date": now,
            "nouveaux": merged.n_new,
            "doublons": merged.n_duplicates,
            "mis_a_jour": merged.n_updated,
            "rejetes": result.n_rejected,
        }
    )
    saved = store.save(
        merged.incidents,
        name=info.name,
        source_file=source_file,
        rejections=result.rejections,
        synthetic=info.synthetic,
        departement=info.departement,
        description=info.description,
        slug=slug,
        replace=True,
        extra={**info.extra, "historique": history},
    )
    return saved, merged


SAVE_MODES = {"nouveau": "Nouveau jeu de données", "ajout": "Ajouter à un jeu existant (import du mois)"}


DUPLICATES_QUESTION = (
    "Faits identiques (même date, infraction, lieu et point) déjà dans le jeu, fichier sans identifiant"
)


DUPLICATE_POLICIES = {DROP: "Les ignorer (gardés une fois)", KEEP: "Les ajouter quand même (faits distincts)"}


HISTORY_COLUMNS = {
    "fichier": "fichier",
    "date": "ajouté le",
    "nouveaux": "nouveaux",
    "doublons": "doublons",
    "mis_a_jour": "mis à jour",
    "rejetes": "rejetés",
}


def history_table(info: DatasetInfo) -> pd.DataFrame:
    """Which file added what, when (one row per import), as shown on the page."""
    rows = info.extra.get("historique") or [
        {
            "fichier": info.source_file,
            "date": info.imported_at,
            "nouveaux": info.n_rows,
            "doublons": 0,
            "mis_a_jour": 0,
            "rejetes": info.n_rejected,
        }
    ]
    out = pd.DataFrame(rows).reindex(columns=list(HISTORY_COLUMNS)).rename(columns=HISTORY_COLUMNS)
    out["ajouté le"] = out["ajouté le"].astype(str).str.replace("T", " ")
    return out


@dataclasses.dataclass(frozen=True)
class FilePreview:
    """What the Données page keeps of a read file between reruns: the preview, not the data."""

    columns: list[str]
    head: pd.DataFrame
    notes: list[str]
    n_rows: int
    sheets: list[str] = dataclasses.field(default_factory=list)  # a workbook's sheets
    sheet: str | None = None  # the one read


def preview_from_table(raw: RawTable, rows: int = 20) -> FilePreview:
    """The first ``rows`` rows, the column names, the reader's notes, the row count and, for a
    workbook, its sheets and the one read."""
    return FilePreview(
        [str(c) for c in raw.frame.columns],
        raw.frame.head(rows).copy(),
        list(raw.notes),
        raw.n_rows,
        list(raw.sheets),
        raw.sheet,
    )


# -- who may read and change what (the server decides, on every read and every action) -------
def may_use_dataset(viewer: Viewer, info: DatasetInfo) -> bool:
    """A data set is the viewer's when its département is in their territory (a data set with
    no département: only for a viewer without territory restriction)."""
    if not info.departement:
        return viewer.role != MAYOR and not viewer.departements
    return viewer.may_see_departement(info.departement)


def datasets_for_viewer(store: DatasetStore, viewer: Viewer) -> list[DatasetInfo]:
    """The saved data sets this viewer may see (the others are not even named)."""
    return [i for i in store.list() if may_use_dataset(viewer, i)]


def checked_dataset(
    store: DatasetStore, slug: str, viewer: Viewer, *, action: str, journal: AccessStore, write: bool = False
) -> DatasetInfo:
    """The data set ``slug`` if the viewer may read it (and change it, with ``write``).

    Raises
    ------
    RefusedError
        Unknown, outside the viewer's territory, or a change without the import capability
        (the refusal is audited).
    """
    if write and not viewer.can(IMPORT):
        raise refusal(journal, viewer, action, slug, "votre rôle ne permet pas de modifier les données")
    info = store.info(slug) if store.exists(slug) else None
    if info is None or not may_use_dataset(viewer, info):
        raise refusal(journal, viewer, action, slug, "ce jeu de données n'est pas dans votre territoire")
    return info


def history_for_viewer(store: DatasetStore, slug: str, viewer: Viewer, journal: AccessStore) -> pd.DataFrame:
    """The import history of one of the viewer's data sets."""
    return history_table(checked_dataset(store, slug, viewer, action="lecture", journal=journal))


def review_for_viewer(
    store: DatasetStore, slug: str, viewer: Viewer, journal: AccessStore
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The label review of one of the viewer's saved data sets (import capability required)."""
    checked_dataset(store, slug, viewer, action="revue des libellés", journal=journal, write=True)
    return label_review(store.load(slug))


def delete_dataset(store: DatasetStore, slug: str, *, viewer: Viewer, journal: AccessStore) -> None:
    """Delete one of the viewer's data sets (audited: intent first)."""
    info = checked_dataset(store, slug, viewer, action="suppression", journal=journal, write=True)
    with journal.audited(viewer, "suppression", slug, {"nom": info.name, "departement": info.departement}):
        store.delete(slug)


def reclassify_for_viewer(
    store: DatasetStore,
    slug: str,
    offences: pd.DataFrame,
    places: pd.DataFrame,
    *,
    viewer: Viewer,
    journal: AccessStore,
) -> tuple[DatasetInfo, int]:
    """:func:`reclassify_dataset` on one of the viewer's data sets, audited."""
    info = checked_dataset(store, slug, viewer, action="reclassement", journal=journal, write=True)
    with journal.audited(viewer, "reclassement", slug, {"nom": info.name}):
        return reclassify_dataset(store, slug, offences, places)


def save_new_dataset(
    store: DatasetStore,
    result: ImportResult,
    *,
    name: str,
    filename: str,
    departement: str,
    viewer: Viewer,
    journal: AccessStore,
) -> DatasetInfo:
    """Save a validated file as a new data set of ``departement`` (audited)."""
    if not viewer.can(IMPORT) or not viewer.may_see_departement(departement):
        raise refusal(
            journal, viewer, "import", filename, f"import pour le département {departement} non autorisé"
        )
    details = {
        "nom": name,
        "faits": len(result.incidents),
        "rejets": result.n_rejected,
        "departement": departement,
    }
    with journal.audited(viewer, "import", filename, details):
        return store.save(
            result.incidents,
            name=name or filename,
            source_file=filename,
            rejections=result.rejections,
            departement=departement,
            description=f"Import de {filename}",
        )


def append_for_viewer(
    store: DatasetStore,
    slug: str,
    result: ImportResult,
    *,
    filename: str,
    duplicates: str,
    viewer: Viewer,
    journal: AccessStore,
) -> tuple[DatasetInfo, AppendResult]:
    """:func:`append_to_dataset` into one of the viewer's data sets (audited)."""
    checked_dataset(store, slug, viewer, action="ajout", journal=journal, write=True)
    with journal.audited(
        viewer, "ajout", slug, {"fichier": filename, "faits": len(result.incidents), "doublons": duplicates}
    ):
        return append_to_dataset(store, slug, result, source_file=filename, duplicates=duplicates)


# -- official statistics: one file covers several départements ----------------------------
def departements_of_statistics(table: pd.DataFrame) -> set[str]:
    """The départements an SSMSI table has rows for."""
    codes = table["code"].astype(str)
    communal = table["niveau"].astype(str) == "commune"
    return {departement_of_commune(c) for c in codes[communal].unique()} | set(codes[~communal].unique())


def statistics_rows_for_viewer(table: pd.DataFrame, viewer: Viewer) -> pd.DataFrame:
    """The rows of an SSMSI table that fall in the viewer's territory."""
    if viewer.role != MAYOR and not viewer.departements:
        return table
    codes = table["code"].astype(str)
    deps = codes.where(table["niveau"].astype(str) != "commune", codes.map(departement_of_commune))
    return table[deps.map(viewer.may_see_departement).astype(bool)]


def covers(viewer: Viewer, departements: set[str]) -> bool:
    """Whether the viewer's territory covers every one of ``departements``."""
    return all(viewer.may_see_departement(d) for d in departements)


def _statistics_departements(store: DatasetStore, info: DatasetInfo) -> set[str]:
    """The départements of a saved SSMSI file (kept in its manifest; read from the rows for a
    file saved before the manifest kept them)."""
    kept = info.extra.get("departements")
    return set(kept) if kept is not None else departements_of_statistics(store.load(info.slug))


def statistics_table_for_viewer(store: DatasetStore, viewer: Viewer) -> pd.DataFrame:
    """Saved SSMSI files as shown to the viewer: only those with rows in their territory (all for
    a viewer without territory restriction), with how many of their départements are the viewer's."""
    rows = []
    for info in store.list():
        deps = _statistics_departements(store, info)
        mine = (
            {d for d in deps if viewer.may_see_departement(d)}
            if (viewer.departements or viewer.role == MAYOR)
            else deps
        )
        if mine:
            rows.append(
                {
                    "nom": info.name,
                    "type": info.description,
                    "lignes": info.n_rows,
                    "départements (dont votre territoire)": f"{len(deps)} ({len(mine)})",
                    "importé le": _moment(info.imported_at),
                    "slug": info.slug,
                }
            )
    return pd.DataFrame(
        rows, columns=["nom", "type", "lignes", "départements (dont votre territoire)", "importé le", "slug"]
    )


def save_statistics(
    store: DatasetStore,
    table: pd.DataFrame,
    *,
    name: str,
    filename: str,
    kind: str,
    viewer: Viewer,
    journal: AccessStore,
) -> DatasetInfo:
    """Save an SSMSI file: every département in it must be in the viewer's territory (audited)."""
    deps = departements_of_statistics(table)
    if not viewer.can(IMPORT) or not covers(viewer, deps):
        raise refusal(
            journal, viewer, "import", filename, "ce fichier couvre des départements hors de votre territoire"
        )
    with journal.audited(viewer, "import", filename, {"statistiques": kind, "lignes": len(table)}):
        return store.save(
            table,
            name=name or filename,
            source_file=filename,
            description=kind,
            departement="",
            extra={"departements": sorted(deps)},
        )


def delete_statistics(store: DatasetStore, slug: str, *, viewer: Viewer, journal: AccessStore) -> None:
    """Delete an SSMSI file: only for a territory covering every département in it (audited)."""
    if not viewer.can(IMPORT) or not store.exists(slug):
        raise refusal(journal, viewer, "suppression", slug, "suppression non autorisée")
    deps = _statistics_departements(store, store.info(slug))
    if not covers(viewer, deps):
        raise refusal(
            journal,
            viewer,
            "suppression",
            slug,
            "ce fichier couvre des départements hors de votre territoire",
        )
    with journal.audited(viewer, "suppression", slug, {"statistiques": store.info(slug).name}):
        store.delete(slug)


# -- mapping profiles (column names and label classes, no incident) -----------------------
def save_profile(
    profiles: ProfileStore, profile: MappingProfile, *, viewer: Viewer, journal: AccessStore
) -> MappingProfile:
    """Save a mapping profile (import capability; audited)."""
    if not viewer.can(IMPORT):
        raise refusal(
            journal, viewer, "profil enregistré", profile.name, "votre rôle ne permet pas d'importer"
        )
    with journal.audited(viewer, "profil enregistré", profile.name):
        return profiles.save(profile)


def rename_profile(
    profiles: ProfileStore, slug: str, name: str, *, viewer: Viewer, journal: AccessStore
) -> None:
    if not viewer.can(IMPORT):
        raise refusal(journal, viewer, "profil renommé", slug, "votre rôle ne permet pas d'importer")
    with journal.audited(viewer, "profil renommé", slug, {"nom": name}):
        profiles.rename(slug, name)


def delete_profile(profiles: ProfileStore, slug: str, *, viewer: Viewer, journal: AccessStore) -> None:
    if not viewer.can(IMPORT):
        raise refusal(journal, viewer, "profil supprimé", slug, "votre rôle ne permet pas d'importer")
    with journal.audited(viewer, "profil supprimé", slug):
        profiles.delete(slug)


# -- the stores and readers the Données page works with (the page calls these, not data/) ----
def imported_store() -> DatasetStore:
    """The store of imported data sets (the workspace's)."""
    return workspace_store()


def official_store() -> DatasetStore:
    """The store of saved SSMSI files."""
    return statistics_store()


def mapping_profiles() -> ProfileStore:
    """The saved mapping profiles."""
    return profile_store()


def preview_of_upload(data: bytes, filename: str, *, sheet: str | None = None) -> FilePreview:
    """Read an uploaded incident file (a workbook's ``sheet``, default the data sheet) and keep
    its preview (:func:`preview_from_table`)."""
    return preview_from_table(read_incident_file(data, filename, sheet=sheet))


def validated_upload(
    data: bytes, filename: str, *, communes, mapping: dict, coordinates: str, sheet: str | None = None
) -> ImportResult:
    """Read and validate an uploaded incident file (every row accepted or rejected with a reason)."""
    return incidents_from_table(
        read_incident_file(data, filename, sheet=sheet),
        communes=communes,
        mapping=mapping,
        coordinates=coordinates,
    )


def statistics_of_upload(data: bytes, filename: str):
    """Read an uploaded SSMSI base (:func:`readers.ssmsi.official_statistics_from_bytes`)."""
    return official_statistics_from_bytes(data, filename)


def guessed_mapping(columns: list[str]) -> tuple[MappingProfile | None, dict]:
    """The saved profile for these columns (if any) and the column mapping it, or the headers, give."""
    profile = profile_store().for_columns(columns)
    return profile, (profile.mapping_for(columns) if profile is not None else mapping_from_columns(columns))


def template_csv(communes) -> bytes:
    """The downloadable model file (three example incidents)."""
    return template_csv_from_communes(communes)
