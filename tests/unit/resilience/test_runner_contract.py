"""The ``ResilienceRunner`` contract: every runner in ``make_runner`` must pass it."""

import asyncio

import pytest

from talia_core.resilience.model import BreakerSnapshot, BreakerState
from talia_core.shared.errors import CallNotAttempted, ExternalServiceUnavailable, RuleViolated
from tests.unit.resilience.doubles import (
    Flaky,
    Gated,
    Hanging,
    ManualTime,
    RunnerFactory,
    policy,
)


def unavailable(retry_after: int | None = None) -> ExternalServiceUnavailable:
    return ExternalServiceUnavailable("vendor", "502 bad gateway", retry_after)


CLOSED = BreakerSnapshot(BreakerState.CLOSED, 0, 0.0, 0)


async def test_a_successful_call_returns_its_result_and_keeps_the_breaker_closed(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("llm", policy(), manual_time)

    assert await runner.run(Flaky()) == "answer"
    assert runner.name == "llm"
    assert runner.snapshot() == CLOSED


async def test_a_call_failing_fewer_times_than_its_attempts_is_retried_with_backoff(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("llm", policy(attempts=3), manual_time)
    flaky = Flaky([unavailable(), unavailable()])

    assert await runner.run(flaky) == "answer"
    assert flaky.calls == 3
    assert manual_time.slept == [0.05, 0.1]
    assert runner.snapshot() == CLOSED


async def test_exhausted_retries_raise_unavailability_of_the_runners_service(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("llm", policy(attempts=3), manual_time)
    flaky = Flaky([unavailable() for _ in range(5)])

    with pytest.raises(ExternalServiceUnavailable) as raised:
        await runner.run(flaky)

    assert raised.value.service == "llm"
    assert flaky.calls == 3
    assert runner.snapshot().consecutive_failures == 3


async def test_a_rule_violation_passes_through_untouched_neither_retried_nor_counted(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("payments", policy(threshold=1), manual_time)
    error = RuleViolated("card number is invalid")
    flaky = Flaky([error])

    with pytest.raises(RuleViolated) as raised:
        await runner.run(flaky, fallback=lambda _: asyncio.sleep(0, "fallback"))

    assert raised.value is error
    assert flaky.calls == 1
    assert runner.snapshot() == CLOSED


async def test_an_unexpected_exception_is_not_retried_but_counts_towards_opening_the_breaker(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("payments", policy(threshold=2), manual_time)
    flaky = Flaky([KeyError("status"), KeyError("status")])

    for _ in range(2):
        with pytest.raises(KeyError):
            await runner.run(flaky)

    assert flaky.calls == 2
    assert runner.snapshot().state is BreakerState.OPEN


async def test_an_attempt_hanging_past_the_timeout_is_cancelled_and_retried(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("calendar", policy(timeout=0.01), manual_time)
    hanging = Hanging(times=1)

    assert await runner.run(hanging) == "late answer"
    assert (hanging.calls, hanging.cancelled) == (2, 1)
    assert runner.snapshot() == CLOSED


async def test_a_call_that_keeps_timing_out_ends_unavailable_and_counts_each_attempt(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("calendar", policy(timeout=0.005, attempts=2), manual_time)

    with pytest.raises(ExternalServiceUnavailable, match="calendar"):
        await runner.run(Hanging(times=2))

    assert runner.snapshot().consecutive_failures == 2


async def test_the_providers_retry_after_hint_is_waited_before_retrying(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("whatsapp", policy(), manual_time)

    assert await runner.run(Flaky([unavailable(retry_after=5)])) == "answer"
    assert manual_time.slept == [5]


async def test_a_retry_after_hint_beyond_the_policy_gives_up_at_once_and_is_passed_on(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("whatsapp", policy(), manual_time)
    flaky = Flaky([unavailable(retry_after=120)])

    with pytest.raises(ExternalServiceUnavailable) as raised:
        await runner.run(flaky)

    assert raised.value.retry_after_seconds == 120
    assert flaky.calls == 1
    assert manual_time.slept == []


async def test_open_breaker_rejects_calls_without_making_them_until_its_interval_passes(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("ftp", policy(attempts=1, threshold=2, open_seconds=30), manual_time)
    for _ in range(2):
        with pytest.raises(ExternalServiceUnavailable):
            await runner.run(Flaky([unavailable()]))
    manual_time.advance(10)
    healthy = Flaky()

    with pytest.raises(CallNotAttempted) as raised:  # a job waiting on it spends no attempt
        await runner.run(healthy)

    assert (raised.value.service, raised.value.retry_after_seconds) == ("ftp", 20)
    assert healthy.calls == 0
    assert runner.snapshot() == BreakerSnapshot(BreakerState.OPEN, 2, 20.0, 0)


async def test_retries_stop_as_soon_as_the_breaker_opens(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("ftp", policy(attempts=5, threshold=2), manual_time)
    flaky = Flaky([unavailable() for _ in range(5)])

    with pytest.raises(ExternalServiceUnavailable, match="open"):
        await runner.run(flaky)

    assert flaky.calls == 2


async def test_after_its_interval_a_successful_probe_closes_the_breaker(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("ftp", policy(attempts=1, threshold=1, open_seconds=30), manual_time)
    with pytest.raises(ExternalServiceUnavailable):
        await runner.run(Flaky([unavailable()]))
    manual_time.advance(30)

    assert runner.snapshot().state is BreakerState.HALF_OPEN
    assert await runner.run(Flaky()) == "answer"
    assert runner.snapshot() == CLOSED


async def test_a_failed_probe_opens_the_breaker_for_another_interval(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("ftp", policy(attempts=3, threshold=1, open_seconds=30), manual_time)
    with pytest.raises(ExternalServiceUnavailable):
        await runner.run(Flaky([unavailable()]))
    manual_time.advance(31)
    probe = Flaky([unavailable(), unavailable()])

    with pytest.raises(ExternalServiceUnavailable, match="open"):
        await runner.run(probe)

    assert probe.calls == 1
    assert runner.snapshot().state is BreakerState.OPEN
    assert runner.snapshot().retry_after_seconds == pytest.approx(30 - 0.05)


async def test_half_open_breaker_lets_only_its_probes_through_at_once(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("ftp", policy(attempts=1, threshold=1, probes=1), manual_time)
    with pytest.raises(ExternalServiceUnavailable):
        await runner.run(Flaky([unavailable()]))
    manual_time.advance(30)
    probe = Gated()
    probing = asyncio.create_task(runner.run(probe))
    await asyncio.sleep(0.001)

    with pytest.raises(ExternalServiceUnavailable) as raised:
        await runner.run(Flaky())
    probe.gate.set()

    assert raised.value.retry_after_seconds == 1
    assert await probing == "through"
    assert runner.snapshot() == CLOSED


async def test_a_cancelled_probe_frees_its_place_for_the_next_one(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("ftp", policy(attempts=1, threshold=1, probes=1), manual_time)
    with pytest.raises(ExternalServiceUnavailable):
        await runner.run(Flaky([unavailable()]))
    manual_time.advance(30)
    probing = asyncio.create_task(runner.run(Gated()))
    await asyncio.sleep(0.001)

    probing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probing

    assert runner.snapshot().probes_in_flight == 0
    assert await runner.run(Flaky()) == "answer"


async def test_a_fallback_turns_unavailability_into_a_result(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("llm", policy(attempts=2), manual_time)
    seen: list[ExternalServiceUnavailable] = []

    async def canned_reply(error: ExternalServiceUnavailable) -> str:
        seen.append(error)
        return "we will answer shortly"

    result = await runner.run(Flaky([unavailable(), unavailable()]), fallback=canned_reply)

    assert result == "we will answer shortly"
    assert [error.service for error in seen] == ["llm"]


async def test_a_call_marked_not_idempotent_is_never_repeated(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("izipay", policy(attempts=5), manual_time)
    charge = Flaky([unavailable()])

    with pytest.raises(ExternalServiceUnavailable):
        await runner.run(charge, idempotent=False)

    assert charge.calls == 1
    assert runner.snapshot().consecutive_failures == 1


async def test_a_call_waits_for_a_free_bulkhead_slot_within_the_bounded_wait(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("redis", policy(concurrent=1, wait=0.5), manual_time)
    busy = Gated()
    holding = asyncio.create_task(runner.run(busy))
    await asyncio.sleep(0.001)
    waiting = asyncio.create_task(runner.run(Flaky()))
    await asyncio.sleep(0.001)

    busy.gate.set()

    assert (await holding, await waiting) == ("through", "answer")


async def test_a_full_bulkhead_rejects_a_call_after_the_bounded_wait_without_blaming_the_service(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("redis", policy(concurrent=1, wait=0.01, threshold=1), manual_time)
    busy = Gated()
    holding = asyncio.create_task(runner.run(busy))
    await asyncio.sleep(0.001)
    late = Flaky()

    with pytest.raises(CallNotAttempted, match="redis"):
        await runner.run(late)
    busy.gate.set()
    await holding

    assert late.calls == 0
    assert runner.snapshot() == CLOSED


async def test_calls_beyond_the_bulkhead_queue_are_rejected_at_once(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("redis", policy(concurrent=1, queued=1, wait=1.0), manual_time)
    busy = Gated()
    holding = asyncio.create_task(runner.run(busy))
    queued = asyncio.create_task(runner.run(Flaky()))
    await asyncio.sleep(0.001)

    with pytest.raises(ExternalServiceUnavailable, match="waiting"):
        await runner.run(Flaky())
    busy.gate.set()

    assert (await holding, await queued) == ("through", "answer")


async def test_a_bulkhead_slot_is_given_back_when_its_call_fails(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("redis", policy(concurrent=1, queued=1), manual_time)
    with pytest.raises(RuleViolated):
        await runner.run(Flaky([RuleViolated("key too long")]))
    with pytest.raises(ExternalServiceUnavailable):
        await runner.run(Flaky([unavailable(retry_after=600)]))

    assert await runner.run(Flaky()) == "answer"


async def test_the_bulkhead_wait_bounds_only_the_queue_not_the_call_once_admitted(
    make_runner: RunnerFactory, manual_time: ManualTime
) -> None:
    runner = make_runner("redis", policy(concurrent=1, wait=0.002), manual_time)
    slow = Gated()
    asyncio.get_running_loop().call_later(0.01, slow.gate.set)

    assert await runner.run(slow) == "through"
