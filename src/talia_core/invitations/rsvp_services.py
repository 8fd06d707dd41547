"""RSVP use cases: the owner's guest list and answers, and a guest's answer.

An answer locks its invitation's row for the length of its transaction (a writing unit's
``invitations.get``), so concurrent answers to one invitation count the confirmed people
one after another and together never pass the allowance.
"""

from __future__ import annotations

import attrs

from talia_core.invitations.rsvp import Answer, Guest, Reply, answer, check_open, contact_key
from talia_core.invitations.rsvp_ports import RsvpUnitOfWork
from talia_core.invitations.services import Caller, owned
from talia_core.shared.clock import Clock
from talia_core.shared.errors import NotFound, RuleViolated
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory


@attrs.frozen
class Responses:
    """A page of answers and what they add up to."""

    page: Page[Answer]
    confirmed: int
    allowance: int


@attrs.frozen
class Answered:
    answer: Answer
    created: bool


class RsvpService:
    def __init__(self, uow: UnitOfWorkFactory[RsvpUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def add_guest(
        self, caller: Caller, invitation_id: str, *, name: str, allowance: int
    ) -> Guest:
        async with self._uow() as uow:
            invitation = await owned(uow, caller, invitation_id)
            guest = Guest.invite(invitation, name=name, allowance=allowance, at=self._clock.now())
            await uow.guests.add(guest)
            await uow.commit()
        return guest

    async def guests(self, caller: Caller, invitation_id: str, page: PageRequest) -> Page[Guest]:
        async with self._uow(read_only=True) as uow:
            await owned(uow, caller, invitation_id)
            return await uow.guests.find(invitation_id, page)

    async def every_guest(self, caller: Caller, invitation_id: str) -> list[Guest]:
        async with self._uow(read_only=True) as uow:
            await owned(uow, caller, invitation_id)
            return await uow.guests.every(invitation_id)

    async def remove_guest(self, caller: Caller, invitation_id: str, guest_id: str) -> None:
        """The guest's answer goes with it, giving its places back."""
        async with self._uow() as uow:
            await owned(uow, caller, invitation_id)
            await uow.guests.remove(invitation_id, guest_id)
            await uow.commit()

    async def responses(self, caller: Caller, invitation_id: str, page: PageRequest) -> Responses:
        async with self._uow(read_only=True) as uow:
            invitation = await owned(uow, caller, invitation_id)
            return Responses(
                page=await uow.answers.find(invitation_id, page),
                confirmed=await uow.answers.confirmed(invitation_id),
                allowance=invitation.allowances.guests,
            )

    async def every_response(self, caller: Caller, invitation_id: str) -> list[Answer]:
        async with self._uow(read_only=True) as uow:
            await owned(uow, caller, invitation_id)
            return await uow.answers.every(invitation_id)

    async def reply(self, slug: str, reply: Reply) -> Answered:
        """A guest's answer to the invitation published under ``slug``: by its guest link
        when the invitation has a guest list, else by the contact given. Answering again
        replaces the answer."""
        async with self._uow() as uow:
            invitation = await uow.invitations.get(await uow.answers.invitation_id(slug))
            if invitation.slug != slug:  # published again under another slug meanwhile
                raise NotFound("invitation", slug)
            now = self._clock.now()
            check_open(invitation, now)
            guest = None
            if reply.guest_token is not None:
                guest = await uow.guests.by_token(invitation.id, reply.guest_token)
            elif await uow.guests.has_any(invitation.id):
                raise RuleViolated(
                    "this invitation is answered through each guest's own link",
                    {"guest_token": "required"},
                )
            previous = None
            if guest is not None:
                previous = await uow.answers.of_guest(guest.id)
            elif reply.contact is not None and reply.contact.strip():
                previous = await uow.answers.of_contact(invitation.id, contact_key(reply.contact))
            others = await uow.answers.confirmed(
                invitation.id, excluding=previous.id if previous is not None else None
            )
            given = answer(
                invitation,
                guest,
                reply,
                previous=previous,
                confirmed_by_others=others,
                at=now,
            )
            if previous is None:
                await uow.answers.add(given)
            else:
                await uow.answers.update(given)
            await uow.commit()
        return Answered(given, created=previous is None)
