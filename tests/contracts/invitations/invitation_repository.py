"""The contract of the invitations' repositories: the in-memory fake and SQL on every
database run it (``tests/integration/repositories/invitations``) through ``uow_factory``.

Fulfilment runs here too: a paid order's invitations are made exactly once whatever the
delivery does (twice in a row, or by several workers at once)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.memory.media import FakeImageProcessor
from talia_core.catalog.model import Plan, PlanAllowances, Template
from talia_core.invitations.fields import WEDDING_SCHEMA, FieldSchema
from talia_core.invitations.media import MediaItem, MediaRole
from talia_core.invitations.model import Allowances, Event, Invitation, InvitationStatus
from talia_core.invitations.public import ShortUrl, new_code
from talia_core.invitations.rsvp import Answer, Guest
from talia_core.invitations.services import InvitationService, PaidItem
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.media import PNG
from talia_core.shared.money import Money
from talia_core.shared.pagination import PageRequest
from tests.conftest import UowFactory
from tests.contracts.media.image_processor import photo

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
PAGE = PageRequest(limit=50)
LIMA = ZoneInfo("America/Lima")


def _invitation(owner: str = "owner-1", *, order: str = "order-1", item: str = "t#1") -> Invitation:
    return Invitation.bought(
        owner_id=owner,
        order_id=order,
        order_item=item,
        template_id="template-1",
        plan_id="plan-1",
        allowances=Allowances(guests=150, custom_slug=True),
        at=T0,
    )


async def _add(uow_factory: UowFactory, *invitations: Invitation) -> None:
    async with uow_factory() as uow:
        for invitation in invitations:
            assert await uow.invitations.add_if_absent(invitation)
        await uow.commit()


async def _catalog(uow_factory: UowFactory) -> tuple[Template, Plan]:
    template = Template.create(
        name="Rosa",
        category="bodas",
        price=Money(9_000, "PEN"),
        preview_url=None,
        active=True,
        at=T0,
        fields={"properties": {"honouree": {"type": "string"}}, "required": ["honouree"]},
    )
    plan = Plan.create(
        name="Premium",
        price=Money(5_000, "PEN"),
        features=[],
        active=True,
        at=T0,
        allowances=PlanAllowances(guests=250, events=8, custom_slug=True),
    )
    async with uow_factory() as uow:
        await uow.templates.add(template)
        await uow.plans.add(plan)
        await uow.commit()
    return template, plan


async def _belongings(
    uow_factory: UowFactory, invitation: Invitation
) -> tuple[Guest, Answer, MediaItem, ShortUrl]:
    """A guest who answered, a photo and a short URL of ``invitation``, stored."""
    guest = Guest.invite(invitation, name="Familia Díaz", allowance=2, at=T0)
    answer = Answer(
        invitation_id=invitation.id,
        guest_id=guest.id,
        contact_key=None,
        attending=True,
        party_size=2,
        names=["Rosa"],
        dietary=None,
        message=None,
        contact=None,
        created_at=T0,
        updated_at=T0,
    )
    content = photo(64, 48, "PNG")
    item = MediaItem.uploaded(invitation.id, PNG, MediaRole.PHOTO, content, position=0, at=T0)
    item.processed(await FakeImageProcessor().process(content), at=T0)
    short_url = ShortUrl(new_code(), invitation.id, T0)
    async with uow_factory() as uow:
        await uow.guests.add(guest)
        await uow.answers.add(answer)
        await uow.invitation_media.add(item)
        await uow.short_urls.add(short_url)
        await uow.commit()
    return guest, answer, item, short_url


class WorkerDied(Exception):
    """The worker stops in the middle of a job, before its transaction commits."""


class DiesOnSecondItem:
    """Units of work whose catalog terms fail the second time a plan's allowances are read:
    a fulfilment stops after making its first invitation, uncommitted."""

    def __init__(self, factory: UowFactory) -> None:
        self._factory = factory

    def __call__(self, *, read_only: bool = False) -> DiesOnSecondItem._Unit:
        return self._Unit(self._factory(read_only=read_only))

    class _Unit:
        def __init__(self, uow: Any) -> None:
            self._uow = uow
            self._reads = 0

        async def __aenter__(self) -> Any:
            uow = await self._uow.__aenter__()
            terms = uow.invitation_terms
            original = terms.allowances_of

            async def allowances_of(plan_id: str | None) -> Allowances:
                self._reads += 1
                if self._reads == 2:
                    raise WorkerDied
                return await original(plan_id)

            terms.allowances_of = allowances_of
            return uow

        async def __aexit__(self, *exc: object) -> None:
            await self._uow.__aexit__(*exc)


class InvitationRepositoryContract:
    async def test_an_added_invitation_reads_back_equal_with_its_data_and_events(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = _invitation()
        invitation.data = {"partner_one": "Ana", "colours": ["#fff", "oro"], "guests": 3}
        invitation.events = [
            Event("ceremonia", datetime(2027, 2, 14, 16, tzinfo=LIMA), "America/Lima", "Iglesia"),
            Event(
                "fiesta",
                datetime(2027, 2, 14, 20, tzinfo=LIMA).astimezone(UTC),
                "America/Lima",
                map_url="https://maps.example/x",
                ends_at=datetime(2027, 2, 15, 3, tzinfo=UTC),
                position=1,
            ),
        ]
        await _add(uow_factory, invitation)
        async with uow_factory(read_only=True) as uow:
            assert await uow.invitations.get(invitation.id) == invitation

    async def test_a_second_invitation_of_one_order_item_is_not_added(
        self, uow_factory: UowFactory
    ) -> None:
        first = _invitation()
        await _add(uow_factory, first, _invitation(item="t#2"))
        async with uow_factory() as uow:
            assert not await uow.invitations.add_if_absent(_invitation())
            await uow.commit()
        async with uow_factory(read_only=True) as uow:
            made = await uow.invitations.of_order("order-1")
        assert sorted(i.order_item or "" for i in made) == ["t#1", "t#2"]
        assert first.id in {i.id for i in made}

    async def test_invitations_without_an_order_are_each_kept(
        self, uow_factory: UowFactory
    ) -> None:
        a, b = _invitation(), _invitation()
        for made in (a, b):
            made.order_id = made.order_item = None
        await _add(uow_factory, a, b)
        async with uow_factory(read_only=True) as uow:
            assert (await uow.invitations.find(PAGE, owner_id=None)).total == 2

    async def test_an_update_keeps_every_changing_field(self, uow_factory: UowFactory) -> None:
        invitation = _invitation()
        await _add(uow_factory, invitation)
        async with uow_factory() as uow:
            stored = await uow.invitations.get(invitation.id)
            stored.data = {"partner_one": "Ana", "partner_two": "Luis", "date": "2027-02-14"}
            stored.add_event(Event("civil", datetime(2027, 2, 13, 11, tzinfo=UTC), "UTC"), at=T0)
            stored.publish(_schema(), slug="ana-y-luis", at=T0 + timedelta(hours=1))
            await uow.invitations.update(stored)
            await uow.commit()
        async with uow_factory(read_only=True) as uow:
            found = await uow.invitations.get(invitation.id)
        assert found == stored
        assert (found.status, found.slug) == (InvitationStatus.PUBLISHED, "ana-y-luis")

    async def test_a_slug_taken_by_another_invitation_is_a_conflict(
        self, uow_factory: UowFactory
    ) -> None:
        a, b = _invitation(item="t#1"), _invitation(item="t#2")
        a.slug = "ana-y-luis"
        await _add(uow_factory, a, b)
        async with uow_factory() as uow:
            taken = await uow.invitations.get(b.id)
            taken.slug = "ana-y-luis"
            with pytest.raises(Conflict):
                await uow.invitations.update(taken)

    async def test_the_owner_filter_keeps_only_their_invitations_newest_first(
        self, uow_factory: UowFactory
    ) -> None:
        older, newer, other = _invitation(item="1"), _invitation(item="2"), _invitation("o2")
        newer.created_at = T0 + timedelta(minutes=1)
        other.order_id = "order-2"
        await _add(uow_factory, older, newer, other)
        async with uow_factory(read_only=True) as uow:
            mine = await uow.invitations.find(PAGE, owner_id="owner-1")
            everyone = await uow.invitations.find(PageRequest(limit=1), owner_id=None)
        assert [i.id for i in mine.items] == [newer.id, older.id]
        assert (len(everyone.items), everyone.total) == (1, 3)

    async def test_a_removed_invitation_is_gone(self, uow_factory: UowFactory) -> None:
        invitation = _invitation()
        await _add(uow_factory, invitation)
        async with uow_factory() as uow:
            await uow.invitations.remove(invitation.id)
            await uow.commit()
        async with uow_factory() as uow:
            with pytest.raises(NotFound):
                await uow.invitations.get(invitation.id)
            with pytest.raises(NotFound):
                await uow.invitations.remove(invitation.id)

    async def test_a_removed_invitation_takes_its_guests_answers_media_and_short_urls(
        self, uow_factory: UowFactory
    ) -> None:
        removed, kept = _invitation(item="t#1"), _invitation(item="t#2")
        removed.slug, kept.slug = "ana-y-luis", "rosa-y-juan"
        await _add(uow_factory, removed, kept)
        gone = await _belongings(uow_factory, removed)
        stay = await _belongings(uow_factory, kept)

        async with uow_factory() as uow:
            await uow.invitations.remove(removed.id)
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.guests.every(removed.id) == []
            assert await uow.answers.every(removed.id) == []
            assert await uow.invitation_media.of_invitation(removed.id) == []
            assert await uow.short_urls.of_invitation(removed.id) == []
            guest, _, item, short_url = gone
            with pytest.raises(NotFound):
                await uow.invitation_media.get(item.id)
            with pytest.raises(NotFound):
                await uow.guests.by_token(removed.id, guest.token)
            assert await uow.short_urls.target(short_url.code) is None
            guest, answer, item, short_url = stay
            assert [g.id for g in await uow.guests.every(kept.id)] == [guest.id]
            assert [a.id for a in await uow.answers.every(kept.id)] == [answer.id]
            assert [m.id for m in await uow.invitation_media.of_invitation(kept.id)] == [item.id]
            assert await uow.short_urls.target(short_url.code) == "rosa-y-juan"

    async def test_the_terms_are_the_catalogs_or_the_defaults(
        self, uow_factory: UowFactory
    ) -> None:
        template, plan = await _catalog(uow_factory)
        async with uow_factory(read_only=True) as uow:
            terms = uow.invitation_terms
            assert (await terms.schema_of(template.id)).required == {"honouree"}
            assert (await terms.schema_of(None)).required == set(WEDDING_SCHEMA["required"])
            assert (await terms.schema_of("gone")).required == set(WEDDING_SCHEMA["required"])
            assert await terms.allowances_of(plan.id) == Allowances(
                guests=250, events=8, custom_slug=True
            )
            assert await terms.allowances_of(None) == Allowances()

    async def test_a_paid_order_delivered_twice_makes_its_invitations_once(
        self, uow_factory: UowFactory
    ) -> None:
        template, plan = await _catalog(uow_factory)
        service = InvitationService(uow_factory, FakeClock(T0))
        items = [PaidItem("template", template.id, 2), PaidItem("plan", plan.id, 1)]

        assert await service.fulfil("order-1", "owner-1", items) == 2
        assert await service.fulfil("order-1", "owner-1", items) == 0

        async with uow_factory(read_only=True) as uow:
            made = await uow.invitations.of_order("order-1")
        assert [(i.template_id, i.plan_id, i.owner_id) for i in made] == [
            (template.id, plan.id, "owner-1")
        ] * 2
        assert {i.allowances.guests for i in made} == {250}

    async def test_workers_delivering_one_paid_order_at_once_make_its_invitations_once(
        self, uow_factory: UowFactory
    ) -> None:
        template, plan = await _catalog(uow_factory)
        service = InvitationService(uow_factory, FakeClock(T0))
        items = [PaidItem("template", template.id, 3), PaidItem("plan", plan.id, 1)]

        made = await asyncio.gather(*(service.fulfil("order-1", "o", items) for _ in range(5)))

        assert sum(made) == 3
        async with uow_factory(read_only=True) as uow:
            assert len(await uow.invitations.of_order("order-1")) == 3

    async def test_a_fulfilment_that_dies_halfway_keeps_nothing_and_its_retry_makes_all(
        self, uow_factory: UowFactory
    ) -> None:
        template, plan = await _catalog(uow_factory)
        items = [PaidItem("template", template.id, 3), PaidItem("plan", plan.id, 1)]
        dying = InvitationService(DiesOnSecondItem(uow_factory), FakeClock(T0))

        with pytest.raises(WorkerDied):
            await dying.fulfil("order-1", "owner-1", items)
        async with uow_factory(read_only=True) as uow:
            assert await uow.invitations.of_order("order-1") == []

        retried = InvitationService(uow_factory, FakeClock(T0))
        assert await retried.fulfil("order-1", "owner-1", items) == 3

    async def test_a_refund_unpublishes_the_orders_invitations_for_good(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = _invitation()
        invitation.data = {"partner_one": "Ana", "partner_two": "Luis", "date": "2027-02-14"}
        invitation.publish(_schema(), slug=None, at=T0)
        await _add(uow_factory, invitation)
        service = InvitationService(uow_factory, FakeClock(T0))

        assert await service.revoke_order("order-1") == 1
        assert await service.revoke_order("order-1") == 0

        async with uow_factory(read_only=True) as uow:
            revoked = await uow.invitations.get(invitation.id)
        assert (revoked.status, revoked.revoked_at) == (InvitationStatus.UNPUBLISHED, T0)


def _schema() -> FieldSchema:
    return FieldSchema.parse(WEDDING_SCHEMA)
