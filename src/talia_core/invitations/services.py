"""Invitation use cases: made when their order is paid, kept by their owner, published."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from talia_core.invitations import media_jobs
from talia_core.invitations.media_ports import InvitationMediaUnitOfWork
from talia_core.invitations.model import Event, Invitation, InvitationStatus
from talia_core.invitations.ports import InvitationsUnitOfWork
from talia_core.shared.clock import Clock
from talia_core.shared.errors import Conflict, Forbidden, NotFound
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory

TEMPLATE, PLAN = "template", "plan"


@attrs.frozen
class Caller:
    """Who asks: an owner acting on their own invitations, or an admin on anyone's."""

    id: str
    is_admin: bool = False


@attrs.frozen
class PaidItem:
    """One line of a paid order, as its ``order.paid`` event tells it."""

    kind: str
    product_id: str
    quantity: int


def bought_items(items: list[PaidItem]) -> list[tuple[str, str | None, str | None]]:
    """Each invitation a paid order gives: (order item key, template, plan).

    One per unit of each template bought, with the order's first plan; an order of plans
    only gives one per unit of plan, on the default template. The key names the line and
    the unit, so a redelivered event finds every key taken.
    """
    plans = [item for item in items if item.kind == PLAN]
    plan_id = plans[0].product_id if plans else None
    templates = [item for item in items if item.kind == TEMPLATE]
    if templates:
        return [
            (f"{TEMPLATE}:{item.product_id}#{unit}", item.product_id, plan_id)
            for item in templates
            for unit in range(1, item.quantity + 1)
        ]
    return [
        (f"{PLAN}:{item.product_id}#{unit}", None, item.product_id)
        for item in plans
        for unit in range(1, item.quantity + 1)
    ]


class InvitationService:
    """``wake`` tells the job queue that a job was just committed."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[InvitationMediaUnitOfWork],
        clock: Clock,
        *,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._wake = wake

    async def fulfil(self, order_id: str, owner_id: str, items: list[PaidItem]) -> int:
        """Make the invitations a paid order bought, in one transaction; those already made
        (a redelivered event, a worker that died after committing) are skipped by the
        unique key on the order item. How many were made."""
        now = self._clock.now()
        made = 0
        async with self._uow() as uow:
            for key, template_id, plan_id in bought_items(items):
                invitation = Invitation.bought(
                    owner_id=owner_id,
                    order_id=order_id,
                    order_item=key,
                    template_id=template_id,
                    plan_id=plan_id,
                    allowances=await uow.invitation_terms.allowances_of(plan_id),
                    at=now,
                )
                made += await uow.invitations.add_if_absent(invitation)
            await uow.commit()
        return made

    async def create(
        self, caller: Caller, *, owner_id: str, template_id: str | None, plan_id: str | None
    ) -> Invitation:
        """An admin's invitation for a sale made outside the shop: no order behind it."""
        if not caller.is_admin:
            raise Forbidden("invitations are made by paying for them; only an admin adds one")
        async with self._uow() as uow:
            invitation = Invitation.bought(
                owner_id=owner_id,
                order_id=None,
                order_item=None,
                template_id=template_id,
                plan_id=plan_id,
                allowances=await uow.invitation_terms.allowances_of(plan_id),
                at=self._clock.now(),
            )
            await uow.invitations.add_if_absent(invitation)
            await uow.commit()
        return invitation

    async def revoke_order(self, order_id: str) -> int:
        """The order was refunded: its invitations leave the web for good."""
        now = self._clock.now()
        async with self._uow() as uow:
            revoked = 0
            for invitation in await uow.invitations.of_order(order_id):
                if invitation.revoke(at=now):
                    await uow.invitations.update(invitation)
                    revoked += 1
            await uow.commit()
        return revoked

    async def list(self, caller: Caller, page: PageRequest) -> Page[Invitation]:
        """The caller's own; an admin's listing holds everyone's."""
        async with self._uow(read_only=True) as uow:
            owner = None if caller.is_admin else caller.id
            return await uow.invitations.find(page, owner_id=owner)

    async def get(self, caller: Caller, invitation_id: str) -> Invitation:
        async with self._uow(read_only=True) as uow:
            return await owned(uow, caller, invitation_id)

    async def delete(self, caller: Caller, invitation_id: str) -> None:
        """The invitation goes with its guests, answers, media and short URLs in one
        transaction; its media's files are deleted by a job recorded in it."""
        async with self._uow() as uow:
            invitation = await owned(uow, caller, invitation_id)
            if invitation.status is InvitationStatus.PUBLISHED:
                raise Conflict("a published invitation is unpublished before it is deleted")
            items = await uow.invitation_media.of_invitation(invitation.id)
            await uow.invitations.remove(invitation.id)
            keys = sorted({key for item in items for key in item.keys})
            if keys:
                await uow.jobs.add(media_jobs.purging(invitation.id, keys, self._clock.now()))
            await uow.commit()
        if keys:
            self._wake()

    async def save_data(
        self, caller: Caller, invitation_id: str, data: Mapping[str, Any], *, merge: bool
    ) -> Invitation:
        async with self._uow() as uow:
            invitation = await owned(uow, caller, invitation_id)
            schema = await uow.invitation_terms.schema_of(invitation.template_id)
            invitation.save_data(data, schema, at=self._clock.now(), merge=merge)
            await uow.invitations.update(invitation)
            await uow.commit()
        return invitation

    async def add_event(self, caller: Caller, invitation_id: str, event: Event) -> Event:
        async with self._uow() as uow:
            invitation = await owned(uow, caller, invitation_id)
            added = invitation.add_event(event, at=self._clock.now())
            await uow.invitations.update(invitation)
            await uow.commit()
        return added

    async def revise_event(
        self, caller: Caller, invitation_id: str, event_id: str, changes: Mapping[str, Any]
    ) -> Event:
        async with self._uow() as uow:
            invitation = await owned(uow, caller, invitation_id)
            revised = invitation.revise_event(event_id, changes, at=self._clock.now())
            await uow.invitations.update(invitation)
            await uow.commit()
        return revised

    async def remove_event(self, caller: Caller, invitation_id: str, event_id: str) -> None:
        async with self._uow() as uow:
            invitation = await owned(uow, caller, invitation_id)
            invitation.remove_event(event_id, at=self._clock.now())
            await uow.invitations.update(invitation)
            await uow.commit()

    async def publish(self, caller: Caller, invitation_id: str, *, slug: str | None) -> Invitation:
        """``Conflict`` when the slug is reserved or another invitation's (its unique key)."""
        async with self._uow() as uow:
            invitation = await owned(uow, caller, invitation_id)
            schema = await uow.invitation_terms.schema_of(invitation.template_id)
            invitation.publish(schema, slug=slug, at=self._clock.now())
            await uow.invitations.update(invitation)
            await uow.commit()
        return invitation

    async def unpublish(self, caller: Caller, invitation_id: str) -> Invitation:
        async with self._uow() as uow:
            invitation = await owned(uow, caller, invitation_id)
            invitation.unpublish(at=self._clock.now())
            await uow.invitations.update(invitation)
            await uow.commit()
        return invitation


async def owned(uow: InvitationsUnitOfWork, caller: Caller, invitation_id: str) -> Invitation:
    """The invitation when the caller may see it; another's is as absent as a missing one."""
    invitation = await uow.invitations.get(invitation_id)
    if not caller.is_admin and invitation.owner_id != caller.id:
        raise NotFound("invitation", invitation_id)
    return invitation
