"""``talia backup PATH`` and ``talia restore PATH``: the embedded SQLite database copied
while it serves, and put back (with the service stopped)."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path
from typing import Any

from adapters.persistence.backup import NotEmbedded, back_up, restore
from entrypoints.settings import Settings


def add_commands(commands: Any) -> None:
    """``backup`` and ``restore`` among ``commands``, the subparsers of ``talia``."""
    backup = commands.add_parser("backup", help="copy the SQLite database, even while serving")
    backup.add_argument("path", type=Path, help="where the copy goes (replaced if there)")
    restored = commands.add_parser(
        "restore", help="put a backup in place of the SQLite database (stop the service first)"
    )
    restored.add_argument("path", type=Path, help="the backup to restore")


def run(settings: Settings, args: argparse.Namespace) -> int:
    url = settings.database.url
    try:
        if args.command == "backup":
            size = back_up(url, args.path)
            print(f"talia: database backed up to {args.path} ({size} bytes)")
        else:
            size = restore(url, args.path)
            print(f"talia: {args.path} restored ({size} bytes)")
    except (NotEmbedded, OSError, ValueError, sqlite3.Error) as error:
        print(f"talia: {error}", file=sys.stderr)
        return 1
    return 0
