"""The kinds of job this context records, and the two that both its use cases add."""

from __future__ import annotations

from datetime import datetime

from talia_core.shared.jobs import Job

INBOX_JOB = "conversations.inbox"
TURN_JOB = "conversations.assistant_turn"
DELIVER_JOB = "conversations.deliver"
MEDIA_JOB = "conversations.media"
HAND_OFF_JOB = "conversations.channel_hand_off"


def delivery(message_id: str, at: datetime) -> Job:
    """Send an outbound message through its channel."""
    return Job.new(DELIVER_JOB, {"message_id": message_id}, at=at)


def channel_hand_off(conversation_id: str, at: datetime) -> Job:
    """Tell the conversation's channel that a human took it over."""
    return Job.new(HAND_OFF_JOB, {"conversation_id": conversation_id}, at=at)
