"""The fake notifier passes the notifier contract; other tests lean on it.

It calls no receiver, so of the contract's failures it runs those it can be told of, not
what the network does to a remote notifier (``RemoteEventNotifierContract``)."""

from __future__ import annotations

import attrs
import pytest

from adapters.memory.notifications import FakeEventNotifier
from talia_core.notifications.errors import NotificationRefused
from talia_core.notifications.ports import EventNotifier
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.events import DomainEvent
from tests.contracts.notifications.event_notifier import (
    FILED,
    PAID,
    EventNotifierContract,
    NotifierHarness,
)


@attrs.frozen
class FakeHarness:
    fake: FakeEventNotifier

    @property
    def notifier(self) -> EventNotifier:
        return self.fake

    def refuse_next(self, status: int) -> None:
        self.fake.refuse_next()

    def go_down(self, status: int, retry_after: int | None) -> None:
        self.fake.fail_next(retry_after=retry_after)

    def received(self) -> list[DomainEvent]:
        return list(self.fake.delivered)


class FakeEventNotifierTests(EventNotifierContract):
    @pytest.fixture
    def harness(self) -> NotifierHarness:
        return FakeHarness(FakeEventNotifier())


async def test_an_outage_comes_before_a_queued_refusal_and_each_lasts_its_count() -> None:
    fake = FakeEventNotifier()
    fake.refuse_next()
    fake.fail_next(2)

    for _ in range(2):
        with pytest.raises(ExternalServiceUnavailable) as unavailable:
            await fake.notify(FILED)
        assert unavailable.value.retry_after_seconds is None
    with pytest.raises(NotificationRefused):
        await fake.notify(FILED)
    await fake.notify(PAID)

    assert fake.delivered == [PAID]
