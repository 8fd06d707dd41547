"""What the language model providers' local servers share: the bearer token they check,
the answers they are told to give, and how a text is cut into the pieces a stream sends."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from typing import Any

import attrs

from talia_core.assistants.language import ToolCall
from tests.fakeserver import LocalServer, Recorded, Reply


@attrs.frozen
class Scripted:
    """What the model answers next: text, calls of tools, or both."""

    text: str | None
    tool_calls: tuple[ToolCall, ...] = ()


def pieces(text: str) -> list[str]:
    """The text as a model streams it: a word (with the spaces after it) at a time."""
    return re.findall(r"\s*\S+\s*", text) or [text]


def tokens(text: str) -> int:
    """A token count as plausible as any: one per four characters, at least one."""
    return max(1, len(text) // 4)


class ScriptedModelServer(LocalServer):
    """Answers ``POST {path}`` with the bearer token: the next scripted answer, as one JSON
    body or as a stream when the request asks for one (``"stream": true``)."""

    path = ""

    def __init__(self, *, token: str) -> None:
        super().__init__()
        self._auth = f"Bearer {token}"
        self._script: deque[Scripted] = deque()

    def will_answer(self, text: str | None = None, tool_calls: Sequence[ToolCall] = ()) -> None:
        self._script.append(Scripted(text, tuple(tool_calls)))

    def next_scripted(self) -> Scripted:
        return self._script.popleft() if self._script else Scripted("Hola.")

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON body of every request, in order."""
        return [request.json() for request in self.requests]

    def answer(self, request: Recorded) -> Reply:
        if request.method != "POST" or request.path != self.path:
            return Reply(404, self.error(404, f"Invalid URL ({request.method} {request.path})"))
        if request.headers.get("authorization") != self._auth:
            return Reply(401, self.error(401, "Incorrect API key provided."))
        body = request.json()
        scripted = self.next_scripted()
        if body.get("stream"):
            return self.streamed(body, scripted)
        return Reply(200, self.answered(body, scripted))

    def error(self, status: int, message: str) -> dict[str, Any]:
        raise NotImplementedError

    def answered(self, body: dict[str, Any], scripted: Scripted) -> dict[str, Any]:
        raise NotImplementedError

    def streamed(self, body: dict[str, Any], scripted: Scripted) -> Reply:
        raise NotImplementedError
