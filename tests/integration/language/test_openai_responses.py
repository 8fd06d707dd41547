"""The OpenAI Responses API language model against a local server speaking its wire format
(``responses_server.FakeResponses``): what goes over the wire, how OpenAI's answers and
errors are read, and the language model contract."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence

import attrs
import httpx
import pytest

from adapters.language.openai import OpenAIResponsesLanguageModel
from talia_core.assistants.language import (
    InputItem,
    LanguageModel,
    ModelRequest,
    PromptRef,
    Role,
    Said,
    ToolCall,
    ToolOutput,
)
from talia_core.shared.errors import ExternalServiceUnavailable, RequestRefused
from tests.contracts.assistants.language_model import (
    CALL,
    INSTRUCTIONS,
    ORDER_STATUS,
    RemoteLanguageModelContract,
    RemoteModelHarness,
    ask,
)
from tests.fakeserver import Reply
from tests.integration.language.responses_server import API_KEY, FakeResponses, openai_error

MODEL = "gpt-4.1-mini"


def model_at(client: httpx.AsyncClient, base_url: str) -> OpenAIResponsesLanguageModel:
    return OpenAIResponsesLanguageModel(client, api_key=API_KEY, base_url=f"{base_url}/v1")


@pytest.fixture
def model(client: httpx.AsyncClient, responses: FakeResponses) -> OpenAIResponsesLanguageModel:
    return model_at(client, responses.base_url)


# ------------------------------------------------------------------------------ contract


@attrs.define
class ResponsesHarness:
    responses: FakeResponses
    openai: OpenAIResponsesLanguageModel
    clients: list[httpx.AsyncClient] = attrs.field(factory=list)
    model_name: str = MODEL

    @property
    def model(self) -> LanguageModel:
        return self.openai

    @property
    def base_url(self) -> str:
        return self.responses.base_url

    def model_at(self, base_url: str, *, timeout_seconds: float) -> LanguageModel:
        client = httpx.AsyncClient(timeout=timeout_seconds)
        self.clients.append(client)
        return model_at(client, base_url)

    def will_answer(self, text: str | None = None, tool_calls: Sequence[ToolCall] = ()) -> None:
        self.responses.will_answer(text, tool_calls)

    def inputs(self) -> list[tuple[InputItem, ...]]:
        return self.responses.inputs()

    def go_down(self, status: int) -> None:
        error = openai_error("The server had an error.", kind="server_error", code=None)
        self.responses.answer_next(Reply(status, error))

    def refuse_next(self) -> None:
        message = "Invalid schema for function 'order_status'."
        error = openai_error(message, kind="invalid_request_error", code=None, param="tools[0]")
        self.responses.answer_next(Reply(400, error))

    def go_silent(self) -> None:
        self.responses.answer_next(Reply(stall=True))

    def go_busy(self, status: int, retry_after: int) -> None:
        error = openai_error(
            "Rate limit reached for gpt-4.1-mini on tokens per min (TPM).",
            kind="tokens",
            code="rate_limit_exceeded",
        )
        self.responses.answer_next(Reply(status, error, {"Retry-After": str(retry_after)}))

    def requests(self) -> int:
        return len(self.responses.requests)


class OpenAIResponsesLanguageModelTests(RemoteLanguageModelContract):
    @pytest.fixture
    async def harness(
        self, responses: FakeResponses, model: OpenAIResponsesLanguageModel
    ) -> AsyncIterator[RemoteModelHarness]:
        harness = ResponsesHarness(responses, model)
        yield harness
        for client in harness.clients:
            await client.aclose()

    @pytest.fixture
    def unconfigured(
        self, client: httpx.AsyncClient, responses: FakeResponses
    ) -> OpenAIResponsesLanguageModel:
        return OpenAIResponsesLanguageModel(client, api_key="", base_url=responses.base_url)


# ------------------------------------------------------------------------------ the wire


async def test_a_step_is_posted_to_responses_with_the_bearer_key_and_is_not_stored(
    responses: FakeResponses, model: OpenAIResponsesLanguageModel
) -> None:
    await model.complete(
        ModelRequest(
            model=MODEL,
            input=(Said(Role.USER, "Hola"),),
            instructions=INSTRUCTIONS,
            temperature=0.3,
            max_output_tokens=400,
        )
    )

    [request] = responses.requests
    assert (request.method, request.path) == ("POST", "/v1/responses")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.json() == {
        "model": MODEL,
        "instructions": INSTRUCTIONS,
        "input": [{"role": "user", "content": "Hola"}],
        "temperature": 0.3,
        "max_output_tokens": 400,
        "store": False,
    }


async def test_tools_calls_and_their_outputs_are_sent_as_function_items(
    responses: FakeResponses, model: OpenAIResponsesLanguageModel
) -> None:
    history: tuple[InputItem, ...] = (
        Said(Role.USER, "¿Dónde está mi pedido PE-1042?"),
        CALL,
        ToolOutput(CALL.call_id, '{"status":"shipped"}'),
    )

    await model.complete(step_with(history))

    body = responses.bodies()[0]
    assert body["input"] == [
        {"role": "user", "content": "¿Dónde está mi pedido PE-1042?"},
        {
            "type": "function_call",
            "call_id": CALL.call_id,
            "name": "order_status",
            "arguments": '{"order":"PE-1042"}',
        },
        {"type": "function_call_output", "call_id": CALL.call_id, "output": '{"status":"shipped"}'},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "name": "order_status",
            "description": ORDER_STATUS.description,
            "parameters": dict(ORDER_STATUS.parameters),
            "strict": False,
        }
    ]


def step_with(history: tuple[InputItem, ...]) -> ModelRequest:
    return ModelRequest(MODEL, history, instructions=INSTRUCTIONS, tools=(ORDER_STATUS,))


async def test_a_stored_prompt_is_sent_with_its_version_and_variables(
    responses: FakeResponses, model: OpenAIResponsesLanguageModel
) -> None:
    prompt = PromptRef("pmpt_68b9c1f2a4e08195", version="3", variables={"shop": "Talia"})

    await model.complete(ModelRequest(MODEL, (Said(Role.USER, "Hola"),), prompt=prompt))

    body = responses.bodies()[0]
    assert body["prompt"] == {
        "id": "pmpt_68b9c1f2a4e08195",
        "version": "3",
        "variables": {"shop": "Talia"},
    }
    assert "instructions" not in body


async def test_a_stream_asks_for_one(
    responses: FakeResponses, model: OpenAIResponsesLanguageModel
) -> None:
    [_ async for _ in model.stream(step_with((Said(Role.USER, "Hola"),)))]

    assert responses.bodies()[0]["stream"] is True


async def test_the_reply_counts_the_tokens_openai_reports(
    responses: FakeResponses, model: OpenAIResponsesLanguageModel
) -> None:
    responses.will_answer("Claro, te ayudo con eso.")

    reply = await model.complete(step_with((Said(Role.USER, "Hola"),)))

    body = responses.bodies()[0]
    assert reply.usage.output_tokens == len("Claro, te ayudo con eso.") // 4
    assert reply.usage.input_tokens > len(body["instructions"]) // 4
    assert reply.model == "gpt-4.1-mini-2025-04-14"


@pytest.mark.parametrize(
    ("kind", "code", "error"),
    [
        ("failed", "server_error", ExternalServiceUnavailable),
        ("failed", "rate_limit_exceeded", ExternalServiceUnavailable),
        ("failed", "invalid_prompt", RequestRefused),
        ("error", "server_error", ExternalServiceUnavailable),
    ],
)
async def test_a_stream_that_fails_after_it_started_raises_after_its_first_pieces(
    responses: FakeResponses,
    model: OpenAIResponsesLanguageModel,
    kind: str,
    code: str,
    error: type[Exception],
) -> None:
    responses.will_answer("Un momento por favor.")
    responses.break_next_stream(kind, code=code, message="The model failed to generate.")
    pieces = []

    with pytest.raises(error, match=code):
        async for event in model.stream(step_with((Said(Role.USER, "Hola"),))):
            pieces.append(event)

    assert len(pieces) == 1


@pytest.mark.parametrize(
    ("code", "error"),
    [("server_error", ExternalServiceUnavailable), ("invalid_prompt", RequestRefused)],
)
async def test_a_response_that_failed_is_an_error_not_an_empty_reply(
    responses: FakeResponses, model: OpenAIResponsesLanguageModel, code: str, error: type[Exception]
) -> None:
    failed = {
        "object": "response",
        "status": "failed",
        "model": MODEL,
        "output": [],
        "error": {"code": code, "message": "The model failed to generate."},
    }
    responses.answer_next(Reply(200, failed))

    with pytest.raises(error, match=code):
        await model.complete(step_with((Said(Role.USER, "Hola"),)))


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_credentials_are_unavailable_and_logged_as_errors(
    responses: FakeResponses,
    client: httpx.AsyncClient,
    status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    error = openai_error(
        "Incorrect API key provided.", kind="invalid_request_error", code="invalid_api_key"
    )
    responses.answer_next(Reply(status, error))

    with (
        pytest.raises(ExternalServiceUnavailable, match="credentials"),
        caplog.at_level(logging.ERROR),
    ):
        await model_at(client, responses.base_url).complete(step_with((Said(Role.USER, "Hola"),)))

    assert "openai refused the credentials" in caplog.text


@pytest.mark.parametrize("status", [404, 422])
async def test_an_unknown_model_or_unprocessable_request_is_refused(
    responses: FakeResponses, model: OpenAIResponsesLanguageModel, status: int
) -> None:
    error = openai_error(
        "The model `gpt-9` does not exist or you do not have access to it.",
        kind="invalid_request_error",
        code="model_not_found",
    )
    responses.answer_next(Reply(status, error))

    with pytest.raises(RequestRefused, match="does not exist"):
        await ask(model, step_with((Said(Role.USER, "Hola"),)), "stream")


async def test_a_response_without_what_a_reply_needs_is_unavailable(
    responses: FakeResponses, model: OpenAIResponsesLanguageModel
) -> None:
    responses.answer_next(Reply(200, {"object": "response", "status": "completed"}))

    with pytest.raises(ExternalServiceUnavailable, match="unreadable response"):
        await model.complete(step_with((Said(Role.USER, "Hola"),)))


@pytest.mark.parametrize(
    "data",
    [
        {"type": "response.completed", "sequence_number": 0},
        {"sequence_number": 0, "delta": "Hola"},
    ],
    ids=["completed without its response", "an event without its type"],
)
async def test_a_stream_event_without_what_a_reply_needs_is_unavailable(
    responses: FakeResponses, model: OpenAIResponsesLanguageModel, data: dict[str, object]
) -> None:
    stream = f"event: {data.get('type', 'message')}\ndata: {json.dumps(data)}\n\n".encode()
    responses.answer_next(Reply(200, stream, {"Content-Type": "text/event-stream"}))

    with pytest.raises(ExternalServiceUnavailable, match="unreadable response"):
        await ask(model, step_with((Said(Role.USER, "Hola"),)), "stream")
