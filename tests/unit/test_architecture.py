"""The shape of the code (docs/architecture.md).

The core imports the standard library and attrs, nothing else: import-linter forbids the
known frameworks; this allow-list also catches any new one. Rooms stay small: no module
over 500 lines, no class with more than 12 public methods.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
CORE = SRC / "talia_core"
MAX_MODULE_LINES = 500
MAX_PUBLIC_METHODS = 12
ALLOWED = set(sys.stdlib_module_names) | {"attrs", "talia_core", "__future__"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_core_imports_only_the_standard_library_and_attrs() -> None:
    offenders = {
        str(path.relative_to(CORE)): sorted(_imported_roots(path) - ALLOWED)
        for path in CORE.rglob("*.py")
    }
    assert {path: roots for path, roots in offenders.items() if roots} == {}


def test_no_module_is_over_500_lines() -> None:
    sizes = {
        str(path.relative_to(SRC)): len(path.read_text().splitlines()) for path in SRC.rglob("*.py")
    }
    assert {path: lines for path, lines in sizes.items() if lines > MAX_MODULE_LINES} == {}


def _public_methods(node: ast.ClassDef) -> list[str]:
    return [
        item.name
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        and not item.name.startswith("_")
    ]


def test_no_class_has_more_than_12_public_methods() -> None:
    crowded = {
        f"{path.relative_to(SRC)}:{node.name}": len(_public_methods(node))
        for path in SRC.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.ClassDef) and len(_public_methods(node)) > MAX_PUBLIC_METHODS
    }
    assert crowded == {}
