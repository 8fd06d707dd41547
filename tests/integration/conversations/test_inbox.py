"""One contract for the durable inbox: the in-memory fake and group commit on every database.

An accepted entry is committed together with the job that will process it; a redelivery
(same channel and key), whether later, in the same batch or racing from other requests,
is acknowledged as a duplicate and leaves no second row and no second job.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.database import InMemoryDatabase
from adapters.memory.inbox import InMemoryInbox
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.persistence.engine import create_database_engine
from adapters.persistence.inbox import SqlAlchemyInbox
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from talia_core.conversations.events import (
    INBOX_KEY_LENGTH,
    InboundMessage,
    InboxEntry,
    Sender,
    event_from_data,
)
from talia_core.conversations.jobs import INBOX_JOB
from talia_core.conversations.ports import Inbox
from talia_core.conversations.vocabulary import Channel, ChannelIdentity, IdentityKind, MessageType
from talia_core.shared.errors import ExternalServiceUnavailable, Malformed
from talia_core.shared.jobs import JobStatus
from talia_core.shared.pagination import PageRequest
from tests.conftest import Engines, UowFactory
from tests.databases import WITH_PGBOUNCER, empty_tables

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def entry(external_id: str, channel: Channel = Channel.WHATSAPP) -> InboxEntry:
    event = InboundMessage(
        channel=channel,
        external_id=external_id,
        sender=Sender((ChannelIdentity(IdentityKind.WA_ID, "51987654321"),), "Ana"),
        type=MessageType.TEXT,
        sent_at=T0,
        text=f"mensaje {external_id}",
    )
    return InboxEntry.of(event, T0)


@pytest.fixture(params=["memory", *WITH_PGBOUNCER])
async def inbox(
    request: pytest.FixtureRequest, engines: Engines
) -> AsyncIterator[tuple[Inbox, UowFactory]]:
    if request.param == "memory":
        database = InMemoryDatabase()
        yield InMemoryInbox(database), partial(InMemoryUnitOfWork, database)
        return
    engine = await engines.get(request.param)
    store = SqlAlchemyInbox(engine)
    yield store, partial(SqlAlchemyUnitOfWork, engine)
    await store.close()
    await empty_tables(engine)


async def _jobs(uow_factory: UowFactory) -> list[dict[str, object]]:
    async with uow_factory(read_only=True) as uow:
        page = await uow.jobs.find(PageRequest(limit=200), status=None)
    return [job.payload for job in page.items if job.kind == INBOX_JOB]


async def test_a_new_entry_is_stored_with_the_job_that_processes_it(
    inbox: tuple[Inbox, UowFactory],
) -> None:
    store, uow_factory = inbox
    first = entry("wamid.1")

    assert await store.accept([first]) == [True]

    [payload] = await _jobs(uow_factory)
    assert event_from_data(payload) == event_from_data(first.data)
    async with uow_factory(read_only=True) as uow:
        counts = await uow.jobs.counts()
    assert counts[JobStatus.PENDING] == 1


async def test_a_redelivery_is_a_duplicate_even_within_one_batch(
    inbox: tuple[Inbox, UowFactory],
) -> None:
    store, uow_factory = inbox
    await store.accept([entry("wamid.1")])

    answers = await store.accept([entry("wamid.1"), entry("wamid.2"), entry("wamid.2")])

    assert answers == [False, True, False]
    assert len(await _jobs(uow_factory)) == 2


async def test_the_same_key_on_another_channel_is_another_event(
    inbox: tuple[Inbox, UowFactory],
) -> None:
    store, _ = inbox

    answers = await store.accept([entry("id-1"), entry("id-1", Channel.CHATWOOT)])

    assert answers == [True, True]


async def test_eight_concurrent_deliveries_of_one_event_store_it_once(
    inbox: tuple[Inbox, UowFactory],
) -> None:
    store, uow_factory = inbox

    answers = await asyncio.gather(*(store.accept([entry("wamid.race")]) for _ in range(8)))

    assert sorted(a[0] for a in answers) == [False] * 7 + [True]
    assert len(await _jobs(uow_factory)) == 1


async def test_many_concurrent_requests_each_hear_about_their_own_entries(
    inbox: tuple[Inbox, UowFactory],
) -> None:
    store, uow_factory = inbox

    answers = await asyncio.gather(
        *(store.accept([entry(f"wamid.{n}"), entry(f"wamid.{n % 5}")]) for n in range(5, 105))
    )

    assert all(a[0] for a in answers)  # every request's own new message
    assert sum(a[1] for a in answers) == 5  # wamid.0..4: the first asker of each stores it
    assert len(await _jobs(uow_factory)) == 105


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
async def test_a_database_that_cannot_be_reached_fails_every_waiting_request(
    backend: str,
) -> None:
    url = {
        "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:1/talia",
        "mysql": "mysql+asyncmy://root@127.0.0.1:1/talia",
    }[backend]
    engine: AsyncEngine = create_database_engine(url)
    store = SqlAlchemyInbox(engine)
    try:
        results = await asyncio.gather(
            *(store.accept([entry(f"wamid.{n}")]) for n in range(3)), return_exceptions=True
        )
    finally:
        await engine.dispose()

    assert all(isinstance(r, ExternalServiceUnavailable) for r in results)


async def test_an_entry_the_database_refuses_fails_alone_and_its_batch_neighbours_are_stored(
    inbox: tuple[Inbox, UowFactory],
) -> None:
    store, uow_factory = inbox
    good = [entry(f"wamid.n{n}") for n in range(40)]
    bad = InboxEntry(Channel.WHATSAPP, "L" * 300, entry("wamid.bad").data, T0)

    answers = await asyncio.gather(
        *(store.accept([e]) for e in [*good[:20], bad, *good[20:]]), return_exceptions=True
    )

    refused = answers.pop(20)
    assert answers == [[True]] * 40
    assert refused == [True] or isinstance(refused, Malformed)  # SQLite keys are unbounded
    assert len(await _jobs(uow_factory)) == 40 + (refused == [True])


async def test_json_the_database_refuses_is_the_senders_fault_and_fails_alone(
    inbox: tuple[Inbox, UowFactory],
) -> None:
    """MariaDB's JSON columns check what they hold (error 4025): an unpaired surrogate's
    escape is refused there as a value, like PostgreSQL's class 22."""
    store, uow_factory = inbox
    good = [entry(f"wamid.s{n}") for n in range(10)]
    bad = InboxEntry(
        Channel.WHATSAPP, "wamid.surrogate", {**entry("wamid.x").data, "text": "a\ud800b"}, T0
    )

    answers = await asyncio.gather(
        *(store.accept([e]) for e in [*good[:5], bad, *good[5:]]), return_exceptions=True
    )

    refused = answers.pop(5)
    assert answers == [[True]] * 10
    assert refused == [True] or isinstance(refused, Malformed)
    assert len(await _jobs(uow_factory)) == 10 + (refused == [True])


async def test_a_provider_id_too_long_for_the_key_is_kept_by_its_digest_and_still_dedupes(
    inbox: tuple[Inbox, UowFactory],
) -> None:
    store, uow_factory = inbox
    first, again = entry("L" * 3000), entry("L" * 3000)

    assert first.key == again.key
    assert len(first.key) <= INBOX_KEY_LENGTH
    assert await store.accept([first]) == [True]
    assert await store.accept([again]) == [False]
    assert len(await _jobs(uow_factory)) == 1
