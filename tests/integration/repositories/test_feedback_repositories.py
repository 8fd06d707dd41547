"""One contract for the feedback repositories: the in-memory fake and SQL on every database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from talia_core.feedback.model import (
    Claim,
    ClaimKind,
    ClaimStatus,
    ContactMessage,
    Testimonial,
    TestimonialStatus,
)
from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.pagination import PageRequest
from tests.conftest import UowFactory

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _message(minutes: int) -> ContactMessage:
    return ContactMessage.receive(
        name="Ana",
        email="ana@example.com",
        subject=None,
        body="Hola",
        at=T0 + timedelta(minutes=minutes),
    )


def _claim(number: int) -> Claim:
    return Claim.file(
        number=number,
        kind=ClaimKind.CLAIM,
        customer_name="Luis",
        customer_email="luis@example.com",
        customer_phone=None,
        customer_document="12345678",
        subject="Late delivery",
        description="The invitation arrived late",
        request="A refund",
        at=T0,
    )


async def test_an_added_message_reads_back_equal_with_its_utc_time(uow_factory: UowFactory) -> None:
    message = _message(0)
    async with uow_factory() as uow:
        await uow.contact_messages.add(message)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.contact_messages.get(message.id) == message


async def test_leaving_without_commit_keeps_nothing(uow_factory: UowFactory) -> None:
    message = _message(0)
    async with uow_factory() as uow:
        await uow.contact_messages.add(message)
    async with uow_factory() as uow:
        with pytest.raises(NotFound):
            await uow.contact_messages.get(message.id)


async def test_an_error_inside_the_block_rolls_everything_back(uow_factory: UowFactory) -> None:
    message = _message(0)
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.contact_messages.add(message)
            raise RuntimeError("boom")
    async with uow_factory() as uow:
        page = await uow.contact_messages.find(PageRequest(), unread_only=False)
    assert page.total == 0


async def test_updates_are_stored(uow_factory: UowFactory) -> None:
    message = _message(0)
    async with uow_factory() as uow:
        await uow.contact_messages.add(message)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.contact_messages.get(message.id)
        stored.mark_read(by="admin-1", at=T0 + timedelta(hours=1))
        await uow.contact_messages.update(stored)
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.contact_messages.get(message.id)).read_at == T0 + timedelta(hours=1)


async def test_listing_pages_newest_first_and_filters_unread(uow_factory: UowFactory) -> None:
    messages = [_message(minutes) for minutes in range(5)]
    messages[0].mark_read(by="admin-1", at=T0)
    async with uow_factory() as uow:
        for message in messages:
            await uow.contact_messages.add(message)
        await uow.commit()
    async with uow_factory() as uow:
        first = await uow.contact_messages.find(PageRequest(limit=2), unread_only=False)
        unread = await uow.contact_messages.find(PageRequest(limit=10), unread_only=True)
    assert first.total == 5
    assert [m.id for m in first.items] == [messages[4].id, messages[3].id]
    assert unread.total == 4
    assert messages[0].id not in [m.id for m in unread.items]


async def test_a_claim_number_is_unique(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.claims.add(_claim(1))
        await uow.commit()
    with pytest.raises(Conflict):
        async with uow_factory() as uow:
            await uow.claims.add(_claim(1))
            await uow.commit()


async def test_claims_list_by_status_highest_number_first(uow_factory: UowFactory) -> None:
    claims = [_claim(n) for n in (1, 2, 3)]
    claims[1].respond(answer="Refunded", by="admin-1", at=T0)
    async with uow_factory() as uow:
        for claim in claims:
            await uow.claims.add(claim)
        await uow.commit()
    async with uow_factory() as uow:
        open_claims = await uow.claims.find(PageRequest(), status=ClaimStatus.OPEN)
        answered = await uow.claims.get(claims[1].id)
    assert [c.number for c in open_claims.items] == [3, 1]
    assert answered.answer == "Refunded"
    assert answered.status is ClaimStatus.ANSWERED


async def test_testimonials_filter_by_status(uow_factory: UowFactory) -> None:
    pending = Testimonial.submit(author_id="u1", author_name="Ana", body="Great", rating=5, at=T0)
    approved = Testimonial.submit(author_id="u2", author_name="Luis", body="Nice", rating=4, at=T0)
    approved.approve(by="admin-1", at=T0)
    async with uow_factory() as uow:
        await uow.testimonials.add(pending)
        await uow.testimonials.add(approved)
        await uow.commit()
    async with uow_factory() as uow:
        page = await uow.testimonials.find(PageRequest(), status=TestimonialStatus.APPROVED)
    assert [t.id for t in page.items] == [approved.id]


async def test_concurrent_sequence_takers_get_distinct_gap_free_numbers(
    uow_factory: UowFactory,
) -> None:
    async def take() -> int:
        async with uow_factory() as uow:
            value = await uow.sequences.next_value("claims")
            await uow.commit()
            return value

    values = await asyncio.gather(*(take() for _ in range(20)))
    assert sorted(values) == list(range(1, 21))
