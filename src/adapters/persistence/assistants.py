"""Tables, row mappers and repositories of assistant definitions.

``assistants`` holds the name and the number of the current version; each version is a
row of ``assistant_versions`` that is never changed, keyed by (assistant_id, version).
Lists and maps are JSON columns. ``assistant_channels`` holds each channel's entry
assistant, with the channel as primary key: two enabled assistants on one channel are a
``Conflict`` even when two admins save at the same moment.

In a writing unit of work ``get`` locks the assistant (``FOR UPDATE``) it reads to revise.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from adapters.persistence.bundle import RepositoryBundle
from adapters.persistence.connection import Transaction, locked
from adapters.persistence.mapping import money_columns, money_values, optional_money
from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from talia_core.assistants.definition import (
    MAX_MODEL_LENGTH,
    MAX_NAME_LENGTH,
    Assistant,
    AssistantVersion,
    Channel,
    Definition,
    Fallback,
    FallbackKind,
    Provider,
)
from talia_core.assistants.language import PromptRef
from talia_core.shared.errors import NotFound
from talia_core.shared.pagination import Page, PageRequest

# TEXT holds 64 KiB on MySQL and MariaDB: less than the longest instructions in UTF-8.
_LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")

assistants = sa.Table(
    "assistants",
    metadata,
    id_column(primary_key=True),
    sa.Column("name", sa.String(MAX_NAME_LENGTH), nullable=False, unique=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False, index=True),
)

assistant_versions = sa.Table(
    "assistant_versions",
    metadata,
    id_column("assistant_id", nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("provider", sa.String(16), nullable=False),
    sa.Column("model", sa.String(MAX_MODEL_LENGTH), nullable=False),
    sa.Column("instructions", _LONG_TEXT),
    # {"id", "version", "variables"}; SQL NULL when there is no stored prompt.
    sa.Column("prompt", sa.JSON(none_as_null=True)),
    sa.Column("variables", sa.JSON, nullable=False),
    sa.Column("temperature", sa.Double),
    sa.Column("max_output_tokens", sa.Integer),
    sa.Column("max_tool_steps", sa.Integer, nullable=False),
    sa.Column("tools", sa.JSON, nullable=False),
    sa.Column("knowledge", sa.JSON, nullable=False),
    sa.Column("handoffs", sa.JSON, nullable=False),
    sa.Column("channels", sa.JSON, nullable=False),
    sa.Column("fallback", sa.String(16), nullable=False),
    sa.Column("fallback_provider", sa.String(16)),
    sa.Column("fallback_model", sa.String(MAX_MODEL_LENGTH)),
    sa.Column("enabled", sa.Boolean, nullable=False),
    *money_columns("daily_budget", nullable=True),
    id_column("created_by", nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.PrimaryKeyConstraint("assistant_id", "version"),
    sa.ForeignKeyConstraint(["assistant_id"], ["assistants.id"]),
)

assistant_channels = sa.Table(
    "assistant_channels",
    metadata,
    sa.Column("channel", sa.String(16), primary_key=True),
    id_column("assistant_id", nullable=False, index=True),
    sa.ForeignKeyConstraint(["assistant_id"], ["assistants.id"]),
)

_CURRENT = sa.select(
    assistants.c.name, assistants.c.created_at.label("assistant_created_at"), assistant_versions
).join_from(
    assistants,
    assistant_versions,
    sa.and_(
        assistant_versions.c.assistant_id == assistants.c.id,
        assistant_versions.c.version == assistants.c.version,
    ),
)


def _version_row(version: AssistantVersion) -> dict[str, Any]:
    definition = version.definition
    prompt = definition.prompt
    fallback = definition.fallback
    return {
        "assistant_id": version.assistant_id,
        "version": version.version,
        "provider": definition.provider.value,
        "model": definition.model,
        "instructions": definition.instructions,
        "prompt": None
        if prompt is None
        else {"id": prompt.id, "version": prompt.version, "variables": dict(prompt.variables)},
        "variables": dict(definition.variables),
        "temperature": definition.temperature,
        "max_output_tokens": definition.max_output_tokens,
        "max_tool_steps": definition.max_tool_steps,
        "tools": list(definition.tools),
        "knowledge": list(definition.knowledge),
        "handoffs": list(definition.handoffs),
        "channels": [channel.value for channel in definition.channels],
        "fallback": fallback.to.value,
        "fallback_provider": None if fallback.provider is None else fallback.provider.value,
        "fallback_model": fallback.model,
        "enabled": definition.enabled,
        **money_values("daily_budget", definition.daily_budget),
        "created_by": version.created_by,
        "created_at": version.created_at,
    }


def _version(row: sa.RowMapping) -> AssistantVersion:
    prompt = row["prompt"]
    fallback_provider = row["fallback_provider"]
    definition = Definition(
        provider=row["provider"],
        model=row["model"],
        instructions=row["instructions"],
        prompt=None if prompt is None else PromptRef(**prompt),
        variables=row["variables"],
        temperature=row["temperature"],
        max_output_tokens=row["max_output_tokens"],
        max_tool_steps=row["max_tool_steps"],
        tools=row["tools"],
        knowledge=row["knowledge"],
        handoffs=row["handoffs"],
        channels=row["channels"],
        fallback=Fallback(
            to=FallbackKind(row["fallback"]),
            provider=None if fallback_provider is None else Provider(fallback_provider),
            model=row["fallback_model"],
        ),
        enabled=row["enabled"],
        daily_budget=optional_money(row, "daily_budget"),
    )
    return AssistantVersion(
        assistant_id=row["assistant_id"],
        version=row["version"],
        definition=definition,
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


def _assistant(row: sa.RowMapping) -> Assistant:
    return Assistant(
        id=row["assistant_id"],
        name=row["name"],
        current=_version(row),
        created_at=row["assistant_created_at"],
    )


class SqlAlchemyAssistantRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, assistant: Assistant) -> None:
        await self._tx.execute(
            assistants.insert().values(
                id=assistant.id,
                name=assistant.name,
                version=assistant.version,
                created_at=assistant.created_at,
            )
        )
        await self._store_current(assistant)

    async def get(self, assistant_id: str) -> Assistant:
        found = await self._one(assistants.c.id == assistant_id)
        if found is None:
            raise NotFound("assistant", assistant_id)
        return found

    async def by_name(self, name: str) -> Assistant | None:
        return await self._one(assistants.c.name == name)

    async def entry_for(self, channel: Channel) -> Assistant | None:
        entry = sa.select(assistant_channels.c.assistant_id).where(
            assistant_channels.c.channel == channel.value
        )
        return await self._one(assistants.c.id.in_(entry.scalar_subquery()))

    async def update(self, assistant: Assistant) -> None:
        await self._tx.execute(
            assistants.update()
            .where(assistants.c.id == assistant.id)
            .values(version=assistant.version)
        )
        await self._tx.execute(
            assistant_channels.delete().where(assistant_channels.c.assistant_id == assistant.id)
        )
        await self._store_current(assistant)

    async def find(self, page: PageRequest) -> Page[Assistant]:
        order = [assistants.c.created_at.desc(), assistants.c.id.desc()]
        return await self._tx.page(_CURRENT, page, order, _assistant)

    async def versions(self, assistant_id: str, page: PageRequest) -> Page[AssistantVersion]:
        query = assistant_versions.select().where(assistant_versions.c.assistant_id == assistant_id)
        return await self._tx.page(query, page, [assistant_versions.c.version.desc()], _version)

    async def _one(self, condition: sa.ColumnElement[bool]) -> Assistant | None:
        row = await self._tx.one_or_none(locked(_CURRENT.where(condition), self._lock))
        return None if row is None else _assistant(row._mapping)

    async def _store_current(self, assistant: Assistant) -> None:
        await self._tx.execute(assistant_versions.insert().values(_version_row(assistant.current)))
        entries = assistant.definition.entry_channels
        if entries:
            await self._tx.execute(
                assistant_channels.insert(),
                [{"channel": c.value, "assistant_id": assistant.id} for c in entries],
            )


class AssistantsRepositories(RepositoryBundle):
    assistants: SqlAlchemyAssistantRepository

    def bind(self, tx: Transaction, *, lock: bool) -> None:
        self.assistants = SqlAlchemyAssistantRepository(tx, lock=lock)
        super().bind(tx, lock=lock)
