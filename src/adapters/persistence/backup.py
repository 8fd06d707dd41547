"""Backups of the embedded SQLite database, taken while it serves.

SQLite's online backup API copies the database page by page under its own locks: writers
keep writing, and the copy is a consistent snapshot of one moment. PostgreSQL and MySQL
have their own tools for this (``pg_dump``, ``mariadb-dump``), which the README shows.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

PAGES_PER_STEP = 1024
"""Pages copied before the backup lets writers in again (4 MB at SQLite's default page)."""


class NotEmbedded(Exception):
    """The configured database is not a SQLite file."""


def sqlite_file(database_url: str) -> Path:
    parsed = make_url(database_url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        raise NotEmbedded(
            f"{parsed.drivername} is backed up with its own tools (pg_dump, mariadb-dump)"
        )
    return Path(parsed.database)


def back_up(database_url: str, target: Path) -> int:
    """Copy the live database to ``target`` (replaced if there); its size in bytes."""
    source = sqlite_file(database_url)
    if not source.exists():
        raise FileNotFoundError(f"no database at {source}")
    _copy(source, target)
    return target.stat().st_size


def restore(database_url: str, backup: Path) -> int:
    """Put ``backup`` in place of the database, checked first; its size in bytes. Run it
    with the service stopped: connections open across it would see the old file's pages."""
    target = sqlite_file(database_url)
    with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as copy:
        verdict = copy.execute("PRAGMA integrity_check").fetchone()
    if verdict != ("ok",):
        raise ValueError(f"{backup} is not a sound SQLite database: {verdict}")
    _copy(backup, target)
    return target.stat().st_size


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer, pages=PAGES_PER_STEP)
    finally:
        writer.close()
        reader.close()
