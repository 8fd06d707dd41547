"""Conditional GETs: the ``If-None-Match`` header and how an ETag is matched against it."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter

IfNoneMatch = Annotated[
    str | None,
    HeaderParameter(name="If-None-Match", max_length=2000, description="ETags the client holds."),
]


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison against a list of tags, or ``*``."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags
