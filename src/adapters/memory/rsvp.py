"""In-memory guests and answers (RSVP)."""

from __future__ import annotations

from collections.abc import Callable

from adapters.memory.database import InMemoryRepositoryBundle, InMemoryTable, State, paginate
from talia_core.invitations.model import Invitation
from talia_core.invitations.rsvp import Answer, Guest
from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.pagination import Page, PageRequest


class InMemoryGuestRepository(InMemoryTable[Guest]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "invitation_guests", "guest")

    async def add(self, guest: Guest) -> None:
        if self.matching(lambda g: g.token == guest.token):
            raise Conflict("the guest's token is taken")
        await super().add(guest)

    async def find(self, invitation_id: str, page: PageRequest) -> Page[Guest]:
        found = self.matching(lambda g: g.invitation_id == invitation_id)
        return paginate(found, page, key=lambda g: (g.created_at, g.id))

    async def every(self, invitation_id: str) -> list[Guest]:
        found = self.matching(lambda g: g.invitation_id == invitation_id)
        return sorted(found, key=lambda g: (g.created_at, g.id))

    async def by_token(self, invitation_id: str, token: str) -> Guest:
        found = self.matching(lambda g: (g.invitation_id, g.token) == (invitation_id, token))
        if not found:
            raise NotFound("guest", "of this link")
        return found[0]

    async def has_any(self, invitation_id: str) -> bool:
        return bool(self.matching(lambda g: g.invitation_id == invitation_id))

    async def remove(self, invitation_id: str, guest_id: str) -> None:
        guest = self.rows.get(guest_id)
        if guest is None or guest.invitation_id != invitation_id:
            raise NotFound("guest", guest_id)
        del self.rows[guest_id]
        answers: dict[str, Answer] = self._state().table("invitation_answers")
        for key in [key for key, answer in answers.items() if answer.guest_id == guest_id]:
            del answers[key]


class InMemoryAnswerRepository(InMemoryTable[Answer]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "invitation_answers", "answer")

    async def invitation_id(self, slug: str) -> str:
        invitations: dict[str, Invitation] = self._state().table("invitations")
        found = next((i.id for i in invitations.values() if i.slug == slug), None)
        if found is None:
            raise NotFound("invitation", slug)
        return found

    async def add(self, answer: Answer) -> None:
        if self.matching(
            lambda a: (
                (answer.guest_id is not None and a.guest_id == answer.guest_id)
                or (
                    answer.contact_key is not None
                    and (a.invitation_id, a.contact_key)
                    == (answer.invitation_id, answer.contact_key)
                )
            )
        ):
            raise Conflict("this guest has answered")
        await super().add(answer)

    async def of_guest(self, guest_id: str) -> Answer | None:
        found = self.matching(lambda a: a.guest_id == guest_id)
        return found[0] if found else None

    async def of_contact(self, invitation_id: str, contact_key: str) -> Answer | None:
        found = self.matching(
            lambda a: (a.invitation_id, a.contact_key) == (invitation_id, contact_key)
        )
        return found[0] if found else None

    async def confirmed(self, invitation_id: str, *, excluding: str | None = None) -> int:
        return sum(
            answer.confirmed
            for answer in self.rows.values()
            if answer.invitation_id == invitation_id and answer.id != excluding
        )

    async def find(self, invitation_id: str, page: PageRequest) -> Page[Answer]:
        found = self.matching(lambda a: a.invitation_id == invitation_id)
        return paginate(found, page, key=lambda a: (a.created_at, a.id))

    async def every(self, invitation_id: str) -> list[Answer]:
        found = self.matching(lambda a: a.invitation_id == invitation_id)
        return sorted(found, key=lambda a: (a.created_at, a.id))


class InMemoryRsvpRepositories(InMemoryRepositoryBundle):
    guests: InMemoryGuestRepository
    answers: InMemoryAnswerRepository

    def bind(self, state: Callable[[], State]) -> None:
        self.guests = InMemoryGuestRepository(state)
        self.answers = InMemoryAnswerRepository(state)
        super().bind(state)
