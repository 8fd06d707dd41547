"""The settings of the leads (``TALIA_LEADS__*``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LeadSettings(BaseModel):
    chatwoot_label: str = Field(
        "",
        pattern=r"^[a-z0-9_-]{0,100}$",
        description="The Chatwoot label a qualified lead's conversation gets, with a private "
        "note summing the lead up; empty: Chatwoot is not told.",
    )
