"""The in-memory job store: the SQL store's keys and order, on the unit of work's state."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from adapters.memory.database import InMemoryRepositoryBundle, InMemoryTable, State, paginate
from talia_core.shared.errors import Conflict
from talia_core.shared.jobs import Job, JobStatus
from talia_core.shared.pagination import Page, PageRequest


class InMemoryJobStore:
    """Units of work run one at a time, so a claim needs no lock of its own."""

    def __init__(self, state: Callable[[], State]) -> None:
        self._table = InMemoryTable[Job](state, "jobs", "job")

    async def add(self, job: Job) -> bool:
        if job.id in self._table.rows:
            return False
        self._refuse_taken_key(job)
        await self._table.add(job)
        return True

    async def schedule(self, job: Job, *, sooner: bool = False) -> None:
        holder = self._holding(job.debounce_key)
        if holder is None:
            await self._table.add(job)
            return
        holder.run_at = (min if sooner else max)(holder.run_at, job.run_at)

    async def get(self, job_id: str) -> Job:
        return await self._table.get(job_id)

    async def update(self, job: Job) -> None:
        self._refuse_taken_key(job)
        await self._table.update(job)

    async def settle(self, job: Job, attempt: int) -> bool:
        stored = self._table.rows.get(job.id)
        if stored is None or stored.status is not JobStatus.RUNNING or stored.attempts != attempt:
            return False
        await self.update(job)
        return True

    async def renew(self, leases: Mapping[str, int], until: datetime) -> set[str]:
        held = self._table.matching(
            lambda j: j.status is JobStatus.RUNNING and leases.get(j.id) == j.attempts
        )
        for job in held:
            job.locked_until = until
            await self._table.update(job)
        return {job.id for job in held}

    async def dead(self, *, kind: str | None, since: datetime | None, limit: int) -> Sequence[Job]:
        found = self._table.matching(
            lambda j: (
                j.status is JobStatus.DEAD
                and (kind is None or j.kind == kind)
                and (since is None or (j.finished_at is not None and j.finished_at >= since))
            )
        )
        return sorted(found, key=lambda j: (j.finished_at or j.created_at, j.id))[:limit]

    async def forget_done(self, finished_before: datetime, limit: int) -> int:
        done = self._table.matching(
            lambda j: (
                j.status is JobStatus.DONE
                and j.finished_at is not None
                and j.finished_at < finished_before
            )
        )
        oldest = sorted(done, key=lambda j: (j.finished_at or j.created_at, j.id))[:limit]
        for job in oldest:
            del self._table.rows[job.id]
        return len(oldest)

    async def claim_due(self, now: datetime, limit: int) -> Sequence[Job]:
        due = self._table.matching(lambda j: j.is_due(now))
        return sorted(due, key=lambda j: (j.run_at, j.id))[:limit]

    async def find(self, page: PageRequest, *, status: JobStatus | None) -> Page[Job]:
        found = self._table.matching(lambda j: status is None or j.status is status)
        return paginate(found, page, key=lambda j: (j.created_at, j.id))

    async def counts(self) -> Mapping[JobStatus, int]:
        """Every status, with zero for those no job has."""
        found = dict.fromkeys(JobStatus, 0)
        for job in self._table.rows.values():
            found[job.status] += 1
        return found

    def _holding(self, key: str | None) -> Job | None:
        """The stored job holding a debounce key (itself, not a copy: ``schedule`` moves it)."""
        if key is None:
            return None
        return next((j for j in self._table.rows.values() if j.debounce_key == key), None)

    def _refuse_taken_key(self, job: Job) -> None:
        holder = self._holding(job.debounce_key)
        if holder is not None and holder.id != job.id:
            raise Conflict(f"debounce key {job.debounce_key!r} is held by job {holder.id}")


class InMemoryJobRepositories(InMemoryRepositoryBundle):
    jobs: InMemoryJobStore

    def bind(self, state: Callable[[], State]) -> None:
        self.jobs = InMemoryJobStore(state)
        super().bind(state)
