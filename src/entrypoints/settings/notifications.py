"""The settings of signed webhook notifications (``TALIA_NOTIFICATIONS__*``)."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

_EVENT_NAME = re.compile(r"[a-z][a-z_]*(\.[a-z][a-z_]*)+")
WEBHOOK_SECRET_BYTES = 32
"""At least as long as the HMAC-SHA256 output (RFC 2104)."""


class NotificationSettings(BaseModel):
    """Signed webhook notifications of the outbox's events (docs/events.md)."""

    webhook_url: str = Field(
        "",
        pattern="^(https?://.+)?$",
        description="Where each event is POSTed, signed; empty: no notifications are sent.",
    )
    webhook_secret: SecretStr = Field(
        SecretStr(""),
        description="Keys X-Talia-Signature (HMAC-SHA256); needed with a webhook URL, at "
        f"least {WEBHOOK_SECRET_BYTES} bytes.",
    )
    events: str = Field(
        "claim.filed,contact_message.received,order.paid,lead.qualified",
        description="The events posted to the webhook, comma-separated.",
    )

    @field_validator("events")
    @classmethod
    def _event_names(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        wrong = [name for name in names if not _EVENT_NAME.fullmatch(name)]
        if wrong:
            raise ValueError(f"event names look like claim.filed, not {', '.join(wrong)}")
        return ",".join(dict.fromkeys(names))

    @model_validator(mode="after")
    def _secret_with_url(self) -> NotificationSettings:
        secret = self.webhook_secret.get_secret_value().encode()
        if self.webhook_url and len(secret) < WEBHOOK_SECRET_BYTES:
            raise ValueError(
                "TALIA_NOTIFICATIONS__WEBHOOK_URL needs TALIA_NOTIFICATIONS__WEBHOOK_SECRET "
                f"of at least {WEBHOOK_SECRET_BYTES} bytes"
            )
        return self

    @property
    def event_names(self) -> frozenset[str]:
        return frozenset(name for name in self.events.split(",") if name)
