"""Guests' answers: one per guest or contact, never more confirmed than the allowance."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.invitations.fields import WEDDING_SCHEMA, FieldSchema
from talia_core.invitations.model import Allowances, Event, Invitation
from talia_core.invitations.rsvp import (
    Guest,
    NoSeatsLeft,
    Reply,
    RsvpClosed,
    answer,
    check_seats,
    contact_key,
    deadline_of,
)
from talia_core.invitations.rsvp_services import RsvpService
from talia_core.invitations.services import Caller
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import NotFound, RuleViolated
from talia_core.shared.pagination import PageRequest

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)
OWNER = Caller("owner-1")
COMPLETE = {"partner_one": "Ana", "partner_two": "Luis", "date": "2027-02-14"}


def published(guests: int = 10, **data: str) -> Invitation:
    invitation = Invitation.bought(
        owner_id=OWNER.id,
        order_id="order-1",
        order_item="template:t#1",
        template_id=None,
        plan_id=None,
        allowances=Allowances(guests=guests),
        at=T0,
    )
    invitation.save_data(
        {**COMPLETE, **data}, FieldSchema.parse(WEDDING_SCHEMA), at=T0, merge=False
    )
    invitation.publish(FieldSchema.parse(WEDDING_SCHEMA), slug=None, at=T0)
    return invitation


async def service_with(invitation: Invitation) -> tuple[RsvpService, InMemoryDatabase]:
    database = InMemoryDatabase()
    async with InMemoryUnitOfWork(database) as uow:
        await uow.invitations.add_if_absent(invitation)
        await uow.commit()
    return RsvpService(partial(InMemoryUnitOfWork, database), FakeClock(T0)), database


def test_a_contact_key_reads_one_person_written_two_ways_as_one() -> None:
    assert (
        contact_key(" Ana@Example.COM ")
        == contact_key("ana@example.com")
        == "email:ana@example.com"
    )
    assert contact_key("+51 (999) 888-777") == contact_key("+51999888777") == "tel:+51999888777"


@pytest.mark.parametrize("contact", ["ana", "12", "+51 999 abc", "a@b"])
def test_a_contact_that_is_neither_an_email_nor_a_phone_is_refused(contact: str) -> None:
    with pytest.raises(RuleViolated) as refused:
        contact_key(contact)
    assert "contact" in refused.value.fields


def test_the_deadline_is_the_end_of_its_day_in_the_first_events_time_zone() -> None:
    invitation = published(rsvp_deadline="2027-01-31")
    assert deadline_of(invitation) == datetime(2027, 2, 1, tzinfo=UTC)
    invitation.add_event(Event(type="misa", starts_at=T0, time_zone="America/Lima"), at=T0)
    assert deadline_of(invitation) == datetime(2027, 2, 1, 5, tzinfo=UTC)
    assert deadline_of(published()) is None
    free_text = published()
    free_text.data["rsvp_deadline"] = "a week before"
    assert deadline_of(free_text) is None


def test_an_answer_after_the_deadline_is_refused() -> None:
    invitation = published(rsvp_deadline="2026-06-01")
    reply = Reply(attending=True, party_size=1, contact="ana@example.com")
    late = datetime(2026, 6, 2, tzinfo=UTC)
    assert answer(
        invitation,
        None,
        reply,
        previous=None,
        confirmed_by_others=0,
        at=late - timedelta(seconds=1),
    )
    with pytest.raises(RsvpClosed):
        answer(invitation, None, reply, previous=None, confirmed_by_others=0, at=late)


def test_a_guest_brings_no_more_than_its_allowance() -> None:
    invitation = published(guests=10)
    guest = Guest.invite(invitation, name="Familia Pérez", allowance=3, at=T0)
    with pytest.raises(RuleViolated) as refused:
        answer(
            invitation,
            guest,
            Reply(attending=True, party_size=4),
            previous=None,
            confirmed_by_others=0,
            at=T0,
        )
    assert refused.value.fields == {"party_size": "over allowance"}
    with pytest.raises(RuleViolated):
        Guest.invite(invitation, name="Todos", allowance=11, at=T0)


def test_an_unpublished_invitation_takes_no_answer() -> None:
    invitation = published()
    invitation.unpublish(at=T0)
    with pytest.raises(NotFound):
        answer(
            invitation,
            None,
            Reply(attending=False, party_size=0, contact="ana@example.com"),
            previous=None,
            confirmed_by_others=0,
            at=T0,
        )


@given(
    allowance=st.integers(1, 30),
    others=st.integers(0, 40),
    party=st.integers(0, 40),
)
def test_seats_are_given_exactly_while_the_total_stays_within_the_allowance(
    allowance: int, others: int, party: int
) -> None:
    if others + party <= allowance:
        check_seats(party, confirmed_by_others=others, allowance=allowance)
    else:
        with pytest.raises(NoSeatsLeft):
            check_seats(party, confirmed_by_others=others, allowance=allowance)


REPLIES = st.lists(
    st.tuples(st.integers(0, 5), st.booleans(), st.integers(1, 6)), min_size=1, max_size=25
)


@settings(max_examples=60, deadline=None)
@given(allowance=st.integers(1, 12), replies=REPLIES)
def test_whatever_contacts_answer_and_change_the_confirmed_total_never_passes_the_allowance(
    allowance: int, replies: list[tuple[int, bool, int]]
) -> None:
    """Each contact's last accepted answer counts once; a refused answer changes nothing."""

    async def run() -> None:
        invitation = published(guests=allowance)
        service, _ = await service_with(invitation)
        kept: dict[int, int] = {}
        for person, attending, size in replies:
            reply = Reply(attending=attending, party_size=size, contact=f"p{person}@example.com")
            try:
                await service.reply(invitation.slug or "", reply)
            except (NoSeatsLeft, RuleViolated):
                continue
            kept[person] = size if attending else 0
            assert sum(kept.values()) <= allowance
        found = await service.responses(OWNER, invitation.id, PageRequest(limit=50))
        assert found.confirmed == sum(kept.values()) <= allowance
        assert found.page.total == len(kept)

    asyncio.run(run())
