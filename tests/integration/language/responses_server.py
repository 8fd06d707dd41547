"""A local HTTP server speaking OpenAI's Responses API wire format.

A ``tests.fakeserver.LocalServer`` on 127.0.0.1 answering ``POST /v1/responses`` with the
bearer token as OpenAI documents it:

- without ``stream``: the response object (``{"id": "resp_...", "object": "response",
  "status": "completed", "model", "output": [message and function_call items], "usage"}``);
- with ``"stream": true``: ``text/event-stream`` with an ``event:`` and a ``data:`` line per
  event: ``response.created``, ``response.in_progress``, for a message
  ``response.output_item.added``, ``response.content_part.added``,
  ``response.output_text.delta`` per piece, ``response.output_text.done``,
  ``response.content_part.done``, ``response.output_item.done``; for a function call
  ``response.output_item.added``, ``response.function_call_arguments.delta`` and ``.done``,
  ``response.output_item.done``; then ``response.completed`` with the whole response;
- errors as ``{"error": {"message", "type", "param", "code"}}``.

``will_answer`` scripts the model's next answer, ``break_next_stream`` makes the next stream
fail after its first piece (``response.failed`` or an ``error`` event), ``answer_next`` makes
it answer the next request otherwise (a 429, a 503, silence).
"""

from __future__ import annotations

import json
from typing import Any

from talia_core.assistants.language import InputItem, Role, Said, ToolCall, ToolOutput
from tests.fakeserver import Reply
from tests.integration.language.scripted import Scripted, ScriptedModelServer, pieces, tokens

API_KEY = "sk-proj-" + "t" * 48  # the key it takes
CREATED_AT = 1741476542
_ERROR_TYPES = {401: "invalid_request_error", 404: "invalid_request_error"}


def openai_error(
    message: str, *, kind: str, code: str | None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n"


class FakeResponses(ScriptedModelServer):
    content_type = "application/json"
    path = "/v1/responses"

    def __init__(self, *, token: str) -> None:
        super().__init__(token=token)
        self._breaks: list[dict[str, Any]] = []

    def break_next_stream(self, kind: str, *, code: str, message: str) -> None:
        """After its first piece of text, the next stream fails: ``kind`` is ``failed`` (a
        ``response.failed`` event) or ``error`` (an ``error`` event)."""
        self._breaks.append({"kind": kind, "code": code, "message": message})

    def inputs(self) -> list[tuple[InputItem, ...]]:
        """The input items of every request, read back from the wire."""
        return [tuple(_input_item(item) for item in body["input"]) for body in self.bodies()]

    def error(self, status: int, message: str) -> dict[str, Any]:
        code = "invalid_api_key" if status == 401 else None
        return openai_error(message, kind=_ERROR_TYPES.get(status, "server_error"), code=code)

    def answered(self, body: dict[str, Any], scripted: Scripted) -> dict[str, Any]:
        number = len(self.requests)
        output = []
        if scripted.text is not None:
            output.append(_message(number, scripted.text))
        output += [
            _function_call(number, index, call) for index, call in enumerate(scripted.tool_calls)
        ]
        written = (scripted.text or "") + "".join(call.arguments for call in scripted.tool_calls)
        return _response(
            body, number, "completed", output, usage=(tokens(json.dumps(body)), tokens(written))
        )

    def streamed(self, body: dict[str, Any], scripted: Scripted) -> Reply:
        number = len(self.requests)
        events = _Events()
        started = _response(body, number, "in_progress", [], usage=None)
        events.add("response.created", {"response": started})
        events.add("response.in_progress", {"response": started})
        breaking = self._breaks.pop(0) if self._breaks else None
        if scripted.text is not None:
            done = _message(number, scripted.text)
            item_id = done["id"]
            events.add(
                "response.output_item.added",
                {"output_index": 0, "item": {**done, "status": "in_progress", "content": []}},
            )
            part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
            events.add(
                "response.content_part.added",
                {"item_id": item_id, "output_index": 0, "content_index": 0, "part": part},
            )
            for piece in pieces(scripted.text):
                events.add(
                    "response.output_text.delta",
                    {
                        "item_id": item_id,
                        "output_index": 0,
                        "content_index": 0,
                        "delta": piece,
                        "logprobs": [],
                    },
                )
                if breaking is not None:
                    return events.reply(_failure(body, number, breaking))
            events.add(
                "response.output_text.done",
                {
                    "item_id": item_id,
                    "output_index": 0,
                    "content_index": 0,
                    "text": scripted.text,
                    "logprobs": [],
                },
            )
            events.add(
                "response.content_part.done",
                {
                    "item_id": item_id,
                    "output_index": 0,
                    "content_index": 0,
                    "part": done["content"][0],
                },
            )
            events.add("response.output_item.done", {"output_index": 0, "item": done})
        first = 1 if scripted.text is not None else 0
        for index, call in enumerate(scripted.tool_calls, start=first):
            done = _function_call(number, index, call)
            events.add(
                "response.output_item.added",
                {"output_index": index, "item": {**done, "arguments": "", "status": "in_progress"}},
            )
            events.add(
                "response.function_call_arguments.delta",
                {"item_id": done["id"], "output_index": index, "delta": call.arguments},
            )
            events.add(
                "response.function_call_arguments.done",
                {
                    "item_id": done["id"],
                    "output_index": index,
                    "name": call.name,
                    "arguments": call.arguments,
                },
            )
            events.add("response.output_item.done", {"output_index": index, "item": done})
        completed = self.answered(body, scripted)
        completed["id"] = started["id"]
        events.add("response.completed", {"response": completed})
        return events.reply()


class _Events:
    """Server-sent events with their ``sequence_number``, as one ``text/event-stream``."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def add(self, name: str, data: dict[str, Any]) -> None:
        self._lines.append(event(name, {"sequence_number": len(self._lines), **data}))

    def reply(self, last: tuple[str, dict[str, Any]] | None = None) -> Reply:
        if last is not None:
            self.add(*last)
        body = "".join(self._lines).encode()
        return Reply(200, body, {"Content-Type": "text/event-stream; charset=utf-8"})


def _failure(
    body: dict[str, Any], number: int, breaking: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    if breaking["kind"] == "error":
        return "error", {"code": breaking["code"], "message": breaking["message"], "param": None}
    failed = _response(body, number, "failed", [], usage=None)
    failed["error"] = {"code": breaking["code"], "message": breaking["message"]}
    return "response.failed", {"response": failed}


def _response(
    body: dict[str, Any],
    number: int,
    status: str,
    output: list[dict[str, Any]],
    *,
    usage: tuple[int, int] | None,
) -> dict[str, Any]:
    return {
        "id": f"resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3{number:04d}",
        "object": "response",
        "created_at": CREATED_AT,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": f"{body['model']}-2025-04-14",
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt": body.get("prompt"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": body.get("tools", []),
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": None
        if usage is None
        else {
            "input_tokens": usage[0],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": usage[1],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage[0] + usage[1],
        },
        "user": None,
        "metadata": {},
    }


def _message(number: int, text: str) -> dict[str, Any]:
    return {
        "id": f"msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3{number:04d}",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}],
    }


def _function_call(number: int, index: int, call: ToolCall) -> dict[str, Any]:
    return {
        "id": f"fc_67ccd3acc8d48190a77525dc6de64b55{number:04d}{index:02d}",
        "type": "function_call",
        "status": "completed",
        "call_id": call.call_id,
        "name": call.name,
        "arguments": call.arguments,
    }


def _input_item(item: dict[str, Any]) -> InputItem:
    if item.get("type") == "function_call":
        return ToolCall(item["call_id"], item["name"], item["arguments"])
    if item.get("type") == "function_call_output":
        return ToolOutput(item["call_id"], item["output"])
    return Said(Role(item["role"]), item["content"])
