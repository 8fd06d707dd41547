"""Quality gates. Sessions run in the current environment, which the README's install made.

`nox` runs them all; `nox -s tests` (or lint, typecheck, architecture, migrations, fuzz) one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox

# The tools are those installed beside the interpreter running nox (`.venv/bin/nox`), even
# when that environment is not activated.
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    return str(BIN / name)


nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "typecheck", "architecture", "migrations", "tests", "fuzz"]
nox.options.error_on_missing_interpreters = True


LINTED = ("src", "tests", "alembic", "benchmarks", "examples", "noxfile.py")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.run(tool("ruff"), "check", *LINTED)
    session.run(tool("ruff"), "format", "--check", *LINTED)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/."""
    session.run(tool("mypy"), "--strict", "src")


@nox.session
def architecture(session: nox.Session) -> None:
    """import-linter: the hexagon's import rules (docs/architecture.md §1)."""
    session.run(tool("lint-imports"))


@nox.session
def migrations(session: nox.Session) -> None:
    """Upgrade to head, downgrade to base, upgrade again, then no drift, on every database."""
    session.run(
        tool("pytest"), "-q", "tests/integration/persistence/test_migrations.py", *session.posargs
    )


@nox.session
def tests(session: nox.Session) -> None:
    """Unit and integration tests (integration on SQLite, PostgreSQL and MariaDB), on a
    worker per core; each test module stays on one worker, its module fixtures built once."""
    session.run(
        tool("pytest"),
        "-q",
        "-p",
        "no:cacheprovider",
        "--numprocesses=auto",
        "--dist=loadscope",
        *session.posargs,
    )


@nox.session
def fuzz(session: nox.Session) -> None:
    """schemathesis over every operation of the OpenAPI document, as the admin and anonymous."""
    session.run(tool("pytest"), "-q", "-p", "no:cacheprovider", "tests/fuzz", *session.posargs)
