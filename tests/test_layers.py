"""Layers run one way: every import of every product module is checked against core.layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.layers import FORBIDDEN_BELOW_UI, LAYERS, rank_of

ROOT = Path(__file__).resolve().parents[1]


def product_modules(root: Path = ROOT) -> list[Path]:
    """Every Python file of the product packages (tests, bench and scripts excluded)."""
    files = [root / "app.py"]
    for package in LAYERS:
        folder = root / package
        if folder.is_dir():
            files += sorted(folder.rglob("*.py"))
    return files


def layer_of(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every absolute import, wherever it sits (functions, TYPE_CHECKING...)."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"relative import at line {node.lineno}: use absolute imports")
            out.append((node.lineno, node.module or ""))
            # ``from data import store`` imports data.store: same top-level package.
    return out


def violations_in(path: Path, root: Path = ROOT) -> list[str]:
    """Upward imports and Streamlit below ``ui`` in one file, as readable lines."""
    layer = layer_of(path, root)
    own = rank_of(layer)
    assert own is not None, f"{path} is not in a declared layer"
    ui = rank_of("ui")
    out = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for line, module in imported_names(tree):
        top = module.split(".")[0]
        target = rank_of(top)
        where = f"{path.relative_to(root)}:{line}"
        if target is not None and target > own:
            out.append(
                f"{where}: '{layer}' imports '{module}' from the higher layer '{top}' "
                f"(rule: a layer imports only itself and the layers below it: {' < '.join(LAYERS)})"
            )
        if top in FORBIDDEN_BELOW_UI and own < ui:
            out.append(f"{where}: '{layer}' imports '{module}' (rule: nothing below 'ui' imports Streamlit)")
    return out


def test_every_product_module_is_in_a_layer() -> None:
    files = product_modules()
    assert len(files) > 40  # non-vacuity: the walk found the product
    top_level = {p.name for p in ROOT.glob("*.py")}
    assert top_level == {"app.py"}, f"modules outside a layer: {sorted(top_level - {'app.py'})}"


def test_layers_run_one_way() -> None:
    problems = [v for path in product_modules() for v in violations_in(path)]
    assert not problems, "Upward imports:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("layer", "source", "expected"),
    [
        ("analysis", "from rendering.maps import zones_map\n", "higher layer 'rendering'"),
        ("core", "def f():\n    import geo.communes\n", "higher layer 'geo'"),
        (
            "geo",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from data.store import DatasetStore\n",
            "higher layer 'data'",
        ),
        ("usecases", "import streamlit as st\n", "nothing below 'ui' imports Streamlit"),
    ],
)
def test_checker_catches_upward_imports(tmp_path: Path, layer: str, source: str, expected: str) -> None:
    """The checker itself fails on a bad import (a test that cannot fail would prove nothing)."""
    (tmp_path / layer).mkdir()
    bad = tmp_path / layer / "bad.py"
    bad.write_text(source)
    problems = violations_in(bad, tmp_path)
    assert any(expected in p for p in problems), problems
    assert problems[0].startswith(f"{layer}/bad.py:")


def test_checker_accepts_downward_imports(tmp_path: Path) -> None:
    (tmp_path / "usecases").mkdir()
    ok = tmp_path / "usecases" / "ok.py"
    ok.write_text("import numpy\nfrom analysis.zones import zones_from_incidents\nfrom core import model\n")
    assert violations_in(ok, tmp_path) == []


def test_every_product_exception_is_a_delinquance_error() -> None:
    """Users read French messages of one hierarchy (core.errors): an exception class defined
    anywhere in the product derives from DelinquanceError (the page stop signal excepted)."""
    import importlib
    import inspect

    from core.errors import DelinquanceError

    allowed = {"ui.access.AccessRefusedError"}
    found = []
    for package in ("core", "geo", "readers", "data", "analysis", "rendering", "usecases", "ui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            module = importlib.import_module(name)
            for cls_name, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ == name and issubclass(cls, BaseException):
                    qualified = f"{name}.{cls_name}"
                    if qualified not in allowed and not issubclass(cls, DelinquanceError):
                        found.append(qualified)
    assert found == [], found


#: What a page may not import: it calls use cases (and draws with ui and rendering).
BELOW_USE_CASES_FOR_PAGES = ("data", "readers", "geo", "analysis")
#: The longest a product module may grow (split it along its seams beyond).
MAX_MODULE_LINES = 600


def page_violations(path: Path, root: Path = ROOT) -> list[str]:
    """Imports of data/, readers/, geo/ or analysis/ in a page file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.relative_to(root)}:{line}: the page imports '{module}' (rule: a page calls use cases: "
        "widgets -> one use-case call -> draw; re-export what it needs from its use case)"
        for line, module in imported_names(tree)
        if module.split(".")[0] in BELOW_USE_CASES_FOR_PAGES
    ]


def test_pages_only_call_use_cases() -> None:
    found = [v for path in sorted((ROOT / "app_pages").glob("*.py")) for v in page_violations(path)]
    assert found == [], "\n".join(found)


def test_the_page_rule_catches_a_planted_import(tmp_path: Path) -> None:
    page = tmp_path / "app_pages" / "planted.py"
    page.parent.mkdir()
    page.write_text("def body():\n    from analysis.zones import ZoneSettings\n")
    assert page_violations(page, tmp_path) and "analysis.zones" in page_violations(page, tmp_path)[0]


def test_no_product_module_is_over_600_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in product_modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}, f"over {MAX_MODULE_LINES} lines, split along their seams: {long}"
