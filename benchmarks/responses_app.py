"""An instant model: OpenAI's Responses API (``POST /v1/responses``) answered at once.

Served by ``benchmarks.assistant_turns`` on loopback, as ``benchmarks.bare_app`` is. A step
whose input holds no tool output yet is answered with a ``function_call`` of
``catalog_prices``; a step that carries the tool's output is answered with a text message.
The answer depends on the request alone, so any number of turns may run at once.
``GET /bodies`` gives back the last request body of each kind, for the bare HTTP baseline
to post the same bytes.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from litestar import Litestar, Request, Response, get, post

ANSWER = "El plan Celebration cuesta S/ 99.00 e incluye tres invitaciones."
ARGUMENTS = json.dumps({"kind": "plan"})

_numbers = itertools.count(1)
_last: dict[str, str] = {}


def _function_call(number: int) -> dict[str, Any]:
    return {
        "id": f"fc_{number:032x}",
        "type": "function_call",
        "status": "completed",
        "call_id": f"call_{number:024x}",
        "name": "catalog_prices",
        "arguments": ARGUMENTS,
    }


def _message(number: int) -> dict[str, Any]:
    text = {"type": "output_text", "annotations": [], "logprobs": [], "text": ANSWER}
    return {
        "id": f"msg_{number:032x}",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [text],
    }


def _response(body: dict[str, Any], number: int, item: dict[str, Any]) -> dict[str, Any]:
    """The response object as OpenAI sends it, with a made-up token count."""
    input_tokens, output_tokens = 180 + 40 * len(body["input"]), 24
    return {
        "id": f"resp_{number:048x}",
        "object": "response",
        "created_at": 1741476542,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": f"{body['model']}-2025-04-14",
        "output": [item],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": body.get("tools", []),
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
        "metadata": {},
    }


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@post("/v1/responses", status_code=200)
async def responses(request: Request) -> Response[bytes]:  # type: ignore[type-arg]
    raw = await request.body()
    body = json.loads(raw)
    number = next(_numbers)
    answering = any(item.get("type") == "function_call_output" for item in body["input"])
    _last["answer" if answering else "call"] = raw.decode()
    item = _message(number) if answering else _function_call(number)
    return Response(
        json.dumps(_response(body, number, item)).encode(), media_type="application/json"
    )


@get("/bodies", sync_to_thread=False)
def bodies() -> dict[str, str]:
    """The last request body of each step: ``call`` (answered with a tool call) and
    ``answer`` (answered with text)."""
    return dict(_last)


app = Litestar([health, responses, bodies], logging_config=None)
