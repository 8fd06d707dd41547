"""Contact messages, claims and testimonials, and the moves each of them allows."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from talia_core.shared.errors import Conflict, RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.text import email_address, optional_text, required_text


@attrs.define
class ContactMessage:
    name: str
    email: str
    subject: str | None
    body: str
    received_at: datetime
    read_at: datetime | None = None
    read_by: str | None = None
    id: str = attrs.field(factory=new_id)

    @classmethod
    def receive(
        cls, *, name: str, email: str, subject: str | None, body: str, at: datetime
    ) -> ContactMessage:
        return cls(
            name=required_text("name", name, 120),
            email=email_address("email", email),
            subject=optional_text("subject", subject, 200),
            body=required_text("body", body, 5000),
            received_at=at,
        )

    def mark_read(self, *, by: str, at: datetime) -> None:
        """Reading twice keeps the first reader and time."""
        if self.read_at is None:
            self.read_at = at
            self.read_by = by


class ClaimKind(enum.StrEnum):
    """A claim disputes a product or service; a complaint is about the service received."""

    CLAIM = "claim"
    COMPLAINT = "complaint"


class ClaimStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


@attrs.define
class Claim:
    """An entry of the claims book. It keeps its sequential number and is never deleted."""

    number: int
    kind: ClaimKind
    customer_name: str
    customer_email: str
    customer_phone: str | None
    customer_document: str | None
    subject: str
    description: str
    request: str
    filed_at: datetime
    status: ClaimStatus = ClaimStatus.OPEN
    answer: str | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    id: str = attrs.field(factory=new_id)

    @classmethod
    def file(
        cls,
        *,
        number: int,
        kind: ClaimKind,
        customer_name: str,
        customer_email: str,
        customer_phone: str | None,
        customer_document: str | None,
        subject: str,
        description: str,
        request: str,
        at: datetime,
    ) -> Claim:
        return cls(
            number=number,
            kind=kind,
            customer_name=required_text("customer_name", customer_name, 120),
            customer_email=email_address("customer_email", customer_email),
            customer_phone=optional_text("customer_phone", customer_phone, 32),
            customer_document=optional_text("customer_document", customer_document, 32),
            subject=required_text("subject", subject, 200),
            description=required_text("description", description, 5000),
            request=required_text("request", request, 2000),
            filed_at=at,
        )

    def respond(self, *, answer: str, by: str, at: datetime) -> None:
        if self.status is ClaimStatus.ANSWERED:
            raise Conflict(f"claim {self.number} is already answered")
        self.answer = required_text("answer", answer, 5000)
        self.answered_at = at
        self.answered_by = by
        self.status = ClaimStatus.ANSWERED


class TestimonialStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"


@attrs.define
class Testimonial:
    author_id: str
    author_name: str
    body: str
    rating: int
    submitted_at: datetime
    status: TestimonialStatus = TestimonialStatus.PENDING
    approved_at: datetime | None = None
    approved_by: str | None = None
    id: str = attrs.field(factory=new_id)

    @classmethod
    def submit(
        cls, *, author_id: str, author_name: str, body: str, rating: int, at: datetime
    ) -> Testimonial:
        if not 1 <= rating <= 5:
            raise RuleViolated("rating must be between 1 and 5", {"rating": "out of range"})
        return cls(
            author_id=author_id,
            author_name=required_text("author_name", author_name, 120),
            body=required_text("body", body, 2000),
            rating=rating,
            submitted_at=at,
        )

    def approve(self, *, by: str, at: datetime) -> None:
        if self.status is TestimonialStatus.APPROVED:
            raise Conflict("the testimonial is already approved")
        self.status = TestimonialStatus.APPROVED
        self.approved_at = at
        self.approved_by = by
