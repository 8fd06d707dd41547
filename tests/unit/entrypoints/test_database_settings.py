"""The database settings: a pooler in transaction mode and a direct URL for migrations, as
the engines the container and `talia migrate` build from them show."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.engine import autocommit_allowed
from entrypoints.settings import SettingsError, load_settings
from entrypoints.wiring.clients import engine, migration_engine

POOLER = "postgresql+asyncpg://postgres.project:secret@pooler.example.com:6543/postgres"
DIRECT = "postgresql+asyncpg://postgres:secret@db.example.com:5432/postgres"


class Connected(Exception):
    """Raised in place of connecting, with the arguments the driver would have been given."""


async def _connect_arguments(built: AsyncEngine) -> dict[str, Any]:
    @event.listens_for(built.sync_engine, "do_connect")
    def _capture(_dialect: Any, _record: Any, _args: Any, arguments: dict[str, Any]) -> None:
        raise Connected(arguments)

    try:
        with pytest.raises(Connected) as connected:
            await built.connect()
    finally:
        await built.dispose()
    captured: dict[str, Any] = connected.value.args[0]
    return captured


async def test_behind_a_transaction_pooler_no_statement_is_cached_and_each_is_named_anew() -> None:
    settings = load_settings(_env_file=None, database={"url": POOLER, "pooler": "transaction"})

    arguments = await _connect_arguments(engine(settings))

    assert arguments["statement_cache_size"] == 0
    assert arguments["prepared_statement_cache_size"] == 0
    name = arguments["prepared_statement_name_func"]
    assert name() != name()


async def test_without_a_pooler_statements_are_cached_and_autocommit_is_allowed() -> None:
    settings = load_settings(_env_file=None, database={"url": DIRECT})
    built = engine(settings)

    assert autocommit_allowed(built)
    arguments = await _connect_arguments(built)
    assert "statement_cache_size" not in arguments
    assert "prepared_statement_name_func" not in arguments


async def test_migrations_take_the_direct_url_without_the_pooler_when_one_is_set() -> None:
    settings = load_settings(
        _env_file=None, database={"url": POOLER, "pooler": "transaction", "migration_url": DIRECT}
    )
    built = migration_engine(settings)

    assert built.url.render_as_string(hide_password=False) == DIRECT
    assert autocommit_allowed(built)
    assert "statement_cache_size" not in await _connect_arguments(built)


async def test_without_a_migration_url_migrations_connect_as_the_app_does() -> None:
    settings = load_settings(_env_file=None, database={"url": POOLER, "pooler": "transaction"})
    built = migration_engine(settings)

    assert built.url.render_as_string(hide_password=False) == POOLER
    assert not autocommit_allowed(built)
    await built.dispose()


@pytest.mark.parametrize(
    "database",
    [
        {"url": "sqlite+aiosqlite:///./talia.db", "pooler": "transaction"},
        {"url": "mysql+asyncmy://root@db.example.com/talia", "pooler": "transaction"},
        {"url": POOLER, "pooler": "session"},
        {"url": POOLER, "migration_url": "postgresql://postgres@db.example.com/postgres"},
    ],
)
def test_a_pooler_setting_that_cannot_work_stops_start_up(database: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="TALIA_DATABASE"):
        load_settings(_env_file=None, database=database)
