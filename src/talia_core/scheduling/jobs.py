"""The kinds of job scheduling records: a reminder before each appointment."""

from __future__ import annotations

from datetime import datetime, timedelta

from talia_core.scheduling.model import Appointment
from talia_core.shared.jobs import Job, job_id_for

REMIND_JOB = "scheduling.remind"


def reminder(appointment: Appointment, lead: timedelta, now: datetime) -> Job | None:
    """The one reminder of an appointment, ``lead`` before it; none when that moment has
    passed already or there is no contact to remind."""
    due = appointment.starts_at - lead
    if appointment.contact_id is None or due <= now:
        return None
    return Job.new(
        REMIND_JOB,
        {"appointment_id": appointment.id},
        at=now,
        delay=due - now,
        job_id=job_id_for(f"{REMIND_JOB}:{appointment.id}"),
    )
