"""Local stand-ins for Chatwoot, speaking its application API over real HTTP on loopback.

``FakeChatwoot`` is one account's API as an agent bot sees it: the ``api_access_token``
header, ``POST /api/v1/accounts/{account}/conversations/{display_id}/messages`` answered with
the created message, ``POST .../toggle_status`` answered ``{"meta": {}, "payload": {...}}``,
``GET .../labels`` answered ``{"payload": [...]}`` and ``POST .../labels`` with
``{"labels": [...]}``, which replaces the conversation's labels and answers the new list,
and Active Storage blob URLs (``/rails/active_storage/blobs/redirect/{signed_id}/{name}``)
that redirect to ``FakeStorage``, the bucket Chatwoot keeps files in, which serves them to
anyone holding the URL. Errors come as Chatwoot renders them: ``{"error": ...}`` (401, 404)
or ``{"message": ..., "attributes": [...]}`` for an invalid record (422). Both are
``tests.fakeserver.LocalServer``: they record every request and can be told what to answer next.

Shapes follow Chatwoot's swagger (``conversation/messages/create.yml``,
``conversation/toggle_status.yml``, ``conversation/labels/index.yml`` and ``create.yml``) and
``RequestExceptionHandler``.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import Any

import attrs

from tests.fakeserver import LocalServer, Recorded, Reply

MAX_CONTENT = 150_000  # Message validates content's length
_CONVERSATION = re.compile(
    r"/api/v1/accounts/(?P<account>[^/]+)/conversations/(?P<id>\d+)"
    r"/(?P<action>messages|toggle_status|labels)"
)
_BLOB = "/rails/active_storage/blobs/redirect/"


def chatwoot_error(message: str) -> dict[str, Any]:
    """``render_unauthorized`` / ``render_not_found_error`` / ``render_could_not_create_error``."""
    return {"error": message}


def record_invalid(message: str, *attributes: str) -> dict[str, Any]:
    """``render_record_invalid``: an ActiveRecord validation failure, answered 422."""
    return {"message": message, "attributes": list(attributes)}


class FakeStorage(LocalServer):
    """The bucket behind Active Storage: files by path, to anyone with the URL."""

    def __init__(self, host: str = "127.0.0.2") -> None:
        super().__init__(host)
        self.files: dict[str, tuple[bytes, str | None]] = {}

    def put(self, path: str, content: bytes, content_type: str | None) -> str:
        self.files[path] = (content, content_type)
        return self.base_url + path

    def answer(self, request: Recorded) -> Reply:
        if request.method != "GET" or request.path not in self.files:
            return Reply(404, b"<Error><Code>NoSuchKey</Code></Error>")
        content, content_type = self.files[request.path]
        return Reply(200, content, {"Content-Type": content_type} if content_type else {})


@attrs.define
class FakeConversation:
    display_id: int
    status: str = "pending"
    messages: list[dict[str, Any]] = attrs.field(factory=list)
    labels: list[str] = attrs.field(factory=list)


class FakeChatwoot(LocalServer):
    """One Chatwoot account's application API, as its agent bot uses it."""

    def __init__(
        self,
        account_id: int,
        access_token: str,
        *,
        storage: FakeStorage | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        self.account_id = account_id
        self._token = access_token
        self._storage = storage
        self.conversations: dict[int, FakeConversation] = {}
        self.blobs: dict[str, str] = {}  # blob path on this server -> its URL in storage
        self._ids = itertools.count(9001)

    def start_conversation(self, display_id: int, status: str = "pending") -> FakeConversation:
        conversation = FakeConversation(display_id, status)
        self.conversations[display_id] = conversation
        return conversation

    def conversation_path(self, display_id: int | str, action: str) -> str:
        return f"/api/v1/accounts/{self.account_id}/conversations/{display_id}/{action}"

    def attach(self, content: bytes, content_type: str | None, filename: str) -> str:
        """An attachment's ``data_url``: a blob URL here, the file itself in storage."""
        if self._storage is None:
            raise RuntimeError("FakeChatwoot needs a storage to hold files")
        signed_id = secrets.token_urlsafe(24)
        path = f"{_BLOB}{signed_id}/{filename}"
        self.blobs[path] = self._storage.put(f"/{signed_id}", content, content_type)
        return self.base_url + path

    def answer(self, request: Recorded) -> Reply:
        if request.method == "GET" and request.path in self.blobs:
            # Active Storage answers a blob URL with a short-lived URL of the file itself.
            return Reply(302, b"", {"Location": self.blobs[request.path]})
        route = _CONVERSATION.fullmatch(request.path)
        reading_labels = (
            request.method == "GET" and route is not None and route["action"] == "labels"
        )
        if route is None or (request.method != "POST" and not reading_labels):
            return Reply(404, b"<html><body>The page you were looking for doesn't exist.</body>")
        if request.headers.get("api_access_token") != self._token:
            return Reply(401, chatwoot_error("Invalid Access Token"))
        if route["account"] != str(self.account_id):
            return Reply(401, chatwoot_error("You are not authorized to access this account"))
        conversation = self.conversations.get(int(route["id"]))
        if conversation is None:
            return Reply(404, chatwoot_error("Resource could not be found"))
        if route["action"] == "toggle_status":
            return self._toggle_status(conversation, request.json())
        if route["action"] == "labels":
            if request.method == "POST":
                # ``update_labels``: the list sent becomes the conversation's labels.
                conversation.labels = list(dict.fromkeys(request.json()["labels"]))
            return Reply(200, {"payload": conversation.labels})
        return self._create_message(conversation, request.json())

    def _create_message(self, conversation: FakeConversation, payload: Any) -> Reply:
        content = payload.get("content")
        if isinstance(content, str) and len(content) > MAX_CONTENT:
            return Reply(
                422,
                record_invalid(
                    f"Content is too long (maximum is {MAX_CONTENT} characters)", "content"
                ),
            )
        private = payload.get("private") is True
        message = {
            "id": next(self._ids),
            "content": content,
            "inbox_id": 3,
            "conversation_id": conversation.display_id,
            "message_type": 1 if payload.get("message_type") == "outgoing" else 0,
            "content_type": "text",
            "status": "sent",
            "content_attributes": {},
            "created_at": int(time.time()),
            "private": private,
            "source_id": None,
            "sender": {"id": 1, "name": "Talia", "avatar_url": "", "type": "agent_bot"},
        }
        conversation.messages.append(message)
        return Reply(200, message)

    def _toggle_status(self, conversation: FakeConversation, payload: Any) -> Reply:
        conversation.status = payload["status"]
        return Reply(
            200,
            {
                "meta": {},
                "payload": {
                    "success": True,
                    "current_status": conversation.status,
                    "conversation_id": conversation.display_id,
                },
            },
        )
