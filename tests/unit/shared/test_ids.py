"""Ids sort in the order they were made, within a millisecond and across clock steps."""

from __future__ import annotations

import itertools
import threading
import time
import uuid

from hypothesis import given
from hypothesis import strategies as st

from talia_core.shared.ids import Stamps, new_id


def test_ids_made_in_a_row_sort_in_the_order_they_were_made() -> None:
    made = [new_id() for _ in range(20_000)]  # many share a millisecond

    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_an_id_is_a_uuid7_in_canonical_form_carrying_the_time_it_was_made() -> None:
    before = time.time_ns() // 1_000_000
    text = new_id()
    after = time.time_ns() // 1_000_000
    made = uuid.UUID(text)

    assert str(made) == text

    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after + 1


def test_ids_made_by_threads_at_once_are_all_different() -> None:
    made: list[str] = []

    def make() -> None:
        made.extend(new_id() for _ in range(2_000))

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(made)) == 8_000


@given(st.lists(st.integers(min_value=0, max_value=2**48 - 2), min_size=1, max_size=6_000))
def test_stamps_always_increase_whatever_the_clock_says(clock: list[int]) -> None:
    stamps = Stamps()

    made = [stamps.next(now) for now in clock]

    assert all(a < b for a, b in itertools.pairwise(made))
    assert all(millis >= now for (millis, _), now in zip(made, clock, strict=True))
    assert all(0 <= counter <= 0xFFF for _, counter in made)
