"""The webhook notifier against a local receiver that verifies each signature: the notifier
contract, and the signing scheme as docs/events.md describes it."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator

import attrs
import httpx
import pytest

from adapters.webhooks.notifier import HttpEventNotifier
from talia_core.notifications.errors import NotificationRefused
from talia_core.notifications.ports import EventNotifier
from talia_core.shared.clock import FakeClock
from talia_core.shared.events import DomainEvent
from tests.contracts.notifications.event_notifier import (
    FILED,
    PAID,
    RemoteEventNotifierContract,
    RemoteNotifierHarness,
)
from tests.fakeserver import Reply
from tests.integration.notifications.receiver import SECRET, WebhookReceiver

CLOCK = FakeClock()


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver()
    await server.start()
    yield server
    await server.close()


@attrs.frozen
class HttpHarness:
    server: WebhookReceiver
    client: httpx.AsyncClient

    @property
    def notifier(self) -> EventNotifier:
        return self.notifier_with(self.client, self.url)

    @property
    def url(self) -> str:
        return self.server.url

    def notifier_with(self, client: httpx.AsyncClient, url: str) -> EventNotifier:
        return HttpEventNotifier(client, url=url, secret=SECRET, clock=CLOCK)

    def refuse_next(self, status: int) -> None:
        self.server.answer_next(Reply(status, {"error": "no"}))

    def go_down(self, status: int, retry_after: int | None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.server.answer_next(Reply(status, b"busy", headers))

    def go_silent(self) -> None:
        self.server.answer_next(Reply(stall=True))

    def received(self) -> list[DomainEvent]:
        return list(self.server.events)


class HttpEventNotifierTests(RemoteEventNotifierContract):
    @pytest.fixture
    def harness(
        self, receiver: WebhookReceiver, client: httpx.AsyncClient
    ) -> RemoteNotifierHarness:
        return HttpHarness(receiver, client)


async def test_a_delivery_is_signed_over_its_timestamp_and_raw_body(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    await HttpEventNotifier(client, url=receiver.url, secret=SECRET, clock=CLOCK).notify(PAID)

    [request] = receiver.requests
    timestamp = request.headers["x-talia-timestamp"]
    digest = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256)
    assert request.headers["x-talia-signature"] == f"sha256={digest.hexdigest()}"
    assert int(timestamp) == int(CLOCK.now().timestamp())
    assert (request.headers["x-talia-event"], request.headers["x-talia-event-id"]) == (
        "order.paid",
        PAID.id,
    )
    assert json.loads(request.body) == {
        "id": PAID.id,
        "name": "order.paid",
        "occurred_at": "2026-03-02T18:00:00Z",
        "data": PAID.data,
    }


async def test_a_delivery_signed_with_another_secret_is_refused_by_the_receiver(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    wrong = HttpEventNotifier(client, url=receiver.url, secret="x" * 40, clock=CLOCK)

    with pytest.raises(NotificationRefused, match="401"):
        await wrong.notify(FILED)

    assert receiver.events == []


async def test_a_redirect_is_not_followed_and_is_a_refusal(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    receiver.answer_next(Reply(301, b"", {"Location": "http://127.0.0.1:9/elsewhere"}))

    with pytest.raises(NotificationRefused, match="301"):
        await HttpEventNotifier(client, url=receiver.url, secret=SECRET, clock=CLOCK).notify(FILED)

    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    ("url", "secret", "said"),
    [("ftp://example.com/hook", SECRET, "https://"), ("https://example.com/hook", "", "secret")],
)
def test_a_notifier_without_an_http_url_or_a_secret_is_not_built(
    url: str, secret: str, said: str
) -> None:
    with pytest.raises(ValueError, match=said):
        HttpEventNotifier(httpx.AsyncClient(), url=url, secret=secret, clock=CLOCK)
