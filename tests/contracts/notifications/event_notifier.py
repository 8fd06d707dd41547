"""The contract every ``EventNotifier`` passes: the fake, and the webhook over HTTP against a
local receiver that checks each delivery's signature over the raw body it read.

How to add a notifier: write a harness (any object with the attributes and methods of
``NotifierHarness``) over your adapter and the receiver it talks to, then subclass
``EventNotifierContract`` in a class whose name ends in ``Tests`` with a ``harness``
fixture. A notifier that calls out over HTTP subclasses ``RemoteEventNotifierContract``
with a ``RemoteNotifierHarness``, and so also runs what the network does to it.
``tests/integration/notifications/test_http_event_notifier.py`` and
``tests/unit/notifications/test_fake_event_notifier.py`` are the two examples.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import httpx
import pytest

from talia_core.notifications.errors import NotificationRefused
from talia_core.notifications.ports import EventNotifier
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.events import DomainEvent
from tests.fakeserver import refusing_port

FILED = DomainEvent(
    "claim.filed",
    datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
    {"claim_id": "0190a000-0000-7000-8000-000000000001", "number": 42},
)
PAID = DomainEvent(
    "order.paid",
    datetime(2026, 3, 2, 18, 0, tzinfo=UTC),
    {
        "order_id": "0190a000-0000-7000-8000-000000000002",
        "customer": "María José Ñúñez 💍",
        "total": {"amount": 15990, "currency": "PEN"},
        "items": [{"kind": "plan", "quantity": 1}],
        "coupon": None,
    },
)


class NotifierHarness(Protocol):
    @property
    def notifier(self) -> EventNotifier:
        """The notifier under test, pointed at the receiver the harness controls."""
        ...

    def refuse_next(self, status: int) -> None:
        """Make the receiver refuse the next delivery for good (HTTP 400, 404, 410 ...)."""
        ...

    def go_down(self, status: int, retry_after: int | None) -> None:
        """Make the receiver answer the next delivery with this status (408, 429, 5xx) and
        ``Retry-After`` in seconds, when given."""
        ...

    def received(self) -> list[DomainEvent]:
        """Every event the receiver accepted, in order, as it read them."""
        ...


class RemoteNotifierHarness(NotifierHarness, Protocol):
    def notifier_with(self, client: httpx.AsyncClient, url: str) -> EventNotifier:
        """A notifier set up like ``notifier``, posting to ``url`` through ``client``."""
        ...

    @property
    def url(self) -> str: ...

    def go_silent(self) -> None:
        """Make the receiver take the next delivery and never answer it."""
        ...


class EventNotifierContract:
    @pytest.mark.parametrize("event", [FILED, PAID], ids=["claim", "order"])
    async def test_an_event_reaches_the_receiver_whole(
        self, harness: NotifierHarness, event: DomainEvent
    ) -> None:
        await harness.notifier.notify(event)

        assert harness.received() == [event]

    async def test_an_event_notified_again_reaches_the_receiver_with_the_same_id(
        self, harness: NotifierHarness
    ) -> None:
        await harness.notifier.notify(FILED)
        await harness.notifier.notify(FILED)

        assert [event.id for event in harness.received()] == [FILED.id, FILED.id]

    @pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
    async def test_a_refusal_is_for_good(self, harness: NotifierHarness, status: int) -> None:
        harness.refuse_next(status)

        with pytest.raises(NotificationRefused):
            await harness.notifier.notify(FILED)

        assert harness.received() == []

    @pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
    async def test_a_receiver_that_is_down_or_busy_says_when_to_come_back(
        self, harness: NotifierHarness, status: int
    ) -> None:
        harness.go_down(status, retry_after=7)

        with pytest.raises(ExternalServiceUnavailable) as unavailable:
            await harness.notifier.notify(FILED)
        await harness.notifier.notify(PAID)

        assert unavailable.value.retry_after_seconds == 7
        assert harness.received() == [PAID]


class RemoteEventNotifierContract(EventNotifierContract):
    async def test_a_receiver_that_never_answers_times_out_as_unavailable(
        self, harness: RemoteNotifierHarness
    ) -> None:
        harness.go_silent()
        async with httpx.AsyncClient(timeout=0.2) as impatient:
            with pytest.raises(ExternalServiceUnavailable, match="timed out"):
                await harness.notifier_with(impatient, harness.url).notify(FILED)

    async def test_a_receiver_that_cannot_be_reached_is_unavailable(
        self, harness: RemoteNotifierHarness
    ) -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            with refusing_port() as port:
                notifier = harness.notifier_with(client, f"http://127.0.0.1:{port}/hooks")

                with pytest.raises(ExternalServiceUnavailable, match="ConnectError"):
                    await notifier.notify(FILED)
