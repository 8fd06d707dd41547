"""Errors of the conversations context."""

from __future__ import annotations

from talia_core.shared.errors import RuleViolated, TaliaError


class DeliveryRefused(TaliaError):
    """The channel refused a message for good (a blocked number, a bad template...)."""

    def __init__(self, channel: str, code: str | None, title: str) -> None:
        super().__init__(f"{channel} refused the message: {title}" + (f" ({code})" if code else ""))
        self.channel = channel
        self.code = code
        self.title = title


class OutsideServiceWindow(RuleViolated):
    """WhatsApp takes free text only within 24 hours of the customer's last message."""

    def __init__(self) -> None:
        super().__init__(
            "the customer last wrote more than 24 hours ago: WhatsApp only accepts a template now",
            {"text": "outside the 24-hour customer service window; send a template"},
        )
