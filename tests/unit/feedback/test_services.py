"""Feedback use cases against the in-memory unit of work."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.feedback.model import ClaimKind, ClaimStatus, Testimonial, TestimonialStatus
from talia_core.feedback.services import FeedbackService
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Conflict, NotFound, RuleViolated
from talia_core.shared.pagination import PageRequest


@pytest.fixture
def database() -> InMemoryDatabase:
    return InMemoryDatabase()


@pytest.fixture
def feedback(database: InMemoryDatabase) -> FeedbackService:
    return FeedbackService(partial(InMemoryUnitOfWork, database), FakeClock())


async def _file(feedback: FeedbackService, name: str = "Luis") -> int:
    claim = await feedback.file_claim(
        kind=ClaimKind.COMPLAINT,
        customer_name=name,
        customer_email="luis@example.com",
        customer_phone="+51 999 999 999",
        customer_document=None,
        subject="Rude answer",
        description="The agent was rude",
        request="An apology",
    )
    return claim.number


async def test_claims_are_numbered_one_after_another(feedback: FeedbackService) -> None:
    assert [await _file(feedback) for _ in range(3)] == [1, 2, 3]


async def test_a_refused_claim_does_not_spend_a_number(feedback: FeedbackService) -> None:
    await _file(feedback)
    with pytest.raises(RuleViolated):
        await _file(feedback, name="   ")
    assert await _file(feedback) == 2


async def test_a_filed_claim_leaves_an_event_in_the_outbox(
    feedback: FeedbackService, database: InMemoryDatabase
) -> None:
    await _file(feedback)
    assert [event.name for event in database.committed.outbox] == ["claim.filed"]


async def test_a_claim_is_answered_once(feedback: FeedbackService) -> None:
    await _file(feedback)
    claim = (await feedback.list_claims(PageRequest())).items[0]
    answered = await feedback.answer_claim(claim.id, answer="We apologise", by="admin-1")
    assert answered.status is ClaimStatus.ANSWERED
    with pytest.raises(Conflict):
        await feedback.answer_claim(claim.id, answer="Again", by="admin-1")


async def test_answering_an_unknown_claim_is_not_found(feedback: FeedbackService) -> None:
    with pytest.raises(NotFound):
        await feedback.answer_claim("nope", answer="x", by="admin-1")


async def test_marking_read_twice_keeps_the_first_reader(feedback: FeedbackService) -> None:
    message = await feedback.send_contact_message(
        name="Ana", email="ANA@Example.com", subject=None, body="Hello"
    )
    await feedback.mark_contact_message_read(message.id, by="admin-1")
    again = await feedback.mark_contact_message_read(message.id, by="admin-2")
    assert again.read_by == "admin-1"
    assert again.email == "ana@example.com"


async def test_only_approved_testimonials_are_listed_as_approved(
    feedback: FeedbackService,
) -> None:
    first = await feedback.submit_testimonial(
        author_id="u1", author_name="Ana", body="Lovely", rating=5
    )
    await feedback.submit_testimonial(author_id="u2", author_name="Luis", body="Ok", rating=3)
    await feedback.approve_testimonial(first.id, by="admin-1")
    approved = await feedback.list_testimonials(PageRequest(), status=TestimonialStatus.APPROVED)
    assert [t.id for t in approved.items] == [first.id]
    with pytest.raises(Conflict):
        await feedback.approve_testimonial(first.id, by="admin-1")


@given(st.integers())
def test_a_rating_outside_one_to_five_is_refused(rating: int) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    if 1 <= rating <= 5:
        assert Testimonial.submit(author_id="u", author_name="A", body="b", rating=rating, at=at)
    else:
        with pytest.raises(RuleViolated):
            Testimonial.submit(author_id="u", author_name="A", body="b", rating=rating, at=at)


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@b", "two@@example.com", "a b@example.com"])
async def test_a_malformed_email_is_refused_and_nothing_is_stored(
    feedback: FeedbackService, email: str
) -> None:
    with pytest.raises(RuleViolated):
        await feedback.send_contact_message(name="Ana", email=email, subject=None, body="Hi")
    assert (await feedback.list_contact_messages(PageRequest())).total == 0
