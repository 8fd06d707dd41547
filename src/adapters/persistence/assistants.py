"""Tables, row mappers and repositories of assistant definitions.

``assistants`` holds the name, the number of the live version (what every read joins) and
of the newest, and ``require_eval``; each version is a row of ``assistant_versions`` whose
definition is never changed, keyed by (assistant_id, version), with its last eval report
(the ``eval_*`` columns, all or none) and, for a rejected candidate, why. Lists and maps
are JSON columns. ``assistant_channels`` holds each channel's entry assistant, with the
channel as primary key: two enabled assistants on one channel are a ``Conflict`` even when
two admins save at the same moment. ``assistant_eval_sets`` holds each assistant's eval
set, its cases as one JSON list.

In a writing unit of work ``get`` locks the assistant (``FOR UPDATE``) it reads to revise.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from adapters.persistence.bundle import RepositoryBundle, bound
from adapters.persistence.connection import Transaction, locked
from adapters.persistence.mapping import money_columns, money_values, optional_money
from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from talia_core.assistants.definition import (
    MAX_MODEL_LENGTH,
    MAX_NAME_LENGTH,
    MAX_VOICE_LENGTH,
    Assistant,
    AssistantVersion,
    Channel,
    Definition,
    Fallback,
    FallbackKind,
    Provider,
)
from talia_core.assistants.eval_sets import EvalSet, VersionReport
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
    sa.Column("newest_version", sa.Integer, nullable=False),
    sa.Column("require_eval", sa.Boolean, nullable=False, server_default=sa.false()),
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
    # The lead criteria as the definition holds them; SQL NULL when it has none.
    sa.Column("leads", sa.JSON(none_as_null=True)),
    sa.Column("voice_replies", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("voice", sa.String(MAX_VOICE_LENGTH)),
    id_column("created_by", nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("eval_passed", sa.Integer),
    sa.Column("eval_failed", sa.Integer),
    sa.Column("eval_at", UtcDateTime),
    sa.Column("eval_set", sa.String(64)),
    sa.Column("eval_failing", sa.JSON(none_as_null=True)),
    sa.Column("rejected", sa.Text),
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

assistant_eval_sets = sa.Table(
    "assistant_eval_sets",
    metadata,
    id_column("assistant_id", primary_key=True),
    sa.Column("cases", sa.JSON, nullable=False),
    id_column("updated_by", nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(["assistant_id"], ["assistants.id"]),
)

_CURRENT = sa.select(
    assistants.c.name,
    assistants.c.created_at.label("assistant_created_at"),
    assistants.c.newest_version,
    assistants.c.require_eval,
    assistant_versions,
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
        "leads": None if definition.leads is None else dict(definition.leads),
        "voice_replies": definition.voice_replies,
        "voice": definition.voice,
        "created_by": version.created_by,
        "created_at": version.created_at,
        **_report_values(version.report),
        "rejected": version.rejected,
    }


def _report_values(report: VersionReport | None) -> dict[str, Any]:
    if report is None:
        return dict.fromkeys(("eval_passed", "eval_failed", "eval_at", "eval_set", "eval_failing"))
    return {
        "eval_passed": report.passed,
        "eval_failed": report.failed,
        "eval_at": report.at,
        "eval_set": report.eval_set,
        "eval_failing": list(report.failing),
    }


def _report(row: sa.RowMapping) -> VersionReport | None:
    if row["eval_at"] is None:
        return None
    return VersionReport(
        passed=row["eval_passed"],
        failed=row["eval_failed"],
        at=row["eval_at"],
        eval_set=row["eval_set"],
        failing=tuple(row["eval_failing"]),
    )


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
        leads=row["leads"],
        voice_replies=row["voice_replies"],
        voice=row["voice"],
    )
    return AssistantVersion(
        assistant_id=row["assistant_id"],
        version=row["version"],
        definition=definition,
        created_by=row["created_by"],
        created_at=row["created_at"],
        report=_report(row),
        rejected=row["rejected"],
    )


def _assistant(row: sa.RowMapping) -> Assistant:
    return Assistant(
        id=row["assistant_id"],
        name=row["name"],
        current=_version(row),
        created_at=row["assistant_created_at"],
        newest=row["newest_version"],
        require_eval=row["require_eval"],
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
                created_at=assistant.created_at,
                **_pointers(assistant),
            )
        )
        await self.add_version(assistant.current)
        await self._enter(assistant)

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

    async def add_version(self, version: AssistantVersion) -> None:
        await self._tx.execute(assistant_versions.insert().values(_version_row(version)))

    async def update(self, assistant: Assistant) -> None:
        await self._tx.execute(
            assistants.update()
            .where(assistants.c.id == assistant.id)
            .values(**_pointers(assistant))
        )
        live = assistant.current
        await self._tx.execute(
            assistant_versions.update()
            .where(
                assistant_versions.c.assistant_id == assistant.id,
                assistant_versions.c.version == live.version,
            )
            .values(_report_values(live.report))
        )
        await self._tx.execute(
            assistant_channels.delete().where(assistant_channels.c.assistant_id == assistant.id)
        )
        await self._enter(assistant)

    async def find(self, page: PageRequest) -> Page[Assistant]:
        order = [assistants.c.created_at.desc(), assistants.c.id.desc()]
        return await self._tx.page(_CURRENT, page, order, _assistant)

    async def versions(self, assistant_id: str, page: PageRequest) -> Page[AssistantVersion]:
        query = assistant_versions.select().where(assistant_versions.c.assistant_id == assistant_id)
        return await self._tx.page(query, page, [assistant_versions.c.version.desc()], _version)

    async def _one(self, condition: sa.ColumnElement[bool]) -> Assistant | None:
        row = await self._tx.one_or_none(locked(_CURRENT.where(condition), self._lock))
        return None if row is None else _assistant(row._mapping)

    async def _enter(self, assistant: Assistant) -> None:
        """The channels the live definition enters by."""
        entries = assistant.definition.entry_channels
        if entries:
            await self._tx.execute(
                assistant_channels.insert(),
                [{"channel": c.value, "assistant_id": assistant.id} for c in entries],
            )


def _pointers(assistant: Assistant) -> dict[str, Any]:
    return {
        "version": assistant.version,
        "newest_version": assistant.newest,
        "require_eval": assistant.require_eval,
    }


class SqlAlchemyEvalSetRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, assistant_id: str) -> EvalSet | None:
        row = await self._tx.one_or_none(
            assistant_eval_sets.select().where(assistant_eval_sets.c.assistant_id == assistant_id)
        )
        if row is None:
            return None
        return EvalSet(
            assistant_id=row.assistant_id,
            cases=tuple(row.cases),
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )

    async def put(self, eval_set: EvalSet) -> None:
        await self._tx.execute(
            assistant_eval_sets.delete().where(
                assistant_eval_sets.c.assistant_id == eval_set.assistant_id
            )
        )
        await self._tx.execute(
            assistant_eval_sets.insert().values(
                assistant_id=eval_set.assistant_id,
                cases=list(eval_set.cases),
                updated_by=eval_set.updated_by,
                updated_at=eval_set.updated_at,
            )
        )


class AssistantsRepositories(RepositoryBundle):
    assistants = bound(SqlAlchemyAssistantRepository, locks=True)
    eval_sets = bound(SqlAlchemyEvalSetRepository)
