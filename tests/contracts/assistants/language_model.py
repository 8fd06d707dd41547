"""The contract every ``LanguageModel`` passes: the fake, and each provider's adapter against
a local server speaking its wire format.

How to add a provider: write a harness (any object with the attributes and methods of
``ModelHarness``) over your adapter and your fake provider, then subclass
``LanguageModelContract`` in a class whose name ends in ``Tests`` with a ``harness``
fixture. An adapter that calls its provider over HTTP subclasses
``RemoteLanguageModelContract`` instead, with a ``RemoteModelHarness`` and an
``unconfigured`` fixture, and so also runs what the network does to it (silence, refused
connections, a busy provider):

    class OpenAIResponsesLanguageModelTests(RemoteLanguageModelContract):
        @pytest.fixture
        def harness(self, responses: FakeResponses, model: ...) -> RemoteModelHarness:
            return ResponsesHarness(responses, model)

``tests/integration/language/test_openai_responses.py`` and
``tests/unit/assistants/test_fake_language_model.py`` are two examples.

A model whose answers cannot be scripted step by step (the offline one: its rules are data)
subclasses ``AnswerContract`` instead, with an ``AnswerHarness``: what every model does
with the text it answers (``tests/unit/assistants/test_offline_language_model.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

import pytest

from talia_core.assistants.language import (
    InputItem,
    LanguageModel,
    ModelReply,
    ModelRequest,
    Role,
    Said,
    TextDelta,
    ToolCall,
    ToolOutput,
    ToolSpec,
)
from talia_core.shared.errors import ExternalServiceUnavailable, RequestRefused
from tests.fakeserver import refusing_port

How = Literal["complete", "stream"]
BOTH: list[How] = ["complete", "stream"]

ORDER_STATUS = ToolSpec(
    name="order_status",
    description="The status of one of the customer's orders.",
    parameters={
        "type": "object",
        "properties": {"order": {"type": "string", "description": "The order number"}},
        "required": ["order"],
        "additionalProperties": False,
    },
)
CALL = ToolCall("call_FthC9qRpsL5kBpwwyw6c7j4k", "order_status", '{"order":"PE-1042"}')
INSTRUCTIONS = "Eres Talia, la asistente de la tienda. Responde en español, breve."


class AnswerHarness(Protocol):
    @property
    def model(self) -> LanguageModel:
        """The model under test, pointed at the provider the harness controls."""
        ...

    @property
    def model_name(self) -> str:
        """A model the provider serves; its replies name it (or a snapshot of it)."""
        ...

    def will_answer(self, text: str) -> None:
        """Make the model answer the next step (the customer greets and asks) with ``text``."""
        ...


class ModelHarness(AnswerHarness, Protocol):
    def will_answer(self, text: str | None = None, tool_calls: Sequence[ToolCall] = ()) -> None:
        """Script the model's next answer."""
        ...

    def inputs(self) -> list[tuple[InputItem, ...]]:
        """The input items the provider got, one tuple per step, read back from its wire."""
        ...

    def go_down(self, status: int) -> None:
        """Make the provider answer the next request with this HTTP status (500, 503)."""
        ...

    def refuse_next(self) -> None:
        """Make the provider refuse the next request as malformed (HTTP 400)."""
        ...


class RemoteModelHarness(ModelHarness, Protocol):
    """A harness over a model that calls its provider over HTTP."""

    @property
    def base_url(self) -> str:
        """Where the provider listens."""
        ...

    def model_at(self, base_url: str, *, timeout_seconds: float) -> LanguageModel:
        """A model set up like ``model``, calling ``base_url`` and waiting this long."""
        ...

    def go_silent(self) -> None:
        """Make the provider take the next request and never answer it."""
        ...

    def go_busy(self, status: int, retry_after: int) -> None:
        """Make the provider answer the next request with this status (429, 503) and
        ``Retry-After`` in seconds."""
        ...

    def requests(self) -> int:
        """How many requests the provider got."""
        ...


def step(harness: AnswerHarness, *items: InputItem, tools: Sequence[ToolSpec] = ()) -> ModelRequest:
    return ModelRequest(
        model=harness.model_name,
        input=items or (Said(Role.USER, "Hola, ¿tienen envíos a Arequipa?"),),
        instructions=INSTRUCTIONS,
        tools=tuple(tools),
    )


async def ask(model: LanguageModel, request: ModelRequest, how: How) -> ModelReply:
    """The reply, completed or streamed; a stream's pieces must make its text."""
    if how == "complete":
        return await model.complete(request)
    events = [event async for event in model.stream(request)]
    *deltas, reply = events
    assert isinstance(reply, ModelReply)
    assert all(isinstance(delta, TextDelta) for delta in deltas)
    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == (reply.text or "")
    return reply


class AnswerContract:
    """What every model does with the text it answers."""

    @pytest.mark.parametrize("how", BOTH)
    async def test_a_text_answer_comes_back_with_the_model_that_wrote_it(
        self, harness: AnswerHarness, how: How
    ) -> None:
        harness.will_answer("Sí, enviamos a Arequipa en 2 o 3 días.")

        reply = await ask(harness.model, step(harness), how)

        assert reply.text == "Sí, enviamos a Arequipa en 2 o 3 días."
        assert reply.tool_calls == ()
        assert reply.model.startswith(harness.model_name)

    async def test_a_stream_sends_the_text_in_pieces_and_the_reply_last(
        self, harness: AnswerHarness
    ) -> None:
        harness.will_answer("Tenemos tres planes: mensual, trimestral y anual.")

        events = [event async for event in harness.model.stream(step(harness))]

        deltas = [event for event in events if isinstance(event, TextDelta)]
        assert len(deltas) > 1
        assert events[:-1] == deltas
        assert isinstance(events[-1], ModelReply)

    @pytest.mark.parametrize("how", BOTH)
    async def test_usage_is_reported(self, harness: AnswerHarness, how: How) -> None:
        harness.will_answer("Claro que sí.")

        reply = await ask(harness.model, step(harness), how)

        assert reply.usage.input_tokens > 0
        assert reply.usage.output_tokens > 0


class LanguageModelContract(AnswerContract):
    @pytest.mark.parametrize("how", BOTH)
    async def test_a_tool_call_comes_back_with_its_arguments(
        self, harness: ModelHarness, how: How
    ) -> None:
        harness.will_answer(tool_calls=[CALL])

        reply = await ask(harness.model, step(harness, tools=[ORDER_STATUS]), how)

        assert reply.tool_calls == (CALL,)
        assert not reply.text

    async def test_text_and_tool_calls_come_together(self, harness: ModelHarness) -> None:
        harness.will_answer("Déjame revisar tu pedido.", [CALL])

        reply = await ask(harness.model, step(harness, tools=[ORDER_STATUS]), "stream")

        assert (reply.text, reply.tool_calls) == ("Déjame revisar tu pedido.", (CALL,))

    async def test_the_next_step_carries_the_call_and_what_the_tool_answered(
        self, harness: ModelHarness
    ) -> None:
        question = Said(Role.USER, "¿Dónde está mi pedido PE-1042?")
        harness.will_answer(tool_calls=[CALL])
        harness.will_answer("Tu pedido PE-1042 está en camino.")
        first = await harness.model.complete(step(harness, question, tools=[ORDER_STATUS]))

        output = ToolOutput(CALL.call_id, '{"status":"shipped"}')
        history: tuple[InputItem, ...] = (question, *first.tool_calls, output)
        second = await harness.model.complete(step(harness, *history, tools=[ORDER_STATUS]))

        assert second.text == "Tu pedido PE-1042 está en camino."
        assert harness.inputs() == [(question,), history]

    async def test_a_conversation_keeps_who_said_what(self, harness: ModelHarness) -> None:
        history = (
            Said(Role.USER, "Hola"),
            Said(Role.ASSISTANT, "¡Hola! ¿En qué te ayudo?"),
            Said(Role.USER, "Quiero el plan anual"),
        )

        await harness.model.complete(step(harness, *history))

        assert harness.inputs() == [history]

    @pytest.mark.parametrize("how", BOTH)
    @pytest.mark.parametrize("status", [500, 503])
    async def test_a_provider_that_is_down_is_unavailable_and_the_next_step_goes_through(
        self, harness: ModelHarness, status: int, how: How
    ) -> None:
        harness.go_down(status)
        harness.will_answer("Aquí estoy.")

        with pytest.raises(ExternalServiceUnavailable):
            await ask(harness.model, step(harness), how)
        reply = await ask(harness.model, step(harness), how)

        assert reply.text == "Aquí estoy."

    @pytest.mark.parametrize("how", BOTH)
    async def test_a_request_the_provider_refuses_is_refused(
        self, harness: ModelHarness, how: How
    ) -> None:
        harness.refuse_next()

        with pytest.raises(RequestRefused):
            await ask(harness.model, step(harness), how)


class RemoteLanguageModelContract(LanguageModelContract):
    """What the network does to a model that calls its provider over HTTP.

    Besides ``harness``, the subclass provides ``unconfigured``: a model missing a setting
    it needs.
    """

    @pytest.mark.parametrize("how", BOTH)
    @pytest.mark.parametrize("status", [429, 503])
    async def test_a_busy_provider_says_when_to_come_back(
        self, harness: RemoteModelHarness, status: int, how: How
    ) -> None:
        harness.go_busy(status, retry_after=7)

        with pytest.raises(ExternalServiceUnavailable) as unavailable:
            await ask(harness.model, step(harness), how)

        assert unavailable.value.retry_after_seconds == 7

    @pytest.mark.parametrize("how", BOTH)
    async def test_a_provider_that_never_answers_times_out_as_unavailable(
        self, harness: RemoteModelHarness, how: How
    ) -> None:
        harness.go_silent()
        model = harness.model_at(harness.base_url, timeout_seconds=0.2)

        with pytest.raises(ExternalServiceUnavailable, match="timed out"):
            await ask(model, step(harness), how)

    @pytest.mark.parametrize("how", BOTH)
    async def test_a_provider_that_cannot_be_reached_is_unavailable(
        self, harness: RemoteModelHarness, how: How
    ) -> None:
        with refusing_port() as port:
            model = harness.model_at(f"http://127.0.0.1:{port}", timeout_seconds=5.0)

            with pytest.raises(ExternalServiceUnavailable, match="ConnectError"):
                await ask(model, step(harness), how)

    @pytest.mark.parametrize("how", BOTH)
    async def test_an_unconfigured_model_is_unavailable_without_calling_the_provider(
        self, harness: RemoteModelHarness, unconfigured: LanguageModel, how: How
    ) -> None:
        with pytest.raises(ExternalServiceUnavailable, match="not configured"):
            await ask(unconfigured, step(harness), how)

        assert harness.requests() == 0
