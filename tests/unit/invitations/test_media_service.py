"""Uploading, processing, ordering, serving and deleting an invitation's media, on the
in-memory units of work, the in-memory file store and the fake image processor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import attrs
import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.files import InMemoryFileStore
from adapters.memory.media import FakeImageProcessor
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.invitations import media_jobs
from talia_core.invitations.fields import WEDDING_SCHEMA, FieldSchema
from talia_core.invitations.media import MediaRole, MediaStatus
from talia_core.invitations.media_processing import STUCK_REASON, MediaProcessing
from talia_core.invitations.media_service import InvitationMediaService
from talia_core.invitations.model import Allowances, Invitation
from talia_core.invitations.services import Caller, InvitationService
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Conflict, ExternalServiceUnavailable, NotFound, RuleViolated
from talia_core.shared.jobs import JobRunner, JobStatus
from talia_core.shared.media import MediaTooLarge, NotMedia
from talia_core.shared.pagination import PageRequest
from tests.contracts.media.image_processor import bomb, photo

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
OWNER = Caller("owner-1")


@attrs.define
class World:
    uow: partial[InMemoryUnitOfWork]
    files: InMemoryFileStore
    clock: FakeClock
    media: InvitationMediaService
    processing: MediaProcessing
    invitation: Invitation

    async def jobs(self) -> list[tuple[str, JobStatus]]:
        async with self.uow(read_only=True) as uow:
            page = await uow.jobs.find(PageRequest(limit=100), status=None)
        return sorted((job.kind, job.status) for job in page.items)

    async def publish(self) -> None:
        async with self.uow() as uow:
            invitation = await uow.invitations.get(self.invitation.id)
            invitation.data = {"partner_one": "Ana", "partner_two": "Luis", "date": "2027-02-14"}
            invitation.publish(FieldSchema.parse(WEDDING_SCHEMA), slug=None, at=self.clock.now())
            await uow.invitations.update(invitation)
            await uow.commit()


@pytest.fixture
async def world() -> World:
    uow = partial(InMemoryUnitOfWork, InMemoryDatabase())
    files, clock = InMemoryFileStore(), FakeClock(T0)
    invitation = Invitation.bought(
        owner_id=OWNER.id,
        order_id=None,
        order_item=None,
        template_id=None,
        plan_id=None,
        allowances=Allowances(media_count=3, media_bytes=200_000),
        at=T0,
    )
    async with uow() as unit:
        await unit.invitations.add_if_absent(invitation)
        await unit.commit()
    return World(
        uow=uow,
        files=files,
        clock=clock,
        media=InvitationMediaService(uow, files, clock),
        processing=MediaProcessing(uow, files, FakeImageProcessor(), clock),
        invitation=invitation,
    )


async def test_an_image_is_kept_processing_then_made_ready_with_its_renditions(
    world: World,
) -> None:
    item = await world.media.upload(OWNER, world.invitation.id, photo(2400, 1200), role=None)

    assert (item.status, item.role, item.position) == (MediaStatus.PROCESSING, MediaRole.PHOTO, 0)
    assert world.files.keys() == [item.original_key]
    assert (media_jobs.PROCESS_JOB, JobStatus.PENDING) in await world.jobs()

    done = await world.processing.process(item.id)

    assert done is not None
    assert done.status is MediaStatus.READY
    assert (done.width, done.height) == (2400, 1200)
    sizes = sorted((r.name, r.format, r.width, r.height) for r in done.renditions)
    assert sizes == [
        ("display", "jpeg", 1600, 800),
        ("display", "webp", 1600, 800),
        ("thumb", "jpeg", 400, 200),
        ("thumb", "webp", 400, 200),
    ]
    assert world.files.keys() == done.keys
    assert await world.processing.process(item.id) is None  # a job run again does nothing


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"Lista de invitados: Ana, Luis", NotMedia),
        (photo(100, 100) + b"\x00" * 200_000, MediaTooLarge),
    ],
)
async def test_a_refused_upload_stores_nothing(
    world: World, content: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await world.media.upload(OWNER, world.invitation.id, content, role=None)

    assert world.files.keys() == []
    assert await world.media.list(OWNER, world.invitation.id) == []
    assert await world.jobs() == []


async def test_past_the_plans_count_an_upload_is_refused_and_nothing_is_stored(
    world: World,
) -> None:
    for _ in range(3):
        await world.media.upload(OWNER, world.invitation.id, photo(50, 50), role=None)
    kept = world.files.keys()

    with pytest.raises(RuleViolated):
        await world.media.upload(OWNER, world.invitation.id, photo(60, 60), role=None)

    assert world.files.keys() == kept
    assert len(await world.media.list(OWNER, world.invitation.id)) == 3


async def test_another_customers_invitation_takes_no_media(world: World) -> None:
    with pytest.raises(NotFound):
        await world.media.upload(Caller("stranger"), world.invitation.id, photo(9, 9), role=None)
    assert world.files.keys() == []
    admin = await world.media.upload(
        Caller("someone", is_admin=True), world.invitation.id, photo(9, 9), role=None
    )
    assert admin.invitation_id == world.invitation.id


async def test_an_image_the_processor_refuses_fails_with_the_reason(world: World) -> None:
    cut = photo(300, 300)[:400]
    huge = bomb(10_000, 10_000)
    items = [
        await world.media.upload(OWNER, world.invitation.id, c, role=None) for c in (cut, huge)
    ]

    settled = [await world.processing.process(item.id) for item in items]

    assert [(s.status, s.reason) if s else None for s in settled] == [
        (MediaStatus.FAILED, "the image is corrupt or cut short"),
        (MediaStatus.FAILED, "the image declares 10000x10000 pixels, over 50000000"),
    ]


async def test_an_image_whose_job_gave_up_is_failed_by_the_sweep(world: World) -> None:
    item = await world.media.upload(OWNER, world.invitation.id, photo(80, 80), role=None)
    waiting = await world.media.upload(OWNER, world.invitation.id, photo(90, 90), role=None)
    async with world.uow() as uow:
        job = await uow.jobs.get(media_jobs.processing_id(item.id))
        job.start(T0, timedelta(minutes=1))
        job.fail("ExternalServiceUnavailable: ftp: down", T0, None)
        await uow.jobs.update(job)
        await uow.commit()

    assert await world.processing.settle() == 1

    failed = await world.media.get(OWNER, world.invitation.id, item.id)
    assert (failed.status, failed.reason) == (MediaStatus.FAILED, STUCK_REASON)
    still = await world.media.get(OWNER, world.invitation.id, waiting.id)
    assert still.status is MediaStatus.PROCESSING
    assert (media_jobs.SETTLE_JOB, JobStatus.PENDING) in await world.jobs()


async def test_a_new_cover_and_a_move_keep_one_cover_and_places_from_zero(world: World) -> None:
    first = await world.media.upload(OWNER, world.invitation.id, photo(30, 30), role=None)
    cover = await world.media.upload(
        OWNER, world.invitation.id, photo(31, 31), role=MediaRole.COVER
    )
    newer = await world.media.upload(
        OWNER, world.invitation.id, photo(32, 32), role=MediaRole.COVER
    )

    moved = await world.media.revise(OWNER, world.invitation.id, newer.id, position=0)

    listed = await world.media.list(OWNER, world.invitation.id)
    assert [(i.id, i.role, i.position) for i in listed] == [
        (newer.id, MediaRole.COVER, 0),
        (first.id, MediaRole.PHOTO, 1),
        (cover.id, MediaRole.PHOTO, 2),
    ]
    assert moved.position == 0


async def test_a_second_audio_track_is_refused(world: World) -> None:
    track = b"OggS" + b"\x00" * 100
    first = await world.media.upload(OWNER, world.invitation.id, track, role=None)
    assert (first.status, first.role) == (MediaStatus.READY, MediaRole.AUDIO)

    with pytest.raises(Conflict):
        await world.media.upload(OWNER, world.invitation.id, track, role=None)
    assert world.files.keys() == [first.original_key]


async def test_a_deleted_item_takes_its_files_and_a_late_job_leaves_none(world: World) -> None:
    ready = await world.media.upload(OWNER, world.invitation.id, photo(700, 500), role=None)
    late = await world.media.upload(OWNER, world.invitation.id, photo(701, 500), role=None)
    await world.processing.process(ready.id)

    await world.media.delete(OWNER, world.invitation.id, ready.id)
    await world.media.delete(OWNER, world.invitation.id, late.id)
    assert await world.processing.process(late.id) is None

    assert world.files.keys() == []
    assert await world.media.list(OWNER, world.invitation.id) == []


async def test_files_are_served_by_name_only_while_the_invitation_is_published(
    world: World,
) -> None:
    item = await world.media.upload(OWNER, world.invitation.id, photo(640, 480), role=None)
    ready = await world.processing.process(item.id)
    assert ready is not None
    name = ready.renditions[0].file_name

    with pytest.raises(NotFound):
        await world.media.public_file(name)
    await world.publish()
    served = await world.media.public_file(name)

    assert served.mime_type == ready.renditions[0].mime_type
    assert served.content == (await world.files.get(ready.key_of(name))).content
    gallery = await world.media.gallery(world.invitation.id)
    assert [p.id for p in gallery.photos] == [item.id]


class UnreachableStore(InMemoryFileStore):
    """A store that is down: every delete fails, as the FTP one's do when its server is."""

    async def delete(self, key: str) -> None:
        raise ExternalServiceUnavailable("files", f"cannot delete {key!r}: connection refused")


async def test_a_deleted_invitation_takes_its_rows_at_once_and_its_files_by_a_job_retried(
    world: World,
) -> None:
    ready = await world.media.upload(OWNER, world.invitation.id, photo(700, 500), role=None)
    await world.media.upload(OWNER, world.invitation.id, photo(701, 500), role=None)
    await world.processing.process(ready.id)
    held = world.files.keys()
    rung: list[str] = []
    invitations = InvitationService(world.uow, world.clock, wake=lambda: rung.append("ring"))

    await invitations.delete(OWNER, world.invitation.id)

    async with world.uow(read_only=True) as uow:
        assert await uow.invitation_media.of_invitation(world.invitation.id) == []
        with pytest.raises(NotFound):
            await uow.invitations.get(world.invitation.id)
    assert world.files.keys() == held  # the files wait for the job
    assert len(held) == 6  # two originals, and one image's four renditions
    assert rung == ["ring"]
    purge = media_jobs.PURGE_JOB
    down = MediaProcessing(world.uow, UnreachableStore(), FakeImageProcessor(), world.clock)

    failing = JobRunner(world.uow, world.clock, down.job_handlers(), _a_minute)
    assert await failing.run_due(10) == 3  # the purge, and the gone images' processing
    assert (purge, JobStatus.PENDING) in await world.jobs()  # to be tried again
    assert world.files.keys() == held
    world.clock.advance(timedelta(minutes=1))
    working = JobRunner(world.uow, world.clock, world.processing.job_handlers(), _a_minute)
    assert await working.run_due(10) == 1

    assert (purge, JobStatus.DONE) in await world.jobs()
    assert world.files.keys() == []


def _a_minute(attempts: int, error: object) -> float:
    return 60.0
