"""The job runner's handlers: every context's job kinds in one table."""

from __future__ import annotations

from collections.abc import Mapping

from talia_core.shared.jobs import JobHandler


def job_handlers(*groups: Mapping[str, JobHandler]) -> dict[str, JobHandler]:
    """The handlers of every group; two contexts claiming one kind is a wiring mistake."""
    handlers: dict[str, JobHandler] = {}
    for group in groups:
        clash = handlers.keys() & group.keys()
        if clash:
            raise ValueError(f"job kinds handled twice: {sorted(clash)}")
        handlers.update(group)
    return handlers
