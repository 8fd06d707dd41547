import pytest

from adapters.resilience import BreakerBoard, HyxResilienceRunner
from talia_core.resilience.model import BreakerState
from talia_core.shared.errors import ExternalServiceUnavailable
from tests.unit.resilience.doubles import Flaky, policy


async def test_the_board_shows_the_breaker_of_every_runner_by_name() -> None:
    board = BreakerBoard()
    llm = board.add(HyxResilienceRunner("llm", policy(attempts=1, threshold=1)))
    board.add(HyxResilienceRunner("izipay", policy()))
    with pytest.raises(ExternalServiceUnavailable):
        await llm.run(Flaky([ExternalServiceUnavailable("openai", "503")]))

    states = {name: snapshot.state for name, snapshot in board.snapshots().items()}

    assert states == {"izipay": BreakerState.CLOSED, "llm": BreakerState.OPEN}


def test_the_board_refuses_two_runners_with_one_name() -> None:
    board = BreakerBoard()
    board.add(HyxResilienceRunner("llm", policy()))

    with pytest.raises(ValueError, match="llm"):
        board.add(HyxResilienceRunner("llm", policy()))
