"""Alembic environment: async engines, batch mode on SQLite, one metadata for all dialects."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.engine import create_database_engine
from adapters.persistence.metadata import UtcDateTime
from adapters.persistence.schema import include_name, metadata
from entrypoints.settings import load_settings
from entrypoints.wiring.clients import migration_engine

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


async def _run_with_own_engine(engine: AsyncEngine) -> None:
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
            await connection.commit()
    finally:
        await engine.dispose()


def _given_url() -> str | None:
    given = context.get_x_argument(as_dictionary=True).get("url")
    return str(given) if given else None


def _engine() -> AsyncEngine:
    """On ``-x url=...``, else where `talia migrate` would connect (environment and ``.env``)."""
    given = _given_url()
    return create_database_engine(given) if given else migration_engine(load_settings())


if context.is_offline_mode():
    url = _given_url() or load_settings().database.url
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (shared := config.attributes.get("connection")) is not None:
    _configure(shared)
else:
    asyncio.run(_run_with_own_engine(_engine()))
