"""The job runner's handlers, every context's job kinds in one table; the queue on SAQ."""

from __future__ import annotations

from collections.abc import Mapping

from entrypoints.settings import Settings
from talia_core.shared.jobs import JobHandler, JobQueue, JobRunner


def job_handlers(*groups: Mapping[str, JobHandler]) -> dict[str, JobHandler]:
    """The handlers of every group; two contexts claiming one kind is a wiring mistake."""
    handlers: dict[str, JobHandler] = {}
    for group in groups:
        clash = handlers.keys() & group.keys()
        if clash:
            raise ValueError(f"job kinds handled twice: {sorted(clash)}")
        handlers.update(group)
    return handlers


def saq_queue(runner: JobRunner, settings: Settings) -> JobQueue:
    """SAQ and redis-py (9 MB once imported) are imported only when the settings choose SAQ."""
    from adapters.jobs.saq import SaqJobQueue

    return SaqJobQueue(
        runner,
        redis_url=settings.redis.url,
        queue_name=settings.jobs.saq_queue,
        concurrency=settings.jobs.concurrency,
        poll_seconds=settings.jobs.poll_seconds,
    )
