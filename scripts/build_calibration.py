"""Distil the real SSMSI département base into the small committed calibration table.

Developer tool, run by hand (``python -m scripts.build_calibration``): it reads the real
files in ``../shared/realdata`` and writes ``data/ssmsi_departements.csv``. The product
only reads the committed table, never ``../shared``.

Three current indicators are absent from the old département base (drugs use, drug
trafficking, fraud). They are estimated as a ratio to "Destructions et dégradations
volontaires", pooled over the published rows of the real 2025 communal extract for
Bordeaux (33063) and Pessac (33318) (Paris excluded as atypical), and flagged
``source = estimation``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.vocabulary import OLD_SSMSI_INDICATORS

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "realdata"
OUT = ROOT / "data" / "ssmsi_departements.csv"
RATIO_COMMUNES = ("33063", "33318")
REFERENCE = "Destructions et dégradations volontaires"
ESTIMATED = (
    "Usage de stupéfiants",
    "Trafic de stupéfiants",
    "Escroqueries et fraudes aux moyens de paiement",
)


def main() -> None:
    old = pd.read_csv(
        REAL / "ssmsi_departements_2016-2022_ancien_format.csv",
        sep=";",
        dtype=str,
        encoding="utf-8-sig",
    )
    old["indicateur"] = old["classe"].map(lambda c: OLD_SSMSI_INDICATORS.get(c, c))
    old = old[old["indicateur"].notna()]
    table = pd.DataFrame(
        {
            "departement": old["Code.département"],
            "annee": 2000 + old["annee"].astype(int),
            "indicateur": old["indicateur"],
            "nombre": old["faits"].astype(int),
            "population": old["POP"].astype(int),
            "source": "SSMSI",
        }
    )
    com = pd.read_csv(REAL / "ssmsi_communes_2025_extrait.csv", sep=";", dtype=str, decimal=",")
    com = com[com["CODGEO_2026"].isin(RATIO_COMMUNES) & (com["est_diffuse"] == "diff")]
    totals = com.groupby("indicateur")["nombre"].apply(lambda s: s.astype(int).sum())
    ref = table[table["indicateur"] == REFERENCE]
    extra = []
    for indicator in ESTIMATED:
        ratio = totals[indicator] / totals[REFERENCE]
        extra.append(
            ref.assign(
                indicateur=indicator, nombre=(ref["nombre"] * ratio).round().astype(int), source="estimation"
            )
        )
    table = pd.concat([table, *extra], ignore_index=True)
    table = table.sort_values(["departement", "annee", "indicateur"])
    header = (
        "# Source : SSMSI, bases statistiques de la délinquance enregistrée par la police et la "
        "gendarmerie nationales (data.gouv.fr), Licence Ouverte 2.0. Base départementale, "
        "édition 2023-02-09 ; source=estimation : ratio à « Destructions et dégradations "
        "volontaires » estimé sur la base communale 2025 (Bordeaux, Pessac).\n"
    )
    with OUT.open("w", encoding="utf-8") as fh:
        fh.write(header)
        table.to_csv(fh, index=False)
    print(f"{OUT}: {len(table)} lignes")


if __name__ == "__main__":
    main()
