"""Données page: the tables of saved data sets and official statistics (the analyst's tool)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from data.append import DROP, KEEP, AppendResult, appended_with_identifiers, appended_without_identifiers
from data.store import DatasetInfo, DatasetStore
from readers.incidents import ImportResult

DATASET_COLUMNS: dict[str, Callable[[DatasetInfo], object]] = {
    "nom": lambda i: i.name,
    "département": lambda i: i.departement,
    "fichier source": lambda i: i.source_file,
    "importé le": lambda i: i.imported_at.replace("T", " "),
    "faits": lambda i: i.n_rows,
    "lignes rejetées": lambda i: i.n_rejected,
}
STATISTICS_COLUMNS: dict[str, Callable[[DatasetInfo], object]] = {
    "nom": lambda i: i.name,
    "type": lambda i: i.description,
    "lignes": lambda i: i.n_rows,
    "importé le": lambda i: i.imported_at.replace("T", " "),
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
