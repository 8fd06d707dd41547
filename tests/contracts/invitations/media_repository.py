"""The contract of invitations' media repository: the in-memory fake and SQL on every
database run it (``tests/integration/repositories/invitations``) through ``uow_factory``."""

from __future__ import annotations

import asyncio
import struct
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.files import InMemoryFileStore
from adapters.memory.media import FakeImageProcessor
from talia_core.invitations.fields import WEDDING_SCHEMA, FieldSchema
from talia_core.invitations.media import MediaItem, MediaRole, MediaStatus
from talia_core.invitations.media_service import InvitationMediaService
from talia_core.invitations.model import Allowances, Invitation
from talia_core.invitations.services import Caller
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import NotFound, RuleViolated
from talia_core.shared.media import PNG, WAV
from tests.conftest import UowFactory
from tests.contracts.media.image_processor import photo

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def wav(seconds: float = 0.1) -> bytes:
    """A silent mono 8 kHz WAV."""
    samples = b"\x00\x00" * int(8_000 * seconds)
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(samples), b"WAVE", b"fmt ",
                         16, 1, 1, 8_000, 16_000, 2, 16, b"data", len(samples))  # fmt: skip
    return header + samples


COMPLETE = {"partner_one": "Ana", "partner_two": "Luis", "date": "2027-02-14"}


def _invitation(owner: str = "owner-1") -> Invitation:
    invitation = Invitation.bought(
        owner_id=owner,
        order_id=None,
        order_item=None,
        template_id=None,
        plan_id=None,
        allowances=Allowances(),
        at=T0,
    )
    invitation.data = dict(COMPLETE)
    return invitation


async def _stored(uow_factory: UowFactory, invitation: Invitation, *items: MediaItem) -> None:
    async with uow_factory() as uow:
        await uow.invitations.add_if_absent(invitation)
        for item in items:
            await uow.invitation_media.add(item)
        await uow.commit()


async def _ready_photo(invitation: Invitation, position: int = 0) -> MediaItem:
    content = photo(640, 480, "PNG")
    item = MediaItem.uploaded(
        invitation.id, PNG, MediaRole.PHOTO, content, position=position, at=T0
    )
    item.processed(await FakeImageProcessor().process(content), at=T0 + timedelta(seconds=1))
    return item


class MediaRepositoryContract:
    async def test_an_added_item_reads_back_equal_with_its_renditions(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = _invitation()
        photo = await _ready_photo(invitation)
        track = MediaItem.uploaded(invitation.id, WAV, MediaRole.AUDIO, wav(), position=1, at=T0)
        await _stored(uow_factory, invitation, photo, track)

        async with uow_factory(read_only=True) as uow:
            assert await uow.invitation_media.get(photo.id) == photo
            assert await uow.invitation_media.of_invitation(invitation.id) == [photo, track]
        assert len(photo.renditions) == 4

    async def test_items_read_in_their_order_and_changes_are_kept(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = _invitation()
        first, second = await _ready_photo(invitation, 0), await _ready_photo(invitation, 1)
        await _stored(uow_factory, invitation, first, second)
        async with uow_factory() as uow:
            moved = await uow.invitation_media.get(first.id)
            moved.position, moved.role = 2, MediaRole.COVER
            await uow.invitation_media.update(moved)
            await uow.commit()

        async with uow_factory(read_only=True) as uow:
            ordered = await uow.invitation_media.of_invitation(invitation.id)
        assert [(i.id, i.role) for i in ordered] == [
            (second.id, MediaRole.PHOTO),
            (first.id, MediaRole.COVER),
        ]

    async def test_a_file_is_found_by_name_only_while_its_invitation_is_published(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = _invitation()
        photo = await _ready_photo(invitation)
        name = photo.renditions[0].file_name
        await _stored(uow_factory, invitation, photo)

        async with uow_factory(read_only=True) as uow:
            assert await uow.invitation_media.published(name, T0) is None
        async with uow_factory() as uow:
            stored = await uow.invitations.get(invitation.id)
            stored.publish(FieldSchema.parse(WEDDING_SCHEMA), slug=None, at=T0)
            await uow.invitations.update(stored)
            await uow.commit()

        async with uow_factory(read_only=True) as uow:
            found = await uow.invitation_media.published(name, T0 + timedelta(days=1))
            expired = await uow.invitation_media.published(name, T0 + timedelta(days=400))
            unknown = await uow.invitation_media.published("0123456789abcdef.1.webp", T0)
        assert found == photo
        assert (expired, unknown) == (None, None)

    async def test_an_item_still_processing_serves_no_file_and_is_listed_as_waiting(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = _invitation()
        waiting = MediaItem.uploaded(
            invitation.id, PNG, MediaRole.PHOTO, photo(10, 10, "PNG"), position=0, at=T0
        )
        later = MediaItem.uploaded(
            invitation.id,
            PNG,
            MediaRole.PHOTO,
            photo(10, 10, "PNG"),
            position=1,
            at=T0 + timedelta(1),
        )
        ready = await _ready_photo(invitation, 2)
        await _stored(uow_factory, invitation, later, waiting, ready)

        async with uow_factory(read_only=True) as uow:
            found = await uow.invitation_media.processing(10)
            first = await uow.invitation_media.processing(1)
        assert [i.id for i in found] == [waiting.id, later.id]
        assert [i.id for i in first] == [waiting.id]
        assert waiting.status is MediaStatus.PROCESSING

    async def test_a_removed_item_is_gone_with_its_file_names(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = _invitation()
        invitation.publish(FieldSchema.parse(WEDDING_SCHEMA), slug=None, at=T0)
        photo = await _ready_photo(invitation)
        await _stored(uow_factory, invitation, photo)
        async with uow_factory() as uow:
            await uow.invitation_media.remove(photo.id)
            await uow.commit()

        async with uow_factory() as uow:
            with pytest.raises(NotFound):
                await uow.invitation_media.get(photo.id)
            with pytest.raises(NotFound):
                await uow.invitation_media.remove(photo.id)
            name = photo.renditions[0].file_name
            assert await uow.invitation_media.published(name, T0) is None

    async def test_an_uncommitted_item_is_not_kept(self, uow_factory: UowFactory) -> None:
        invitation = _invitation()
        await _stored(uow_factory, invitation)
        async with uow_factory() as uow:
            await uow.invitation_media.add(await _ready_photo(invitation))
        async with uow_factory(read_only=True) as uow:
            assert await uow.invitation_media.of_invitation(invitation.id) == []

    async def test_uploads_at_once_never_pass_the_plans_count(
        self, uow_factory: UowFactory
    ) -> None:
        invitation = _invitation()
        invitation.allowances = Allowances(media_count=2)
        await _stored(uow_factory, invitation)
        files = InMemoryFileStore()
        service = InvitationMediaService(uow_factory, files, FakeClock(T0))
        owner = Caller(invitation.owner_id)

        outcomes = await asyncio.gather(
            *(
                service.upload(owner, invitation.id, photo(20 + n, 20, "PNG"), role=None)
                for n in range(5)
            ),
            return_exceptions=True,
        )

        kept = [o for o in outcomes if isinstance(o, MediaItem)]
        assert len(kept) == 2
        assert all(isinstance(o, RuleViolated) for o in outcomes if o not in kept)
        async with uow_factory(read_only=True) as uow:
            listed = await uow.invitation_media.of_invitation(invitation.id)
        assert sorted(i.position for i in listed) == [0, 1]
        assert files.keys() == sorted(i.original_key for i in kept)
