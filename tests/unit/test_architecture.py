"""The core imports the standard library and attrs, nothing else (DESIGN.md §1).

import-linter forbids the known frameworks; this allow-list also catches any new one.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "src" / "talia_core"
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
