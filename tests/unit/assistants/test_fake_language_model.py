"""The fake language model passes the language model contract; other tests lean on it, so
what it promises beyond the contract is pinned here.

The fake calls no provider, so of the contract's failures it runs the outage and the refusal
it can be told of, not what the network does to a remote model
(``RemoteLanguageModelContract``)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest

from adapters.memory.language import UNSCRIPTED, FakeLanguageModel
from talia_core.assistants.language import (
    InputItem,
    LanguageModel,
    ModelRequest,
    Role,
    Said,
    TextDelta,
    ToolCall,
    Usage,
)
from talia_core.shared.errors import ExternalServiceUnavailable, RequestRefused
from tests.contracts.assistants.language_model import (
    CALL,
    LanguageModelContract,
    ModelHarness,
)


@attrs.frozen
class FakeHarness:
    fake: FakeLanguageModel
    model_name: str = "fake-model-1"

    @property
    def model(self) -> LanguageModel:
        return self.fake

    def will_answer(self, text: str | None = None, tool_calls: Sequence[ToolCall] = ()) -> None:
        self.fake.answer(text=text, tool_calls=tool_calls)

    def inputs(self) -> list[tuple[InputItem, ...]]:
        return [request.input for request in self.fake.requests]

    def go_down(self, status: int) -> None:
        self.fake.fail_next()

    def refuse_next(self) -> None:
        self.fake.refuse_next()


@pytest.fixture
def fake() -> FakeLanguageModel:
    return FakeLanguageModel()


class FakeLanguageModelTests(LanguageModelContract):
    @pytest.fixture
    def harness(self, fake: FakeLanguageModel) -> ModelHarness:
        return FakeHarness(fake)


def hello(text: str = "Hola") -> ModelRequest:
    return ModelRequest("fake-model-1", (Said(Role.USER, text),), instructions="Sé breve.")


async def test_every_step_is_recorded_even_the_failed_and_refused_ones(
    fake: FakeLanguageModel,
) -> None:
    fake.fail_next()
    fake.refuse_next("too long")

    with pytest.raises(ExternalServiceUnavailable):
        await fake.complete(hello("uno"))
    with pytest.raises(RequestRefused, match="too long"):
        await fake.complete(hello("dos"))
    await fake.complete(hello("tres"))

    assert [request.input for request in fake.requests] == [
        hello(text).input for text in ("uno", "dos", "tres")
    ]


async def test_answers_are_given_in_the_order_they_were_scripted_then_the_unscripted_one(
    fake: FakeLanguageModel,
) -> None:
    fake.answer(text="primero")
    fake.answer(tool_calls=[CALL])

    replies = [await fake.complete(hello()) for _ in range(3)]

    assert [(r.text, r.tool_calls) for r in replies] == [
        ("primero", ()),
        (None, (CALL,)),
        (UNSCRIPTED, ()),
    ]


async def test_usage_is_a_token_per_four_characters_sent_and_written(
    fake: FakeLanguageModel,
) -> None:
    fake.answer(text="12345678")

    reply = await fake.complete(hello("1234"))  # "Sé breve." + "1234": 13 characters

    assert reply.usage == Usage(input_tokens=4, output_tokens=2)


async def test_a_stream_sends_a_word_at_a_time(fake: FakeLanguageModel) -> None:
    fake.answer(text="Tenemos tres planes")

    events = [event async for event in fake.stream(hello())]

    assert events[:-1] == [TextDelta("Tenemos "), TextDelta("tres "), TextDelta("planes")]
