"""A local HTTP server speaking chat completions as Hugging Face's router and the
OpenAI-compatible servers (vLLM, TGI, Ollama, llama.cpp) do.

A ``tests.fakeserver.LocalServer`` on 127.0.0.1 answering ``POST /v1/chat/completions``
with the bearer token:

- without ``stream``: ``{"id": "chatcmpl-...", "object": "chat.completion", "created",
  "model", "system_fingerprint", "choices": [{"index": 0, "message": {"role": "assistant",
  "content", "tool_calls": [{"id", "type": "function", "function": {"name",
  "arguments"}}]}, "logprobs": null, "finish_reason": "stop" | "tool_calls"}], "usage":
  {"prompt_tokens", "completion_tokens", "total_tokens"}}``;
- with ``"stream": true``: ``text/event-stream`` of ``data: {...}`` lines, each a
  ``chat.completion.chunk`` with a ``delta`` (the role first, then a piece of content, or of a
  tool call by ``index``: its id, type and name first, then its arguments), the
  ``finish_reason`` in the last choice, a usage chunk with no choices when
  ``stream_options.include_usage`` asks for it, then ``data: [DONE]``;
- errors as ``{"error": {"message", "type", "param", "code"}}``.

``will_answer`` scripts the model's next answer, ``answer_next`` makes it answer the next
request otherwise (a 429, a 503, silence).
"""

from __future__ import annotations

import json
from typing import Any

from talia_core.assistants.language import InputItem, Role, Said, ToolCall, ToolOutput
from tests.fakeserver import Reply
from tests.integration.language.scripted import Scripted, ScriptedModelServer, pieces, tokens

TOKEN = "hf_" + "t" * 34  # the token it takes
CREATED = 1741569952
FINGERPRINT = "3.2.1-sha-4d28897"


def chat_error(message: str, *, kind: str, code: int, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class FakeChatCompletions(ScriptedModelServer):
    content_type = "application/json"
    path = "/v1/chat/completions"

    def inputs(self) -> list[tuple[InputItem, ...]]:
        """The conversation of every request (its system message aside), read back from the
        wire."""
        return [_conversation(body["messages"]) for body in self.bodies()]

    def error(self, status: int, message: str) -> dict[str, Any]:
        kind = "authentication_error" if status == 401 else "not_found_error"
        return chat_error(message, kind=kind, code=status)

    def answered(self, body: dict[str, Any], scripted: Scripted) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": scripted.text}
        if scripted.tool_calls:
            message["tool_calls"] = [_call(call) for call in scripted.tool_calls]
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": _finish(scripted),
        }
        return {
            **self._envelope(body, "chat.completion"),
            "choices": [choice],
            "usage": _usage(body, scripted),
        }

    def streamed(self, body: dict[str, Any], scripted: Scripted) -> Reply:
        head = self._envelope(body, "chat.completion.chunk")
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        deltas += (
            [{"content": piece} for piece in pieces(scripted.text or "")] if scripted.text else []
        )
        for index, call in enumerate(scripted.tool_calls):
            opening = {**_call(call), "index": index}
            opening["function"] = {"name": call.name, "arguments": ""}
            deltas.append({"tool_calls": [opening]})
            half = len(call.arguments) // 2
            for part in (call.arguments[:half], call.arguments[half:]):
                deltas.append({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
        chunks = [
            {
                **head,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}],
            }
            for delta in deltas
        ]
        chunks.append(
            {
                **head,
                "choices": [
                    {"index": 0, "delta": {}, "logprobs": None, "finish_reason": _finish(scripted)}
                ],
            }
        )
        if body.get("stream_options", {}).get("include_usage"):
            chunks.append({**head, "choices": [], "usage": _usage(body, scripted)})
        lines = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks] + ["data: [DONE]\n\n"]
        return Reply(200, "".join(lines).encode(), {"Content-Type": "text/event-stream"})

    def _envelope(self, body: dict[str, Any], kind: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG{len(self.requests):04d}",
            "object": kind,
            "created": CREATED,
            "model": body["model"],
            "system_fingerprint": FINGERPRINT,
        }


def _call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.call_id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def _finish(scripted: Scripted) -> str:
    return "tool_calls" if scripted.tool_calls else "stop"


def _usage(body: dict[str, Any], scripted: Scripted) -> dict[str, int]:
    prompt = tokens(json.dumps(body["messages"]))
    written = tokens(
        (scripted.text or "") + "".join(call.arguments for call in scripted.tool_calls)
    )
    return {"prompt_tokens": prompt, "completion_tokens": written, "total_tokens": prompt + written}


def _conversation(messages: list[dict[str, Any]]) -> tuple[InputItem, ...]:
    items: list[InputItem] = []
    for message in messages:
        if message["role"] == "tool":
            items.append(ToolOutput(message["tool_call_id"], message["content"]))
        elif message.get("tool_calls"):
            items += [
                ToolCall(c["id"], c["function"]["name"], c["function"]["arguments"])
                for c in message["tool_calls"]
            ]
        elif message["role"] != "system":
            items.append(Said(Role(message["role"]), message["content"]))
    return tuple(items)
