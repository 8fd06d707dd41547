"""Identifiers generated in the core: time-ordered UUIDv7 strings (RFC 9562)."""

import os
import time
import uuid


def new_id() -> str:
    """Return a new UUIDv7 as its canonical string: sortable by creation time."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 68) << 64  # 12 random bits
    value |= 0b10 << 62  # variant
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF  # 62 random bits
    return str(uuid.UUID(int=value))
