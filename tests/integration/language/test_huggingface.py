"""The Hugging Face language model against a local server speaking chat completions
(``chat_server.FakeChatCompletions``): what goes over the wire, how the answers and errors
are read, and the language model contract."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import attrs
import pytest

from adapters.language.huggingface import HuggingFaceLanguageModel
from talia_core.assistants.language import (
    InputItem,
    LanguageModel,
    ModelReply,
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
)
from tests.fakeserver import Reply
from tests.integration.language.chat_server import TOKEN, FakeChatCompletions, chat_error

MODEL = "meta-llama/Llama-3.3-70B-Instruct"


def model_at(base_url: str, timeout_seconds: float = 5.0) -> HuggingFaceLanguageModel:
    return HuggingFaceLanguageModel(token=TOKEN, base_url=base_url, timeout_seconds=timeout_seconds)


@pytest.fixture
def model(chat: FakeChatCompletions) -> HuggingFaceLanguageModel:
    return model_at(chat.base_url)


def step_with(*history: InputItem) -> ModelRequest:
    return ModelRequest(MODEL, history, instructions=INSTRUCTIONS, tools=(ORDER_STATUS,))


# ------------------------------------------------------------------------------ contract


@attrs.frozen
class ChatHarness:
    chat: FakeChatCompletions
    hugging_face: HuggingFaceLanguageModel
    model_name: str = MODEL

    @property
    def model(self) -> LanguageModel:
        return self.hugging_face

    @property
    def base_url(self) -> str:
        return self.chat.base_url

    def model_at(self, base_url: str, *, timeout_seconds: float) -> LanguageModel:
        return model_at(base_url, timeout_seconds)

    def will_answer(self, text: str | None = None, tool_calls: Sequence[ToolCall] = ()) -> None:
        self.chat.will_answer(text, tool_calls)

    def inputs(self) -> list[tuple[InputItem, ...]]:
        return self.chat.inputs()

    def go_down(self, status: int) -> None:
        error = chat_error("Model is overloaded", kind="server_error", code=status)
        self.chat.answer_next(Reply(status, error))

    def refuse_next(self) -> None:
        message = "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096."
        error = chat_error(message, kind="BadRequestError", code=400)
        self.chat.answer_next(Reply(400, error))

    def go_silent(self) -> None:
        self.chat.answer_next(Reply(stall=True))

    def go_busy(self, status: int, retry_after: int) -> None:
        error = chat_error("Rate limit reached", kind="rate_limit_error", code=status)
        self.chat.answer_next(Reply(status, error, {"Retry-After": str(retry_after)}))

    def requests(self) -> int:
        return len(self.chat.requests)


class HuggingFaceLanguageModelTests(RemoteLanguageModelContract):
    @pytest.fixture
    def harness(
        self, chat: FakeChatCompletions, model: HuggingFaceLanguageModel
    ) -> RemoteModelHarness:
        return ChatHarness(chat, model)

    @pytest.fixture
    def unconfigured(self, chat: FakeChatCompletions) -> HuggingFaceLanguageModel:
        return HuggingFaceLanguageModel(token="", base_url=chat.base_url)


# ------------------------------------------------------------------------------ the wire


async def test_a_step_is_posted_to_chat_completions_with_the_bearer_token(
    chat: FakeChatCompletions, model: HuggingFaceLanguageModel
) -> None:
    await model.complete(
        ModelRequest(
            MODEL,
            (Said(Role.USER, "Hola"),),
            instructions=INSTRUCTIONS,
            temperature=0.3,
            max_output_tokens=400,
        )
    )

    [request] = chat.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.json() == {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": INSTRUCTIONS},
            {"role": "user", "content": "Hola"},
        ],
        "temperature": 0.3,
        "max_tokens": 400,
        "stream": False,
    }


async def test_calls_are_an_assistant_message_and_outputs_are_tool_messages(
    chat: FakeChatCompletions, model: HuggingFaceLanguageModel
) -> None:
    second = ToolCall("call_2", "order_status", '{"order":"PE-1043"}')

    await model.complete(
        step_with(
            Said(Role.USER, "¿Y mis dos pedidos?"),
            CALL,
            second,
            ToolOutput(CALL.call_id, '{"status":"shipped"}'),
            ToolOutput("call_2", '{"status":"paid"}'),
        )
    )

    body = chat.bodies()[0]
    assert body["messages"][1:] == [
        {"role": "user", "content": "¿Y mis dos pedidos?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": CALL.call_id,
                    "type": "function",
                    "function": {"name": "order_status", "arguments": '{"order":"PE-1042"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "order_status", "arguments": '{"order":"PE-1043"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": CALL.call_id, "content": '{"status":"shipped"}'},
        {"role": "tool", "tool_call_id": "call_2", "content": '{"status":"paid"}'},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "order_status",
                "description": ORDER_STATUS.description,
                "parameters": dict(ORDER_STATUS.parameters),
            },
        }
    ]


async def test_a_stream_asks_for_the_usage_in_its_last_chunk(
    chat: FakeChatCompletions, model: HuggingFaceLanguageModel
) -> None:
    chat.will_answer("Claro.")

    events = [event async for event in model.stream(step_with(Said(Role.USER, "Hola")))]

    body = chat.bodies()[0]
    assert (body["stream"], body["stream_options"]) == (True, {"include_usage": True})
    assert isinstance(events[-1], ModelReply)
    assert events[-1].usage.output_tokens == 1


async def test_arguments_sent_as_an_object_come_back_as_json_text(
    chat: FakeChatCompletions, model: HuggingFaceLanguageModel
) -> None:
    chat.will_answer(tool_calls=[CALL])
    answer = chat.answered({"model": MODEL, "messages": []}, chat.next_scripted())
    # TGI writes a call's arguments as a JSON object rather than as text.
    answer["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = {"order": "PE-1042"}
    chat.answer_next(Reply(200, answer))

    reply = await model.complete(step_with(Said(Role.USER, "¿Mi pedido?")))

    assert reply.tool_calls == (ToolCall(CALL.call_id, "order_status", '{"order": "PE-1042"}'),)


async def test_a_step_with_only_a_stored_prompt_is_refused_without_calling(
    chat: FakeChatCompletions, model: HuggingFaceLanguageModel
) -> None:
    request = ModelRequest(MODEL, (Said(Role.USER, "Hola"),), prompt=PromptRef("pmpt_1"))

    with pytest.raises(RequestRefused, match="stored prompts"):
        await model.complete(request)

    assert chat.requests == []


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_credentials_are_unavailable_and_logged_as_errors(
    chat: FakeChatCompletions,
    model: HuggingFaceLanguageModel,
    status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    chat.answer_next(Reply(status, chat_error("Invalid credentials", kind="auth", code=status)))

    with caplog.at_level(logging.ERROR), pytest.raises(ExternalServiceUnavailable, match="cred"):
        await model.complete(step_with(Said(Role.USER, "Hola")))

    assert "huggingface refused the credentials" in caplog.text


@pytest.mark.parametrize("status", [404, 422])
async def test_an_unknown_model_or_unprocessable_request_is_refused(
    chat: FakeChatCompletions, model: HuggingFaceLanguageModel, status: int
) -> None:
    message = "The model `meta-llama/Llama-9` does not exist"
    chat.answer_next(Reply(status, chat_error(message, kind="NotFoundError", code=status)))

    with pytest.raises(RequestRefused, match="does not exist"):
        await model.complete(step_with(Said(Role.USER, "Hola")))
