"""Boxes the engines answer are held inside the picture."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.perception.pictures import inside, size_of
from talia_core.shared.vision import Box, DetectedObject
from tests.perception_servers.media import photo

coordinates = st.integers(min_value=-5000, max_value=5000)
objects = st.builds(
    DetectedObject,
    st.sampled_from(["cup", "cake", "A"]),
    st.floats(min_value=-1, max_value=2, allow_nan=False),
    st.builds(Box, coordinates, coordinates, coordinates, coordinates),
)
sizes = st.tuples(st.integers(1, 4000), st.integers(1, 4000))


@given(st.lists(objects, max_size=8), sizes)
def test_every_box_kept_lies_inside_the_picture_and_has_an_area(
    found: list[DetectedObject], size: tuple[int, int]
) -> None:
    width, height = size

    kept = inside(found, size)

    for each in kept:
        assert 0 <= each.box.x_min < each.box.x_max <= width
        assert 0 <= each.box.y_min < each.box.y_max <= height
        assert 0 <= each.score <= 1
    assert [each.score for each in kept] == sorted((each.score for each in kept), reverse=True)


@given(st.lists(objects, max_size=8), sizes)
def test_a_box_already_inside_is_kept_as_it_is(
    found: list[DetectedObject], size: tuple[int, int]
) -> None:
    width, height = size
    within = [
        each
        for each in found
        if 0 <= each.box.x_min < each.box.x_max <= width
        and 0 <= each.box.y_min < each.box.y_max <= height
        and 0 <= each.score <= 1
    ]

    assert set(inside(within, size)) == set(within)


def test_the_size_is_read_from_the_header() -> None:
    for format in ("PNG", "JPEG", "WEBP", "GIF"):
        assert size_of(photo(300, 200, format)) == (300, 200)
