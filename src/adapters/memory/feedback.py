"""In-memory repositories of the feedback context."""

from __future__ import annotations

from collections.abc import Callable

from adapters.memory.database import InMemoryRepositoryBundle, InMemoryTable, State, paginate
from talia_core.feedback.model import (
    Claim,
    ClaimStatus,
    ContactMessage,
    Testimonial,
    TestimonialStatus,
)
from talia_core.shared.errors import Conflict
from talia_core.shared.pagination import Page, PageRequest


class InMemoryContactMessageRepository(InMemoryTable[ContactMessage]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "contact_messages", "contact message")

    async def find(self, page: PageRequest, *, unread_only: bool) -> Page[ContactMessage]:
        found = self.matching(lambda m: not unread_only or m.read_at is None)
        return paginate(found, page, key=lambda m: (m.received_at, m.id))


class InMemoryClaimRepository(InMemoryTable[Claim]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "claims", "claim")

    async def add(self, claim: Claim) -> None:
        if any(c.number == claim.number for c in self.rows.values()):
            raise Conflict(f"claim number {claim.number} is taken")
        await super().add(claim)

    async def find(self, page: PageRequest, *, status: ClaimStatus | None) -> Page[Claim]:
        found = self.matching(lambda c: status is None or c.status is status)
        return paginate(found, page, key=lambda c: c.number)


class InMemoryTestimonialRepository(InMemoryTable[Testimonial]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "testimonials", "testimonial")

    async def find(
        self, page: PageRequest, *, status: TestimonialStatus | None
    ) -> Page[Testimonial]:
        found = self.matching(lambda t: status is None or t.status is status)
        return paginate(found, page, key=lambda t: (t.submitted_at, t.id))


class InMemoryFeedbackRepositories(InMemoryRepositoryBundle):
    contact_messages: InMemoryContactMessageRepository
    claims: InMemoryClaimRepository
    testimonials: InMemoryTestimonialRepository

    def bind(self, state: Callable[[], State]) -> None:
        self.contact_messages = InMemoryContactMessageRepository(state)
        self.claims = InMemoryClaimRepository(state)
        self.testimonials = InMemoryTestimonialRepository(state)
        super().bind(state)
