import asyncio
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talia_core.resilience.model import (
    BreakerPolicy,
    BulkheadPolicy,
    Outcome,
    ResiliencePolicy,
    RetryPolicy,
    classify,
    retry_delay,
)
from talia_core.shared.errors import (
    Conflict,
    ExternalServiceUnavailable,
    NotFound,
    RuleViolated,
    Unauthorized,
)

retry_policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 20),
    base_delay_seconds=st.floats(0.001, 10),
    max_delay_seconds=st.floats(10, 120),
    multiplier=st.floats(1, 10),
    max_retry_after_seconds=st.floats(0.001, 600),
)
unit_randoms = st.floats(0, 1, exclude_max=True)
hints = st.none() | st.floats(-10, 1_000)


@pytest.mark.parametrize("value", [0, -1, math.nan, math.inf, True, "1"])
def test_policies_refuse_numbers_that_are_not_positive(value: object) -> None:
    with pytest.raises(RuleViolated) as raised:
        BreakerPolicy(failure_threshold=3, open_seconds=value, half_open_probes=1)  # type: ignore[arg-type]
    assert raised.value.fields == {"open_seconds": "must be positive"}


@pytest.mark.parametrize("value", [0, -2, 1.5, False])
def test_counts_in_policies_are_whole_numbers_of_at_least_one(value: object) -> None:
    with pytest.raises(RuleViolated):
        BulkheadPolicy(max_concurrent=value, max_wait_seconds=1)  # type: ignore[arg-type]


def test_retry_policy_refuses_a_ceiling_below_its_base_delay() -> None:
    with pytest.raises(RuleViolated):
        RetryPolicy(
            3, base_delay_seconds=2, max_delay_seconds=1, multiplier=2, max_retry_after_seconds=9
        )


def test_retry_policy_refuses_a_shrinking_multiplier() -> None:
    with pytest.raises(RuleViolated):
        RetryPolicy(
            3, base_delay_seconds=1, max_delay_seconds=9, multiplier=0.5, max_retry_after_seconds=9
        )


def test_bulkhead_lets_as_many_calls_wait_as_may_run_unless_told_otherwise() -> None:
    assert BulkheadPolicy(max_concurrent=4, max_wait_seconds=1).max_queued == 4
    assert BulkheadPolicy(4, 1, max_queued=10).max_queued == 10


def test_resilience_policy_refuses_a_timeout_that_is_not_positive() -> None:
    with pytest.raises(RuleViolated):
        ResiliencePolicy(
            timeout_seconds=0,
            retry=RetryPolicy(1, 1, 1, 1, 1),
            breaker=BreakerPolicy(1, 1, 1),
            bulkhead=BulkheadPolicy(1, 1),
        )


@given(retry_policies, st.integers(1, 2_000), unit_randoms)
def test_backoff_without_a_hint_stays_between_zero_and_the_maximum_delay(
    policy: RetryPolicy, failed_attempt: int, random: float
) -> None:
    delay = retry_delay(policy, failed_attempt, lambda: random)
    if failed_attempt >= policy.max_attempts:
        assert delay is None
    else:
        assert delay is not None
        assert 0 <= delay <= policy.max_delay_seconds


@given(retry_policies, st.integers(1, 19), unit_randoms, hints)
def test_backoff_waits_at_least_a_hint_it_accepts_and_gives_up_on_longer_ones(
    policy: RetryPolicy, failed_attempt: int, random: float, hint: float | None
) -> None:
    delay = retry_delay(policy, failed_attempt, lambda: random, hint)
    wanted = max(0.0, hint or 0.0)
    if failed_attempt >= policy.max_attempts or wanted > policy.max_retry_after_seconds:
        assert delay is None
    else:
        assert delay is not None
        assert wanted <= delay <= max(policy.max_delay_seconds, wanted)


@given(retry_policies, st.integers(1, 19))
def test_full_jitter_spans_from_zero_to_the_exponential_ceiling(
    policy: RetryPolicy, failed_attempt: int
) -> None:
    if failed_attempt >= policy.max_attempts:
        return
    ceiling = min(
        policy.max_delay_seconds,
        policy.base_delay_seconds * policy.multiplier ** (failed_attempt - 1),
    )
    assert retry_delay(policy, failed_attempt, lambda: 0.0) == 0.0
    highest = retry_delay(policy, failed_attempt, lambda: math.nextafter(1.0, 0.0))
    assert highest == pytest.approx(ceiling)


def test_backoff_doubles_until_it_reaches_the_maximum_delay() -> None:
    policy = RetryPolicy(
        6, base_delay_seconds=1, max_delay_seconds=5, multiplier=2, max_retry_after_seconds=9
    )
    delays = [retry_delay(policy, attempt, lambda: 0.5) for attempt in range(1, 7)]
    assert delays == [0.5, 1.0, 2.0, 2.5, 2.5, None]


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (ExternalServiceUnavailable("llm", "503", retry_after_seconds=3), Outcome.UNAVAILABLE),
        (RuleViolated("bad phone number"), Outcome.PASSED_THROUGH),
        (Conflict("duplicate"), Outcome.PASSED_THROUGH),
        (NotFound("order", "o-1"), Outcome.PASSED_THROUGH),
        (Unauthorized("expired key"), Outcome.PASSED_THROUGH),
        (asyncio.CancelledError(), Outcome.PASSED_THROUGH),
        (KeyError("choices"), Outcome.DEFECT),
    ],
)
def test_errors_are_sorted_into_unavailability_the_callers_fault_and_defects(
    error: BaseException, outcome: Outcome
) -> None:
    assert classify(error) is outcome
