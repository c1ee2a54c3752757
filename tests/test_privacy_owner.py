"""One owner of the secrecy rule: no use case, analysis or rendering module compares a count
with the threshold itself, nor writes the threshold's value into a text (``core.privacy`` does,
and texts read ``SETTINGS.privacy_threshold``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("analysis", "rendering", "usecases", "ui", "app_pages")
THRESHOLD_NAMES = {"threshold", "privacy_threshold"}
#: A count compared with the threshold (``is None`` and ``==`` are not comparisons of counts).
ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
#: The threshold's value written into a text (« 1 à 5 », « 5 ou moins », « de 1 à 5 »).
WRITTEN_VALUE = re.compile(r"\b[01] à 5\b|\b5 ou moins\b|\bmoins de 6\b")


def _is_threshold(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "privacy_threshold") or (
        isinstance(node, ast.Name) and node.id in THRESHOLD_NAMES
    )


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                out.add(id(first.value))
    return out


def violations_in_source(source: str, name: str = "<source>") -> list[str]:
    """Comparisons with the threshold and texts with its value, as « file:line what »."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        ordering = isinstance(node, ast.Compare) and any(isinstance(op, ORDERING) for op in node.ops)
        if ordering and any(_is_threshold(n) for n in [node.left, *node.comparators]):
            found.append(f"{name}:{node.lineno} comparaison avec le seuil : passez par core.privacy")
        text = isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
        if text and WRITTEN_VALUE.search(node.value):
            found.append(
                f"{name}:{node.lineno} valeur du seuil écrite dans un texte : lisez SETTINGS.privacy_threshold"
            )
    return found


def test_the_checker_finds_a_planted_comparison_and_text():
    planted = "def f(n):\n    if n <= SETTINGS.privacy_threshold:\n        return 'secret (1 à 5)'\n"
    assert len(violations_in_source(planted)) == 2
    assert violations_in_source("def f(n, threshold):\n    return 0 < n <= threshold\n")
    assert not violations_in_source(
        'def f():\n    """Counts of 1 à 5 are hidden."""\n    return is_secret(3)\n'
    )
    assert not violations_in_source("t = SETTINGS.privacy_threshold if threshold is None else threshold\n")


def test_no_module_outside_core_privacy_owns_the_rule():
    found = []
    for package in CHECKED:
        for path in sorted((ROOT / package).rglob("*.py")):
            found += violations_in_source(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == [], "\n".join(found)
