"""In-memory invitations, and the catalog terms they read from the in-memory catalog."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from adapters.memory.database import InMemoryRepositoryBundle, InMemoryTable, State, paginate
from adapters.memory.short_urls import InMemoryShortUrlRepository
from talia_core.catalog.model import Plan, Template
from talia_core.invitations.fields import WEDDING_SCHEMA, FieldSchema
from talia_core.invitations.model import Allowances, Invitation
from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.pagination import Page, PageRequest

CASCADED = ("invitation_guests", "invitation_answers", "invitation_media", "short_urls")
"""The tables of what belongs to an invitation, each row holding its ``invitation_id``."""


class InMemoryInvitationRepository(InMemoryTable[Invitation]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "invitations", "invitation")

    async def add_if_absent(self, invitation: Invitation) -> bool:
        if invitation.order_id is not None and self.matching(
            lambda i: (i.order_id, i.order_item) == (invitation.order_id, invitation.order_item)
        ):
            return False
        await self.add(invitation)
        return True

    async def update(self, invitation: Invitation) -> None:
        if invitation.slug is not None and self.matching(
            lambda i: i.slug == invitation.slug and i.id != invitation.id
        ):
            raise Conflict(f"the slug {invitation.slug!r} is taken")
        await super().update(invitation)

    async def remove(self, invitation_id: str) -> None:
        """Its guests, answers, media and short URLs go too, as the tables' cascades do."""
        if self.rows.pop(invitation_id, None) is None:
            raise NotFound("invitation", invitation_id)
        for name in CASCADED:
            rows = self._state().table(name)
            for key in [key for key, row in rows.items() if row.invitation_id == invitation_id]:
                del rows[key]

    async def find(self, page: PageRequest, *, owner_id: str | None) -> Page[Invitation]:
        found = self.matching(lambda i: owner_id is None or i.owner_id == owner_id)
        return paginate(found, page, key=lambda i: (i.created_at, i.id))

    async def of_order(self, order_id: str) -> list[Invitation]:
        found = self.matching(lambda i: i.order_id == order_id)
        return sorted(found, key=lambda i: (i.created_at, i.id))

    async def of_slug(self, slug: str) -> Invitation | None:
        return next(iter(self.matching(lambda i: i.slug == slug)), None)


class InMemoryInvitationTerms:
    def __init__(self, state: Callable[[], State]) -> None:
        self._state = state

    async def schema_of(self, template_id: str | None) -> FieldSchema:
        template: Template | None = self._state().table("templates").get(template_id or "")
        return FieldSchema.parse((template.fields if template else None) or WEDDING_SCHEMA)

    async def allowances_of(self, plan_id: str | None) -> Allowances:
        plan: Plan | None = self._state().table("plans").get(plan_id or "")
        return Allowances(**attrs.asdict(plan.allowances)) if plan else Allowances()


class InMemoryInvitationsRepositories(InMemoryRepositoryBundle):
    invitations: InMemoryInvitationRepository
    invitation_terms: InMemoryInvitationTerms
    short_urls: InMemoryShortUrlRepository

    def bind(self, state: Callable[[], State]) -> None:
        self.invitations = InMemoryInvitationRepository(state)
        self.invitation_terms = InMemoryInvitationTerms(state)
        self.short_urls = InMemoryShortUrlRepository(state)
        super().bind(state)
