"""``talia users import FILE.csv``: bring users over from an older system with the password
hashes it kept (bcrypt or argon2id), so they sign in with their old passwords; each one's
first login stores an argon2id hash of today's parameters instead.

The file has a header row naming ``email``, ``name`` and ``password_hash``, and optionally
``role`` (customer when absent). Every row is one transaction: a user already there is
skipped, a row that cannot be imported is reported with its line, the rest go on.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from pathlib import Path
from typing import Any

import attrs

from entrypoints.bootstrap import open_talia
from entrypoints.settings import Settings
from talia_core.identity.model import Role
from talia_core.shared.errors import Conflict, Malformed, RuleViolated

COLUMNS = {"email", "name", "password_hash"}


@attrs.define
class ImportReport:
    imported: int = 0
    existing: int = 0
    refused: list[str] = attrs.Factory(list)


def add_commands(commands: Any) -> None:
    """``users import`` among ``commands``, the subparsers of ``talia``."""
    actions = commands.add_parser("users", help="look after the users").add_subparsers(
        dest="action", required=True
    )
    imported = actions.add_parser(
        "import", help="import users with their password hashes from a CSV file"
    )
    imported.add_argument("file", type=Path, help="CSV: email,name,password_hash[,role]")


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        report = asyncio.run(import_users(settings, args.file))
    except (OSError, Malformed) as error:
        print(f"talia: {error}", file=sys.stderr)
        return 2
    for line in report.refused:
        print(f"talia: {line}", file=sys.stderr)
    print(
        f"talia: {report.imported} users imported, {report.existing} already there, "
        f"{len(report.refused)} refused"
    )
    return 1 if report.refused else 0


async def import_users(settings: Settings, file: Path) -> ImportReport:
    report = ImportReport()
    with file.open(newline="", encoding="utf-8-sig") as opened:
        rows = csv.DictReader(opened)
        missing = COLUMNS - set(rows.fieldnames or ())
        if missing:
            raise Malformed(f"{file} lacks the columns {', '.join(sorted(missing))}")
        async with open_talia(settings) as talia:
            for row in rows:
                where = f"line {rows.line_num}"
                try:
                    role = Role(row.get("role") or Role.CUSTOMER.value)
                    await talia.users.import_user(
                        email=row["email"] or "",
                        name=row["name"] or "",
                        password_hash=row["password_hash"] or "",
                        role=role,
                    )
                except Conflict:
                    report.existing += 1
                except (RuleViolated, Malformed, ValueError) as refused:
                    report.refused.append(f"{where}: {refused}")
                else:
                    report.imported += 1
    return report
