"""A local webhook receiver that does what the documentation asks of a real one: it checks
``X-Talia-Signature`` over the raw body it read and the timestamp it was sent with, and
answers 401 to a delivery it cannot trust."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

from talia_core.shared.events import DomainEvent
from tests.fakeserver import LocalServer, Recorded, Reply

SECRET = "a-webhook-secret-of-at-least-32-bytes!"
PATH = "/hooks/talia"


class WebhookReceiver(LocalServer):
    def __init__(self, secret: str = SECRET) -> None:
        super().__init__()
        self.secret = secret.encode()
        self.events: list[DomainEvent] = []

    @property
    def url(self) -> str:
        return f"{self.base_url}{PATH}"

    def answer(self, request: Recorded) -> Reply:
        if request.method != "POST" or request.path != PATH:
            return Reply(404)
        if not self.trusts(request):
            return Reply(401, {"error": "bad signature"})
        document = json.loads(request.body)
        event = DomainEvent(
            name=document["name"],
            occurred_at=datetime.fromisoformat(document["occurred_at"]),
            data=document["data"],
            id=document["id"],
        )
        headers = request.headers
        if (headers.get("x-talia-event"), headers.get("x-talia-event-id")) != (
            event.name,
            event.id,
        ):
            return Reply(400, {"error": "headers do not match the body"})
        self.events.append(event)
        return Reply(204)

    def trusts(self, request: Recorded) -> bool:
        timestamp = request.headers.get("x-talia-timestamp", "")
        signed = timestamp.encode() + b"." + request.body
        expected = "sha256=" + hmac.new(self.secret, signed, hashlib.sha256).hexdigest()
        given = request.headers.get("x-talia-signature", "")
        return (
            timestamp.isdigit()
            and request.headers.get("content-type") == "application/json"
            and hmac.compare_digest(expected, given)
        )
