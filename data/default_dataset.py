"""The embedded default data set: synthetic incidents of the default département (the
Mayenne), generated at set-up, rebuilt when the generator's settings change; and the
synthetic data set generated on request for another département."""

from __future__ import annotations

import pandas as pd

from core.errors import DatasetStoreError
from core.settings import SETTINGS
from data import locations
from data.store import DatasetInfo, DatasetStore

DEFAULT_SLUG = "defaut-mayenne-synthetique"


def default_dataset_version() -> str:
    """Identifier of the generator settings of the default data set (rebuild on change)."""
    lo, hi = SETTINGS.default_years
    return f"{SETTINGS.default_departement}-{lo}-{hi}-{SETTINGS.default_seed}-g8"


def generated_slug(departement: str) -> str:
    """Slug of the synthetic data set of a département."""
    return (
        DEFAULT_SLUG if departement == SETTINGS.default_departement else f"synthetique-{departement.lower()}"
    )


def generate_synthetic_dataset(
    departement: str,
    *,
    forces: pd.Series | None = None,
    store: DatasetStore | None = None,
    name: str | None = None,
) -> DatasetInfo:
    """Generate and save the synthetic incidents of a département (settings' years and seed).

    Parameters
    ----------
    departement : str
        Département code.
    forces : Series, optional
        PN/GN competence per INSEE code (default: the indicative organisation).
    store : DatasetStore, optional
        Where to save (default :func:`data.locations.default_store`).
    name : str, optional
        Name of the data set.
    """
    from data.synthetic import synthetic_incidents_for_departement
    from geo.communes import communes_for_departement

    store = store or locations.default_store()
    communes = communes_for_departement(departement)
    ds = synthetic_incidents_for_departement(
        communes, years=SETTINGS.default_years, seed=SETTINGS.default_seed, forces=forces
    )
    truth = ds.hotspots_frame().to_json(orient="records", force_ascii=False, indent=1)
    return store.save(
        ds.incidents,
        name=name or f"{departement} — faits synthétiques",
        source_file="générateur synthétique",
        synthetic=True,
        departement=departement,
        description=ds.description,
        extra_files={"hotspots.json": truth.encode("utf-8")},
        slug=generated_slug(departement),
        replace=True,
        extra={"version": default_dataset_version()},
    )


def ensure_default_dataset(*, store: DatasetStore | None = None) -> DatasetInfo:
    """Build the embedded default data set (synthetic, of the default département: the Mayenne)
    when missing or outdated.

    Returns
    -------
    DatasetInfo
        Manifest of the default data set.
    """
    store = store or locations.default_store()
    if store.exists(DEFAULT_SLUG):
        info = store.info(DEFAULT_SLUG)
        if info.extra.get("version") == default_dataset_version():
            try:
                store.load(DEFAULT_SLUG)
                return info
            except DatasetStoreError:
                pass
    from geo.communes import departements_table

    dep = SETTINGS.default_departement
    names = departements_table().set_index("code")["nom"]
    return generate_synthetic_dataset(
        dep, store=store, name=f"{names.get(dep, dep)} — faits synthétiques (défaut)"
    )
