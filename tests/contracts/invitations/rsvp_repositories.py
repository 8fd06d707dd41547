"""The contract of the guests' and answers' repositories: the in-memory fake and SQL on
every database run it (``tests/integration/repositories/invitations``) through
``uow_factory``, with the allowance held under concurrent answers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from talia_core.invitations.fields import WEDDING_SCHEMA, FieldSchema
from talia_core.invitations.model import Allowances, Invitation
from talia_core.invitations.rsvp import Guest, NoSeatsLeft, Reply
from talia_core.invitations.rsvp_services import RsvpService
from talia_core.invitations.services import Caller
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import NotFound, RuleViolated
from talia_core.shared.pagination import PageRequest
from tests.conftest import UowFactory

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
OWNER = Caller("owner-1")
PAGE = PageRequest(limit=50)
SCHEMA = FieldSchema.parse(WEDDING_SCHEMA)


async def _published(
    uow_factory: UowFactory, *, guests: int, slug: str = "ana-y-luis"
) -> Invitation:
    invitation = Invitation.bought(
        owner_id=OWNER.id,
        order_id=None,
        order_item=None,
        template_id=None,
        plan_id=None,
        allowances=Allowances(guests=guests, custom_slug=True),
        at=T0,
    )
    invitation.save_data(
        {"partner_one": "Ana", "partner_two": "Luis", "date": "2027-02-14"},
        SCHEMA,
        at=T0,
        merge=False,
    )
    invitation.publish(SCHEMA, slug=slug, at=T0)
    async with uow_factory() as uow:
        await uow.invitations.add_if_absent(invitation)
        await uow.commit()
    return invitation


def _service(uow_factory: UowFactory, clock: FakeClock | None = None) -> RsvpService:
    return RsvpService(uow_factory, clock or FakeClock(T0 + timedelta(days=1)))


class RsvpRepositoryContract:
    async def test_twenty_concurrent_answers_for_ten_places_confirm_exactly_ten(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = await _published(uow_factory, guests=10)
        service = _service(uow_factory)

        async def one(n: int) -> bool:
            reply = Reply(attending=True, party_size=1, contact=f"guest{n}@example.com")
            try:
                await service.reply("ana-y-luis", reply)
            except NoSeatsLeft:
                return False
            return True

        accepted = await asyncio.gather(*(one(n) for n in range(20)))

        found = await service.responses(OWNER, invitation.id, PAGE)
        assert sum(accepted) == 10
        assert (found.confirmed, found.page.total) == (10, 10)

    async def test_a_guest_answering_again_changes_its_answer_and_never_adds_one(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = await _published(uow_factory, guests=10)
        service = _service(uow_factory)
        guest = await service.add_guest(OWNER, invitation.id, name="Familia Pérez", allowance=4)

        first = await service.reply("ana-y-luis", Reply(True, 4, guest_token=guest.token))
        again = await service.reply(
            "ana-y-luis", Reply(True, 2, names=("Rosa", "Juan"), guest_token=guest.token)
        )

        assert (first.created, again.created) == (True, False)
        assert again.answer.id == first.answer.id
        [stored] = await service.every_response(OWNER, invitation.id)
        assert (stored.party_size, stored.names, stored.guest_id) == (2, ["Rosa", "Juan"], guest.id)
        assert (await service.responses(OWNER, invitation.id, PAGE)).confirmed == 2

    async def test_a_contact_written_another_way_answers_once(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = await _published(uow_factory, guests=10)
        service = _service(uow_factory)

        await service.reply("ana-y-luis", Reply(True, 3, contact="+51 999 888 777"))
        await service.reply("ana-y-luis", Reply(False, 0, contact="+51999888777"))

        [stored] = await service.every_response(OWNER, invitation.id)
        assert (stored.attending, stored.party_size) == (False, 0)
        assert (await service.responses(OWNER, invitation.id, PAGE)).confirmed == 0

    async def test_with_a_guest_list_an_answer_needs_a_good_token_and_changes_nothing_without(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = await _published(uow_factory, guests=10)
        service = _service(uow_factory)
        await service.add_guest(OWNER, invitation.id, name="Familia Pérez", allowance=2)

        with pytest.raises(NotFound):
            await service.reply("ana-y-luis", Reply(True, 1, guest_token="not-a-token"))
        with pytest.raises(RuleViolated) as refused:
            await service.reply("ana-y-luis", Reply(True, 1, contact="ana@example.com"))

        assert refused.value.fields == {"guest_token": "required"}
        assert await service.every_response(OWNER, invitation.id) == []

    async def test_a_token_differing_only_in_case_is_another_token(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = await _published(uow_factory, guests=10)
        token = "AbCdEfGhIjKlMnOpQrStUv"  # base64url, as ``Guest.invite`` makes them
        guest = Guest(invitation.id, "Familia Pérez", 2, token, T0)
        async with uow_factory() as uow:
            await uow.guests.add(guest)
            await uow.commit()
        service = _service(uow_factory)

        with pytest.raises(NotFound):
            await service.reply("ana-y-luis", Reply(True, 1, guest_token=token.swapcase()))
        with pytest.raises(NotFound):
            await service.reply("ana-y-luis", Reply(True, 1, guest_token=token.lower()))

        assert await service.every_response(OWNER, invitation.id) == []
        twin = Guest(invitation.id, "Los Gómez", 2, token.swapcase(), T0)
        async with uow_factory() as uow:
            await uow.guests.add(twin)  # its own token: the unique key compares bytes too
            await uow.commit()
        answered = await service.reply("ana-y-luis", Reply(True, 2, guest_token=token))
        assert answered.answer.guest_id == guest.id

    async def test_a_token_of_another_invitation_is_refused(self, uow_factory: UowFactory) -> None:
        mine = await _published(uow_factory, guests=10)
        other = await _published(uow_factory, guests=10, slug="rosa-y-juan")
        service = _service(uow_factory)
        await service.add_guest(OWNER, mine.id, name="Familia Pérez", allowance=2)
        stranger = await service.add_guest(OWNER, other.id, name="Los Gómez", allowance=2)

        with pytest.raises(NotFound):
            await service.reply("ana-y-luis", Reply(True, 1, guest_token=stranger.token))

    async def test_a_removed_guest_takes_its_answer_and_gives_its_places_back(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = await _published(uow_factory, guests=3)
        service = _service(uow_factory)
        first = await service.add_guest(OWNER, invitation.id, name="Familia Pérez", allowance=3)
        second = await service.add_guest(OWNER, invitation.id, name="Los Gómez", allowance=3)
        await service.reply("ana-y-luis", Reply(True, 3, guest_token=first.token))
        with pytest.raises(NoSeatsLeft):
            await service.reply("ana-y-luis", Reply(True, 1, guest_token=second.token))

        await service.remove_guest(OWNER, invitation.id, first.id)
        await service.reply("ana-y-luis", Reply(True, 3, guest_token=second.token))

        listed = await service.guests(OWNER, invitation.id, PAGE)
        assert [g.name for g in listed.items] == ["Los Gómez"]
        [stored] = await service.every_response(OWNER, invitation.id)
        assert stored.guest_id == second.id
        with pytest.raises(NotFound):
            await service.remove_guest(OWNER, invitation.id, first.id)

    async def test_another_owners_guests_and_answers_are_not_found(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = await _published(uow_factory, guests=3)
        service = _service(uow_factory)
        stranger = Caller("owner-2")

        with pytest.raises(NotFound):
            await service.add_guest(stranger, invitation.id, name="Intrusos", allowance=1)
        with pytest.raises(NotFound):
            await service.responses(stranger, invitation.id, PAGE)
