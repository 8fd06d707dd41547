"""The settings of the invitations' public pages (``TALIA_INVITATION_PAGES__*``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field


class InvitationPageSettings(BaseModel):
    cache_seconds: Annotated[float, Field(ge=0, le=300)] = Field(
        2.0,
        description="How long a worker answers an invitation's page from memory without "
        "reading the invitation again: an edit or unpublishing shows within this time plus "
        "one read of it, twice this time at most; the end of its time shows at once (0: read "
        "on every request; the rendered page is reused while the invitation is unchanged "
        "either way).",
    )
    click_flush_seconds: Annotated[float, Field(ge=0, le=60)] = Field(
        1.0,
        description="How often a worker writes the clicks on short URLs it tallied (a worker "
        "that dies loses at most this long's clicks); where a code leads is kept as long as a "
        "page. 0: each click is written in its request.",
    )
