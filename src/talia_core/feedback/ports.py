"""What the feedback context needs from storage."""

from __future__ import annotations

from typing import Protocol

from talia_core.feedback.model import (
    Claim,
    ClaimStatus,
    ContactMessage,
    Testimonial,
    TestimonialStatus,
)
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWork


class ContactMessageRepository(Protocol):
    async def add(self, message: ContactMessage) -> None: ...

    async def get(self, message_id: str) -> ContactMessage:
        """Raises ``NotFound`` when there is no such message."""
        ...

    async def update(self, message: ContactMessage) -> None: ...

    async def find(self, page: PageRequest, *, unread_only: bool) -> Page[ContactMessage]:
        """Newest first."""
        ...


class ClaimRepository(Protocol):
    """Claims are added and answered, never removed."""

    async def add(self, claim: Claim) -> None: ...

    async def get(self, claim_id: str) -> Claim: ...

    async def update(self, claim: Claim) -> None: ...

    async def find(self, page: PageRequest, *, status: ClaimStatus | None) -> Page[Claim]:
        """Highest number first."""
        ...


class TestimonialRepository(Protocol):
    async def add(self, testimonial: Testimonial) -> None: ...

    async def get(self, testimonial_id: str) -> Testimonial: ...

    async def update(self, testimonial: Testimonial) -> None: ...

    async def find(
        self, page: PageRequest, *, status: TestimonialStatus | None
    ) -> Page[Testimonial]:
        """Newest first."""
        ...


class FeedbackUnitOfWork(UnitOfWork, Protocol):
    @property
    def contact_messages(self) -> ContactMessageRepository: ...

    @property
    def claims(self) -> ClaimRepository: ...

    @property
    def testimonials(self) -> TestimonialRepository: ...
