import math

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from talia_core.resilience.model import (
    BreakerPolicy,
    BreakerSnapshot,
    BreakerState,
    CircuitBreaker,
    Permit,
)

POLICY = BreakerPolicy(failure_threshold=2, open_seconds=30, half_open_probes=1)


def opened(breaker: CircuitBreaker, now: float) -> None:
    for _ in range(POLICY.failure_threshold):
        permit = breaker.admit(now)
        assert permit is not None
        breaker.record_failure(permit, now)


def test_consecutive_failures_up_to_the_threshold_open_the_breaker() -> None:
    breaker = CircuitBreaker(POLICY)
    opened(breaker, now=100)
    assert breaker.snapshot(110) == BreakerSnapshot(BreakerState.OPEN, 2, 20.0, 0)


def test_a_success_between_failures_keeps_the_breaker_closed() -> None:
    breaker = CircuitBreaker(POLICY)
    for record in ("fail", "succeed", "fail"):
        permit = breaker.admit(0)
        assert permit is not None
        if record == "fail":
            breaker.record_failure(permit, 0)
        else:
            breaker.record_success(permit)
    assert breaker.snapshot(0) == BreakerSnapshot(BreakerState.CLOSED, 1, 0.0, 0)


def test_open_breaker_rejects_calls_until_its_interval_passes() -> None:
    breaker = CircuitBreaker(POLICY)
    opened(breaker, now=100)
    assert breaker.admit(129.9) is None
    assert breaker.admit(130) == Permit(period=2, probe=True)


def test_half_open_breaker_admits_only_its_probes_and_a_probe_success_closes_it() -> None:
    breaker = CircuitBreaker(POLICY)
    opened(breaker, now=0)
    probe = breaker.admit(30)
    assert probe is not None
    assert breaker.admit(30) is None
    breaker.record_success(probe)
    assert breaker.snapshot(30) == BreakerSnapshot(BreakerState.CLOSED, 0, 0.0, 0)


def test_a_failed_probe_opens_the_breaker_for_another_interval() -> None:
    breaker = CircuitBreaker(POLICY)
    opened(breaker, now=0)
    probe = breaker.admit(40)
    assert probe is not None
    breaker.record_failure(probe, 41)
    assert breaker.snapshot(41).state is BreakerState.OPEN
    assert breaker.snapshot(41).retry_after_seconds == 30
    assert breaker.admit(70) is None


def test_results_of_calls_admitted_before_the_breaker_opened_are_ignored() -> None:
    breaker = CircuitBreaker(POLICY)
    late = breaker.admit(0)
    assert late is not None
    opened(breaker, now=0)
    breaker.record_success(late)
    assert breaker.snapshot(1).state is BreakerState.OPEN


class BreakerMachine(RuleBasedStateMachine):
    """Drives one breaker with arbitrary admissions, results and passing time."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1_000.0
        self.live: list[Permit] = []
        self.stale: list[Permit] = []

    @initialize(
        policy=st.builds(
            BreakerPolicy,
            failure_threshold=st.integers(1, 4),
            open_seconds=st.floats(0.5, 20),
            half_open_probes=st.integers(1, 3),
        )
    )
    def start(self, policy: BreakerPolicy) -> None:
        self.policy = policy
        self.breaker = CircuitBreaker(policy)

    def snapshot(self) -> BreakerSnapshot:
        return self.breaker.snapshot(self.now)

    def take(self, index: int) -> tuple[Permit, bool]:
        pool = self.live + self.stale
        permit = pool[index % len(pool)]
        is_live = index % len(pool) < len(self.live)
        (self.live if is_live else self.stale).remove(permit)
        return permit, is_live

    def stale_if_changed(self, before: BreakerSnapshot) -> None:
        if self.snapshot().state is not before.state:
            self.stale += self.live
            self.live = []

    @rule(seconds=st.floats(0, 25))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds

    @rule()
    def call_asks_for_a_permit(self) -> None:
        before = self.snapshot()
        permit = self.breaker.admit(self.now)
        if before.state is BreakerState.CLOSED:
            assert permit is not None
            assert not permit.probe
        elif before.state is BreakerState.OPEN:
            assert permit is None
        else:
            assert (permit is not None) == (before.probes_in_flight < self.policy.half_open_probes)
            assert permit is None or permit.probe
        if permit is not None:
            self.live.append(permit)

    @precondition(lambda self: self.live or self.stale)
    @rule(index=st.integers(0, 50))
    def call_succeeds(self, index: int) -> None:
        permit, is_live = self.take(index)
        before = self.snapshot()
        self.breaker.record_success(permit)
        after = self.snapshot()
        if not is_live:
            assert after == before
        else:
            assert (after.state, after.consecutive_failures) == (BreakerState.CLOSED, 0)
        self.stale_if_changed(before)

    @precondition(lambda self: self.live or self.stale)
    @rule(index=st.integers(0, 50))
    def call_fails(self, index: int) -> None:
        permit, is_live = self.take(index)
        before = self.snapshot()
        self.breaker.record_failure(permit, self.now)
        after = self.snapshot()
        if not is_live:
            assert after == before
        elif permit.probe or before.consecutive_failures + 1 >= self.policy.failure_threshold:
            assert after.state is BreakerState.OPEN
            assert after.retry_after_seconds == self.policy.open_seconds
        else:
            assert after.consecutive_failures == before.consecutive_failures + 1
        self.stale_if_changed(before)

    @precondition(lambda self: self.live or self.stale)
    @rule(index=st.integers(0, 50))
    def call_is_refused_by_the_dependency_for_the_callers_fault(self, index: int) -> None:
        permit, is_live = self.take(index)
        before = self.snapshot()
        self.breaker.release(permit)
        after = self.snapshot()
        assert (after.state, after.consecutive_failures) == (
            before.state,
            before.consecutive_failures,
        )
        freed = 1 if is_live and permit.probe else 0
        assert after.probes_in_flight == before.probes_in_flight - freed

    @invariant()
    def probes_never_exceed_the_policy(self) -> None:
        if hasattr(self, "breaker"):
            assert 0 <= self.snapshot().probes_in_flight <= self.policy.half_open_probes

    @invariant()
    def state_and_counters_agree(self) -> None:
        if not hasattr(self, "breaker"):
            return
        snapshot = self.snapshot()
        if snapshot.state is BreakerState.CLOSED:
            assert snapshot.consecutive_failures < self.policy.failure_threshold
        if snapshot.state is BreakerState.OPEN:
            assert 0 < snapshot.retry_after_seconds <= self.policy.open_seconds
            assert snapshot.probes_in_flight == 0
        else:
            assert math.isclose(snapshot.retry_after_seconds, 0)


TestCircuitBreakerStateMachine = BreakerMachine.TestCase
