"""An invitation's media as the core holds it: what an upload may be, roles and order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talia_core.invitations.media import (
    Gallery,
    MediaItem,
    MediaRole,
    MediaStatus,
    admit,
    arrange,
)
from talia_core.invitations.model import Allowances
from talia_core.shared.errors import Conflict, RuleViolated
from talia_core.shared.media import JPEG, OGG, MediaKind, MediaTooLarge, NotMedia
from tests.contracts.media.image_processor import photo

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
OGG_BYTES = b"OggS" + b"\x00" * 200


def _item(role: MediaRole = MediaRole.PHOTO, position: int = 0) -> MediaItem:
    found = OGG if role is MediaRole.AUDIO else JPEG
    return MediaItem.uploaded("inv-1", found, role, b"x", position=position, at=T0)


def test_an_upload_is_refused_when_it_is_not_media_or_over_the_plans_size() -> None:
    allowances = Allowances(media_bytes=1_000)
    with pytest.raises(NotMedia):
        admit([], allowances, b"Lista de invitados", None)
    with pytest.raises(MediaTooLarge):
        admit([], allowances, photo(200, 200) + b"\x00" * 1_000, None)


def test_the_plans_count_holds_every_item() -> None:
    allowances = Allowances(media_count=2)
    items = [_item(), _item(MediaRole.AUDIO, 1)]
    with pytest.raises(RuleViolated) as refused:
        admit(items, allowances, photo(20, 20), None)
    assert refused.value.fields == {"file": "over allowance"}


def test_an_image_is_a_photo_unless_it_is_the_cover_and_audio_is_the_track() -> None:
    assert admit([], Allowances(), photo(20, 20), None)[1] is MediaRole.PHOTO
    assert admit([], Allowances(), photo(20, 20), MediaRole.COVER)[1] is MediaRole.COVER
    assert admit([], Allowances(), OGG_BYTES, None)[1] is MediaRole.AUDIO
    with pytest.raises(RuleViolated):
        admit([], Allowances(), OGG_BYTES, MediaRole.COVER)
    with pytest.raises(RuleViolated):
        admit([], Allowances(), photo(20, 20), MediaRole.AUDIO)


def test_a_second_audio_track_is_a_conflict() -> None:
    with pytest.raises(Conflict):
        admit([_item(MediaRole.AUDIO)], Allowances(), OGG_BYTES, None)


def test_audio_is_ready_at_once_under_a_name_of_its_bytes_and_an_image_waits() -> None:
    track = MediaItem.uploaded("inv-1", OGG, MediaRole.AUDIO, OGG_BYTES, position=0, at=T0)
    image = _item()

    assert track.status is MediaStatus.READY
    [audio] = track.renditions
    assert audio.file_name.endswith(".ogg")
    assert track.key_of(audio.file_name) == track.original_key
    assert (image.status, image.renditions) == (MediaStatus.PROCESSING, ())
    assert image.original_key == f"invitations/inv-1/media/{image.id}/original.jpg"


def test_a_new_cover_makes_the_earlier_one_a_photo() -> None:
    cover, photo_item = _item(MediaRole.COVER, 0), _item(MediaRole.PHOTO, 1)
    items = [cover, photo_item]

    changed = arrange(items, photo_item, position=None, role=MediaRole.COVER, at=T0)

    assert {i.id for i in changed} == {cover.id, photo_item.id}
    assert [i.role for i in items] == [MediaRole.PHOTO, MediaRole.COVER]


def test_the_audio_track_keeps_its_role_and_a_place_must_exist() -> None:
    track, image = _item(MediaRole.AUDIO, 0), _item(MediaRole.PHOTO, 1)
    with pytest.raises(RuleViolated):
        arrange([track, image], track, position=None, role=MediaRole.PHOTO, at=T0)
    with pytest.raises(RuleViolated):
        arrange([track, image], image, position=2, role=None, at=T0)


@given(st.integers(min_value=1, max_value=12), st.data())
def test_moving_an_item_keeps_every_item_once_in_places_from_zero(
    count: int, data: st.DataObject
) -> None:
    items = [_item(position=place) for place in range(count)]
    moved = data.draw(st.sampled_from(items))
    target = data.draw(st.integers(min_value=0, max_value=count - 1))
    before = {i.id for i in items}

    arrange(items, moved, position=target, role=None, at=T0)

    assert {i.id for i in items} == before
    assert [i.position for i in items] == list(range(count))
    assert items[target].id == moved.id


def test_the_gallery_holds_only_ready_items_in_order() -> None:
    cover, first, second, waiting = (
        _item(MediaRole.COVER, 3),
        _item(position=2),
        _item(position=0),
        _item(position=1),
    )
    track = MediaItem.uploaded("inv-1", OGG, MediaRole.AUDIO, OGG_BYTES, position=4, at=T0)
    for ready in (cover, first, second):
        ready.status = MediaStatus.READY

    gallery = Gallery.of([cover, first, second, waiting, track])

    assert gallery.cover == cover
    assert [p.id for p in gallery.photos] == [second.id, first.id]
    assert gallery.audio is not None
    assert gallery.audio.kind is MediaKind.AUDIO
