"""Running a unit of work again after the database gave it up for a concurrent one."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrypoints.wiring.policies import TRANSACTION_RETRY, transaction_backoff
from talia_core.shared.errors import (
    ConcurrentWrite,
    Conflict,
    ExternalServiceUnavailable,
    NotFound,
    RuleViolated,
)
from talia_core.shared.transactions import no_retry, retrying

NOT_RETRIED = st.sampled_from(
    [
        Conflict("taken"),
        NotFound("cart", "x"),
        RuleViolated("no"),
        ExternalServiceUnavailable("database", "down"),
        ValueError("a defect"),
    ]
)


class Work:
    """Raises ``ConcurrentWrite`` on its first ``collisions`` runs, then answers its run."""

    def __init__(self, collisions: int, then: Exception | None = None) -> None:
        self.collisions = collisions
        self.then = then
        self.runs = 0

    async def __call__(self) -> int:
        self.runs += 1
        if self.runs <= self.collisions:
            raise ConcurrentWrite("deadlock")
        if self.then is not None:
            raise self.then
        return self.runs


class Sleeps:
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


@given(collisions=st.integers(min_value=0, max_value=20))
def test_a_unit_runs_at_most_the_policys_attempts_and_only_while_the_database_gives_it_up(
    collisions: int,
) -> None:
    work, sleeps = Work(collisions), Sleeps()
    attempts = TRANSACTION_RETRY.max_attempts

    async def run() -> int:
        return await retrying(work, transaction_backoff(), sleep=sleeps)

    if collisions < attempts:
        assert asyncio.run(run()) == collisions + 1
        assert work.runs == collisions + 1
    else:
        with pytest.raises(ConcurrentWrite):
            asyncio.run(run())
        assert work.runs == attempts
    assert len(sleeps.slept) == work.runs - 1
    assert all(0 <= s <= TRANSACTION_RETRY.max_delay_seconds for s in sleeps.slept)


@given(collisions=st.integers(min_value=0, max_value=2), error=NOT_RETRIED)
def test_any_other_error_passes_through_untouched_at_once(
    collisions: int, error: Exception
) -> None:
    work, sleeps = Work(collisions, then=error), Sleeps()

    async def run() -> int:
        return await retrying(work, transaction_backoff(), sleep=sleeps)

    with pytest.raises(type(error)) as raised:
        asyncio.run(run())

    assert raised.value is error
    assert work.runs == collisions + 1


async def test_without_a_backoff_the_first_collision_is_the_answer() -> None:
    work = Work(1)

    with pytest.raises(ConcurrentWrite) as raised:
        await retrying(work, no_retry)

    assert work.runs == 1
    assert raised.value.retry_after_seconds == 1
