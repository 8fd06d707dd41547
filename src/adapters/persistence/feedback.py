"""Tables, row mappers and repositories of the feedback context.

Each ``get`` locks its row (``FOR UPDATE``) until the transaction ends: a row is fetched to
be changed, and two admins acting at once must not both see it unchanged (a claim answered
twice). SQLite, which serialises writers anyway, ignores the clause.
"""

from __future__ import annotations

from functools import partial

import sqlalchemy as sa

from adapters.persistence.bundle import RepositoryBundle, bound
from adapters.persistence.connection import Transaction
from adapters.persistence.mapping import as_row, from_row
from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from talia_core.feedback.model import (
    Claim,
    ClaimStatus,
    ContactMessage,
    Testimonial,
    TestimonialStatus,
)
from talia_core.shared.errors import NotFound
from talia_core.shared.pagination import Page, PageRequest

contact_messages = sa.Table(
    "contact_messages",
    metadata,
    id_column(primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("subject", sa.String(200)),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False, index=True),
    sa.Column("read_at", UtcDateTime),
    id_column("read_by"),
)

claims = sa.Table(
    "claims",
    metadata,
    id_column(primary_key=True),
    sa.Column("number", sa.Integer, nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("customer_name", sa.String(120), nullable=False),
    sa.Column("customer_email", sa.String(254), nullable=False),
    sa.Column("customer_phone", sa.String(32)),
    sa.Column("customer_document", sa.String(32)),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("request", sa.Text, nullable=False),
    sa.Column("filed_at", UtcDateTime, nullable=False),
    sa.Column("answer", sa.Text),
    sa.Column("answered_at", UtcDateTime),
    id_column("answered_by"),
)

testimonials = sa.Table(
    "testimonials",
    metadata,
    id_column(primary_key=True),
    id_column("author_id", nullable=False),
    sa.Column("author_name", sa.String(120), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("rating", sa.SmallInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("submitted_at", UtcDateTime, nullable=False),
    sa.Column("approved_at", UtcDateTime),
    id_column("approved_by"),
    sa.Index("ix_testimonials_status_submitted_at", "status", "submitted_at"),
)


class SqlAlchemyContactMessageRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, message: ContactMessage) -> None:
        await self._tx.execute(contact_messages.insert().values(as_row(message)))

    async def get(self, message_id: str) -> ContactMessage:
        row = await self._tx.one_or_none(
            contact_messages.select().where(contact_messages.c.id == message_id).with_for_update()
        )
        if row is None:
            raise NotFound("contact message", message_id)
        return from_row(ContactMessage, row._mapping)

    async def update(self, message: ContactMessage) -> None:
        await self._tx.execute(
            contact_messages.update()
            .where(contact_messages.c.id == message.id)
            .values(read_at=message.read_at, read_by=message.read_by)
        )

    async def find(self, page: PageRequest, *, unread_only: bool) -> Page[ContactMessage]:
        query = contact_messages.select()
        if unread_only:
            query = query.where(contact_messages.c.read_at.is_(None))
        order = [contact_messages.c.received_at.desc(), contact_messages.c.id.desc()]
        return await self._tx.page(query, page, order, partial(from_row, ContactMessage))


class SqlAlchemyClaimRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, claim: Claim) -> None:
        await self._tx.execute(claims.insert().values(as_row(claim)))

    async def get(self, claim_id: str) -> Claim:
        row = await self._tx.one_or_none(
            claims.select().where(claims.c.id == claim_id).with_for_update()
        )
        if row is None:
            raise NotFound("claim", claim_id)
        return from_row(Claim, row._mapping)

    async def update(self, claim: Claim) -> None:
        await self._tx.execute(
            claims.update()
            .where(claims.c.id == claim.id)
            .values(
                status=claim.status.value,
                answer=claim.answer,
                answered_at=claim.answered_at,
                answered_by=claim.answered_by,
            )
        )

    async def find(self, page: PageRequest, *, status: ClaimStatus | None) -> Page[Claim]:
        query = claims.select()
        if status is not None:
            query = query.where(claims.c.status == status.value)
        return await self._tx.page(query, page, [claims.c.number.desc()], partial(from_row, Claim))


class SqlAlchemyTestimonialRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, testimonial: Testimonial) -> None:
        await self._tx.execute(testimonials.insert().values(as_row(testimonial)))

    async def get(self, testimonial_id: str) -> Testimonial:
        row = await self._tx.one_or_none(
            testimonials.select().where(testimonials.c.id == testimonial_id).with_for_update()
        )
        if row is None:
            raise NotFound("testimonial", testimonial_id)
        return from_row(Testimonial, row._mapping)

    async def update(self, testimonial: Testimonial) -> None:
        await self._tx.execute(
            testimonials.update()
            .where(testimonials.c.id == testimonial.id)
            .values(
                status=testimonial.status.value,
                approved_at=testimonial.approved_at,
                approved_by=testimonial.approved_by,
            )
        )

    async def find(
        self, page: PageRequest, *, status: TestimonialStatus | None
    ) -> Page[Testimonial]:
        query = testimonials.select()
        if status is not None:
            query = query.where(testimonials.c.status == status.value)
        order = [testimonials.c.submitted_at.desc(), testimonials.c.id.desc()]
        return await self._tx.page(query, page, order, partial(from_row, Testimonial))


class FeedbackRepositories(RepositoryBundle):
    contact_messages = bound(SqlAlchemyContactMessageRepository)
    claims = bound(SqlAlchemyClaimRepository)
    testimonials = bound(SqlAlchemyTestimonialRepository)
