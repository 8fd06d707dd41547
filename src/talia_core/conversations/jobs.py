"""The kinds of job this context records, and those more than one of its use cases add."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from talia_core.shared.jobs import Job, job_id_for

INBOX_JOB = "conversations.inbox"
TURN_JOB = "conversations.assistant_turn"
DELIVER_JOB = "conversations.deliver"
MEDIA_JOB = "conversations.media"
HAND_OFF_JOB = "conversations.channel_hand_off"
UNDERSTAND_JOB = "conversations.understand"


def assistant_turn(conversation_id: str, at: datetime, debounce: timedelta) -> Job:
    """The assistant answers after ``debounce``: quick messages in a row get one turn (the
    pending job is postponed rather than another added)."""
    return Job.new(
        TURN_JOB,
        {"conversation_id": conversation_id},
        at=at,
        delay=debounce,
        debounce_key=f"turn:{conversation_id}",
    )


def understanding_retry(message_id: str, at: datetime, delay: timedelta) -> Job:
    """Put a voice note or photo into words again later: one such job per message."""
    return Job.new(
        UNDERSTAND_JOB,
        {"message_id": message_id},
        at=at,
        delay=delay,
        job_id=job_id_for(f"{UNDERSTAND_JOB}:{message_id}"),
    )


def delivery(message_ids: Sequence[str], at: datetime) -> Job:
    """Send outbound messages through their channel in this order: the parts of one reply go
    in one job, so a later part never overtakes an earlier one."""
    return Job.new(DELIVER_JOB, {"message_ids": list(message_ids)}, at=at)


def channel_hand_off(conversation_id: str, at: datetime) -> Job:
    """Tell the conversation's channel that a human took it over."""
    return Job.new(HAND_OFF_JOB, {"conversation_id": conversation_id}, at=at)
