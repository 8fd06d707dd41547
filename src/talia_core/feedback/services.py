"""Feedback use cases. Each one is a single transaction."""

from __future__ import annotations

from talia_core.feedback.model import (
    Claim,
    ClaimKind,
    ClaimStatus,
    ContactMessage,
    Testimonial,
    TestimonialStatus,
)
from talia_core.feedback.ports import FeedbackUnitOfWork
from talia_core.shared.clock import Clock
from talia_core.shared.events import DomainEvent
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory

CLAIM_SEQUENCE = "claims"


class FeedbackService:
    def __init__(self, uow: UnitOfWorkFactory[FeedbackUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def send_contact_message(
        self, *, name: str, email: str, subject: str | None, body: str
    ) -> ContactMessage:
        now = self._clock.now()
        message = ContactMessage.receive(name=name, email=email, subject=subject, body=body, at=now)
        async with self._uow() as uow:
            await uow.contact_messages.add(message)
            await uow.outbox.add(
                DomainEvent("contact_message.received", now, {"message_id": message.id})
            )
            await uow.commit()
        return message

    async def list_contact_messages(
        self, page: PageRequest, *, unread_only: bool = False
    ) -> Page[ContactMessage]:
        async with self._uow(read_only=True) as uow:
            return await uow.contact_messages.find(page, unread_only=unread_only)

    async def mark_contact_message_read(self, message_id: str, *, by: str) -> ContactMessage:
        async with self._uow() as uow:
            message = await uow.contact_messages.get(message_id)
            message.mark_read(by=by, at=self._clock.now())
            await uow.contact_messages.update(message)
            await uow.commit()
        return message

    async def file_claim(
        self,
        *,
        kind: ClaimKind,
        customer_name: str,
        customer_email: str,
        customer_phone: str | None,
        customer_document: str | None,
        subject: str,
        description: str,
        request: str,
    ) -> Claim:
        now = self._clock.now()
        async with self._uow() as uow:
            claim = Claim.file(
                number=await uow.sequences.next_value(CLAIM_SEQUENCE),
                kind=kind,
                customer_name=customer_name,
                customer_email=customer_email,
                customer_phone=customer_phone,
                customer_document=customer_document,
                subject=subject,
                description=description,
                request=request,
                at=now,
            )
            await uow.claims.add(claim)
            await uow.outbox.add(
                DomainEvent("claim.filed", now, {"claim_id": claim.id, "number": claim.number})
            )
            await uow.commit()
        return claim

    async def list_claims(
        self, page: PageRequest, *, status: ClaimStatus | None = None
    ) -> Page[Claim]:
        async with self._uow(read_only=True) as uow:
            return await uow.claims.find(page, status=status)

    async def answer_claim(self, claim_id: str, *, answer: str, by: str) -> Claim:
        async with self._uow() as uow:
            claim = await uow.claims.get(claim_id)
            claim.respond(answer=answer, by=by, at=self._clock.now())
            await uow.claims.update(claim)
            await uow.commit()
        return claim

    async def submit_testimonial(
        self, *, author_id: str, author_name: str, body: str, rating: int
    ) -> Testimonial:
        now = self._clock.now()
        testimonial = Testimonial.submit(
            author_id=author_id, author_name=author_name, body=body, rating=rating, at=now
        )
        async with self._uow() as uow:
            await uow.testimonials.add(testimonial)
            await uow.commit()
        return testimonial

    async def list_testimonials(
        self, page: PageRequest, *, status: TestimonialStatus | None = None
    ) -> Page[Testimonial]:
        async with self._uow(read_only=True) as uow:
            return await uow.testimonials.find(page, status=status)

    async def approve_testimonial(self, testimonial_id: str, *, by: str) -> Testimonial:
        async with self._uow() as uow:
            testimonial = await uow.testimonials.get(testimonial_id)
            testimonial.approve(by=by, at=self._clock.now())
            await uow.testimonials.update(testimonial)
            await uow.commit()
        return testimonial
