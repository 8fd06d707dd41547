import asyncio
from collections.abc import AsyncIterator

import attrs
import pytest

from adapters.resilience import HyxResilienceRunner, resilient
from talia_core.shared.errors import ExternalServiceUnavailable
from tests.unit.resilience.doubles import ManualTime, policy


@attrs.define
class FlakySender:
    """A channel sender whose provider drops the first ``drops`` requests."""

    drops: int
    provider: str = "whatsapp-cloud"
    sent: list[str] = attrs.field(factory=list)

    async def send(self, text: str, *, to: str) -> str:
        if self.drops:
            self.drops -= 1
            raise ExternalServiceUnavailable(self.provider, "connection reset")
        self.sent.append(f"{to}: {text}")
        return f"wamid.{len(self.sent)}"

    def describe(self) -> str:
        return f"sender on {self.provider}"


def runner(manual_time: ManualTime) -> HyxResilienceRunner:
    return HyxResilienceRunner(
        "whatsapp",
        policy(attempts=3),
        monotonic=manual_time.monotonic,
        sleep=manual_time.sleep,
        random=manual_time.random,
    )


async def test_every_coroutine_method_of_a_wrapped_adapter_runs_through_the_runner(
    manual_time: ManualTime,
) -> None:
    sender = resilient(FlakySender(drops=2), runner(manual_time))

    assert await sender.send("hola", to="+51 999") == "wamid.1"
    assert sender.sent == ["+51 999: hola"]
    assert len(manual_time.slept) == 2


async def test_plain_attributes_and_methods_of_a_wrapped_adapter_are_left_alone(
    manual_time: ManualTime,
) -> None:
    sender = resilient(FlakySender(drops=0), runner(manual_time))

    assert sender.provider == "whatsapp-cloud"
    assert sender.describe() == "sender on whatsapp-cloud"
    assert sender.send.__name__ == "send"


async def test_methods_named_not_idempotent_are_never_repeated(manual_time: ManualTime) -> None:
    sender = resilient(FlakySender(drops=1), runner(manual_time), non_idempotent={"send"})

    with pytest.raises(ExternalServiceUnavailable) as raised:
        await sender.send("hola", to="+51 999")

    assert raised.value.service == "whatsapp"
    assert sender.sent == []


def test_naming_a_method_the_adapter_lacks_as_not_idempotent_is_refused(
    manual_time: ManualTime,
) -> None:
    with pytest.raises(ValueError, match="sned"):
        resilient(FlakySender(drops=0), runner(manual_time), non_idempotent={"sned", "describe"})


@attrs.define
class FlakyModel:
    """A model whose stream fails to open ``drops`` times, then may break after its first
    piece (``breaks``)."""

    drops: int
    breaks: bool = False
    openings: int = 0

    async def stream(self, text: str) -> AsyncIterator[str]:
        self.openings += 1
        if self.drops:
            self.drops -= 1
            raise ExternalServiceUnavailable("openai", "connection reset")
        for index, word in enumerate(text.split()):
            if self.breaks and index == 1:
                raise ExternalServiceUnavailable("openai", "the stream broke")
            yield word


async def test_a_streams_opening_is_retried_and_then_every_piece_flows(
    manual_time: ManualTime,
) -> None:
    model = FlakyModel(drops=2)
    wrapped = resilient(model, runner(manual_time))

    pieces = [piece async for piece in wrapped.stream("hola qué tal")]

    assert pieces == ["hola", "qué", "tal"]
    assert model.openings == 3
    assert len(manual_time.slept) == 2


async def test_a_stream_that_breaks_midway_is_never_repeated(manual_time: ManualTime) -> None:
    model = FlakyModel(drops=0, breaks=True)
    wrapped = resilient(model, runner(manual_time))
    pieces: list[str] = []

    with pytest.raises(ExternalServiceUnavailable, match="broke"):
        async for piece in wrapped.stream("hola qué tal"):
            pieces.append(piece)

    assert pieces == ["hola"]
    assert model.openings == 1


async def test_a_stream_opening_too_slowly_is_unavailable(manual_time: ManualTime) -> None:
    class SlowModel:
        async def stream(self) -> AsyncIterator[str]:
            await asyncio.sleep(5)
            yield "tarde"

    slow = HyxResilienceRunner("openai", policy(timeout=0.01, attempts=1))
    wrapped = resilient(SlowModel(), slow)

    with pytest.raises(ExternalServiceUnavailable, match="no answer within"):
        [piece async for piece in wrapped.stream()]


async def test_an_empty_stream_ends_at_once(manual_time: ManualTime) -> None:
    wrapped = resilient(FlakyModel(drops=0), runner(manual_time))

    assert [piece async for piece in wrapped.stream("")] == []


def test_a_stream_may_be_named_not_idempotent(manual_time: ManualTime) -> None:
    resilient(FlakyModel(drops=0), runner(manual_time), non_idempotent={"stream"})
