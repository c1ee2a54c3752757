"""Offence labels onto the 14 indicators: the rule-built test set of ``tests/label_variants.py``
(variants of the état 4001 labels and SSMSI names as police software writes them; goal, issue
26: at least 99 % right, no variant of an indicator label classed « hors indicateurs »).

Ours: :func:`core.offence_labels.offence_classes_from_labels` (character n-gram TF-IDF and
containment against the nomenclature, keyword rules as guards, :mod:`core.label_matching`).
Anchor, same run: the keyword rules and the synonym table alone (the classifier before issue
26). Printed: accuracy overall and per rule, the confusion (expected class x class given), the
time per distinct label.

Run: ``.venv/bin/python bench/bench_labels.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.offence_labels import (  # noqa: E402
    OUTSIDE,
    UNKNOWN,
    offence_classes_from_labels,
    rule_class,
    synonyms,
    tokens_from_label,
)
from core.vocabulary import OFFENCES  # noqa: E402
from tests.label_variants import label_variants  # noqa: E402

SHORT = {o: o[:22] for o in OFFENCES} | {OUTSIDE: "hors indicateurs", UNKNOWN: "non reconnu"}


def keyword_rules(label: str) -> str:
    tokens = tokens_from_label(label)
    found = synonyms().get(tokens)
    if found is None:
        found = rule_class(frozenset(tokens))
    return found if found is not None else UNKNOWN


def main() -> None:
    df = pd.DataFrame(label_variants(), columns=["variant", "expected", "rule", "source"])
    t = time.perf_counter()
    got = offence_classes_from_labels(df["variant"])
    ours_s = time.perf_counter() - t
    df["ours"] = got["classe"].fillna(UNKNOWN)
    t = time.perf_counter()
    df["anchor"] = [keyword_rules(v) for v in df["variant"]]
    anchor_s = time.perf_counter() - t
    print(f"{len(df):,} variantes de {df['source'].nunique()} libellés, {df['rule'].nunique()} règles")
    for name, col, secs in (
        ("nous (TF-IDF + règles en garde-fou)", "ours", ours_s),
        ("ancre (règles seules)", "anchor", anchor_s),
    ):
        right = (df[col] == df["expected"]).mean()
        outside = ((df["expected"] != OUTSIDE) & (df[col] == OUTSIDE)).sum()
        print(
            f"  {name:38s} justes {right:6.2%}   indicateur classé hors indicateurs : {outside:3d}   "
            f"{secs / len(df) * 1000:.2f} ms par libellé"
        )
    print("\nJustes par règle (nous / ancre) :")
    by_rule = (
        df.assign(o=df["ours"] == df["expected"], a=df["anchor"] == df["expected"])
        .groupby("rule")[["o", "a"]]
        .mean()
    )
    for rule, row in by_rule.sort_values("o").iterrows():
        print(f"  {rule:42s} {row['o']:7.2%}  {row['a']:7.2%}")
    print("\nConfusion (nous) : classe attendue en ligne, classe donnée en colonne")
    table = pd.crosstab(df["expected"].map(SHORT), df["ours"].map(SHORT))
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string())
    wrong = df[df["ours"] != df["expected"]]
    if len(wrong):
        print("\nErreurs :")
        print(wrong[["variant", "expected", "ours"]].to_string(index=False))


if __name__ == "__main__":
    main()
