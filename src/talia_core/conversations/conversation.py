"""A conversation: one contact on one channel, answered by the bot or by a human."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from talia_core.conversations.vocabulary import Channel, ConversationStatus
from talia_core.shared.errors import Conflict
from talia_core.shared.ids import new_id

SERVICE_WINDOW = timedelta(hours=24)


@attrs.define
class Conversation:
    contact_id: str
    channel: Channel
    created_at: datetime
    last_activity_at: datetime
    thread: str | None = None
    status: ConversationStatus = ConversationStatus.BOT
    assignee_id: str | None = None
    last_inbound_at: datetime | None = None
    unread_count: int = 0
    closed_at: datetime | None = None
    assistant: str | None = None
    """The assistant answering it now (its name): the channel's entry one until a transfer."""
    id: str = attrs.field(factory=new_id)

    @classmethod
    def start(
        cls, contact_id: str, channel: Channel, thread: str | None, at: datetime
    ) -> Conversation:
        return cls(
            contact_id=contact_id,
            channel=channel,
            thread=thread,
            created_at=at,
            last_activity_at=at,
        )

    @property
    def bot_may_reply(self) -> bool:
        return self.status is ConversationStatus.BOT

    def receive(self, at: datetime) -> None:
        self._open()
        self.unread_count += 1
        self.last_inbound_at = max(self.last_inbound_at or at, at)
        self.last_activity_at = max(self.last_activity_at, at)

    def record_reply(self, at: datetime) -> None:
        self._open()
        self.last_activity_at = max(self.last_activity_at, at)

    def within_service_window(self, now: datetime) -> bool:
        if not self.channel.has_service_window:
            return True
        return self.last_inbound_at is not None and now - self.last_inbound_at < SERVICE_WINDOW

    def hand_off(self, assignee_id: str | None, at: datetime) -> None:
        self._open()
        self.status = ConversationStatus.HUMAN
        self.assignee_id = assignee_id or self.assignee_id
        self.last_activity_at = max(self.last_activity_at, at)

    def release(self, at: datetime) -> None:
        self._open()
        self.status = ConversationStatus.BOT
        self.assignee_id = None
        self.last_activity_at = max(self.last_activity_at, at)

    def close(self, at: datetime) -> None:
        if self.status is ConversationStatus.CLOSED:
            raise Conflict(f"conversation {self.id} is already closed")
        self.status = ConversationStatus.CLOSED
        self.closed_at = at
        self.last_activity_at = max(self.last_activity_at, at)

    def mark_read(self) -> None:
        self.unread_count = 0

    def _open(self) -> None:
        if self.status is ConversationStatus.CLOSED:
            raise Conflict(f"conversation {self.id} is closed")
