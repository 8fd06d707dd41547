"""What the invitations context needs from storage and from the catalog."""

from __future__ import annotations

from typing import Protocol

from talia_core.invitations.fields import FieldSchema
from talia_core.invitations.model import Allowances, Invitation
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWork


class InvitationRepository(Protocol):
    async def add_if_absent(self, invitation: Invitation) -> bool:
        """Store it unless its order item already has one (a unique key, not a read
        first); False when it had."""
        ...

    async def get(self, invitation_id: str) -> Invitation:
        """Raises ``NotFound``; locks the invitation in a writing unit."""
        ...

    async def update(self, invitation: Invitation) -> None:
        """Raises ``Conflict`` when its slug is another invitation's."""
        ...

    async def remove(self, invitation_id: str) -> None: ...

    async def find(self, page: PageRequest, *, owner_id: str | None) -> Page[Invitation]:
        """Newest first; every owner's when ``owner_id`` is ``None``."""
        ...

    async def of_order(self, order_id: str) -> list[Invitation]:
        """Locked in a writing unit, oldest first."""
        ...

    async def of_slug(self, slug: str) -> Invitation | None:
        """The invitation holding the slug, whatever its status."""
        ...


class InvitationTerms(Protocol):
    """What the catalog says of a template and a plan, read when an invitation needs it."""

    async def schema_of(self, template_id: str | None) -> FieldSchema:
        """The template's field schema; the default one when it states none, or when the
        template is gone (an invitation outlives its catalog entry)."""
        ...

    async def allowances_of(self, plan_id: str | None) -> Allowances:
        """The plan's allowances; the defaults without a plan."""
        ...


class InvitationsUnitOfWork(UnitOfWork, Protocol):
    @property
    def invitations(self) -> InvitationRepository: ...

    @property
    def invitation_terms(self) -> InvitationTerms: ...
