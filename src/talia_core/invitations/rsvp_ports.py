"""What guests and answers (RSVP) need from storage."""

from __future__ import annotations

from typing import Protocol

from talia_core.invitations.ports import InvitationsUnitOfWork
from talia_core.invitations.rsvp import Answer, Guest
from talia_core.shared.pagination import Page, PageRequest


class GuestRepository(Protocol):
    async def add(self, guest: Guest) -> None: ...

    async def find(self, invitation_id: str, page: PageRequest) -> Page[Guest]:
        """Newest first."""
        ...

    async def every(self, invitation_id: str) -> list[Guest]:
        """Oldest first."""
        ...

    async def by_token(self, invitation_id: str, token: str) -> Guest:
        """Raises ``NotFound`` when no guest of the invitation has the token."""
        ...

    async def has_any(self, invitation_id: str) -> bool: ...

    async def remove(self, invitation_id: str, guest_id: str) -> None:
        """The guest and its answer; raises ``NotFound``."""
        ...


class AnswerRepository(Protocol):
    async def invitation_id(self, slug: str) -> str:
        """The id of the invitation under ``slug``; raises ``NotFound``."""
        ...

    async def add(self, answer: Answer) -> None:
        """Raises ``Conflict`` when its guest, or its contact on the invitation, has one."""
        ...

    async def update(self, answer: Answer) -> None: ...

    async def of_guest(self, guest_id: str) -> Answer | None: ...

    async def of_contact(self, invitation_id: str, contact_key: str) -> Answer | None: ...

    async def confirmed(self, invitation_id: str, *, excluding: str | None = None) -> int:
        """The people confirmed by the invitation's answers, but the one ``excluding``."""
        ...

    async def find(self, invitation_id: str, page: PageRequest) -> Page[Answer]:
        """Newest first."""
        ...

    async def every(self, invitation_id: str) -> list[Answer]:
        """Oldest first."""
        ...


class RsvpUnitOfWork(InvitationsUnitOfWork, Protocol):
    @property
    def guests(self) -> GuestRepository: ...

    @property
    def answers(self) -> AnswerRepository: ...
