"""The kinds of job an invitation's media records."""

from __future__ import annotations

from datetime import datetime, timedelta

from talia_core.shared.jobs import Job, job_id_for

PROCESS_JOB = "invitations.media.process"
SETTLE_JOB = "invitations.media.settle"
PURGE_JOB = "invitations.media.purge"
SETTLE_AFTER = timedelta(minutes=10)
"""When an image's processing is looked at again, to fail it if its job gave up."""


def processing(media_id: str, at: datetime) -> Job:
    """Make the renditions of one image; one such job per item, whoever asks."""
    return Job.new(PROCESS_JOB, {"media_id": media_id}, at=at, job_id=processing_id(media_id))


def processing_id(media_id: str) -> str:
    return job_id_for(f"{PROCESS_JOB}:{media_id}")


def purging(invitation_id: str, keys: list[str], at: datetime) -> Job:
    """Delete the files of a deleted invitation's media, after its rows are gone: a store
    that is down is tried again later."""
    return Job.new(
        PURGE_JOB,
        {"keys": keys},
        at=at,
        job_id=job_id_for(f"{PURGE_JOB}:{invitation_id}"),
    )


def settling(at: datetime) -> Job:
    """Fail the images whose processing stopped for good, ``SETTLE_AFTER`` from ``at``; one
    such job waits at a time, put off by each new upload."""
    return Job.new(SETTLE_JOB, {}, at=at, delay=SETTLE_AFTER, debounce_key=SETTLE_JOB)
