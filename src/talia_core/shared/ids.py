"""Identifiers generated in the core: time-ordered UUIDv7 strings (RFC 9562).

Ids made by one process are strictly increasing, even within a millisecond or when the
clock steps back: the 12 bits after the timestamp are a counter (RFC 9562 §6.2, method 1),
so rows written in one millisecond still sort in the order they were made.
"""

import os
import threading
import time

import attrs

_COUNTER_MAX = 0xFFF


@attrs.define
class Stamps:
    """The millisecond and counter of each next id, always greater than the last: a new
    millisecond starts the counter at a random value in its lower half (room to count up);
    the same or an earlier one counts on, borrowing the next millisecond when it is spent."""

    millis: int = 0
    counter: int = 0
    _lock: threading.Lock = attrs.field(factory=threading.Lock, eq=False, repr=False)

    def next(self, now_millis: int) -> tuple[int, int]:
        with self._lock:
            if now_millis > self.millis:
                self.millis, self.counter = now_millis, int.from_bytes(os.urandom(2)) >> 5
            elif self.counter < _COUNTER_MAX:
                self.counter += 1
            else:
                self.millis, self.counter = self.millis + 1, 0
            return self.millis, self.counter


_stamps = Stamps()


def new_id() -> str:
    """Return a new UUIDv7 as its canonical string: sortable by creation time."""
    millis, counter = _stamps.next(time.time_ns() // 1_000_000)
    value = (millis & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= counter << 64
    value |= 0b10 << 62  # variant
    value |= int.from_bytes(os.urandom(8)) & 0x3FFF_FFFF_FFFF_FFFF  # 62 random bits
    # uuid.UUID's string, without building one (checking and formatting it costs twice this).
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
