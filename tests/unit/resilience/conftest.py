import pytest

from adapters.resilience import HyxResilienceRunner
from talia_core.resilience.model import ResiliencePolicy
from talia_core.resilience.ports import ResilienceRunner
from tests.unit.resilience.doubles import ManualTime, RunnerFactory


def hyx_runner(name: str, policy: ResiliencePolicy, time: ManualTime) -> ResilienceRunner:
    return HyxResilienceRunner(
        name, policy, monotonic=time.monotonic, sleep=time.sleep, random=time.random
    )


@pytest.fixture(params=[hyx_runner], ids=["hyx"])
def make_runner(request: pytest.FixtureRequest) -> RunnerFactory:
    """Every ``ResilienceRunner`` that must pass the contract, built on manual time."""
    factory: RunnerFactory = request.param
    return factory


@pytest.fixture
def manual_time() -> ManualTime:
    return ManualTime()
