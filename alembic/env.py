"""Alembic environment: async engines, batch mode on SQLite, one metadata for all dialects."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from adapters.persistence.engine import create_database_engine
from adapters.persistence.metadata import UtcDateTime
from adapters.persistence.schema import include_name, metadata
from entrypoints.settings import load_settings

config = context.config


def _render_item(kind: str, item: Any, autogen: AutogenContext) -> str | Literal[False]:
    """New revisions spell UtcDateTime out as its column type, so they never import app code."""
    if kind == "type" and isinstance(item, UtcDateTime):
        autogen.imports.add("from sqlalchemy.dialects import mysql")
        return 'sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")'
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_database_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
            await connection.commit()
    finally:
        await engine.dispose()


def _url() -> str:
    """``-x url=...``, else the URL `talia` itself would use (environment and ``.env``)."""
    given = context.get_x_argument(as_dictionary=True).get("url")
    return str(given) if given else load_settings().database.url


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (shared := config.attributes.get("connection")) is not None:
    _configure(shared)
else:
    asyncio.run(_run_with_own_engine(_url()))
