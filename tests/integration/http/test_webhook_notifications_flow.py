"""Events reach the business's webhook, signed, once: through the real app on SQLite,
PostgreSQL and MariaDB, with a local receiver that checks every signature. Jobs are run by
calling the job runner, as a worker would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.kernel import outbox
from talia_core.identity.model import Role
from tests.api import Api, open_api, settings_for_tests
from tests.conftest import Engines
from tests.databases import BACKENDS, empty_tables
from tests.fakeserver import Reply
from tests.integration.http.test_feedback_flow import claim_body
from tests.integration.notifications.receiver import SECRET, WebhookReceiver


@attrs.frozen
class Hooked:
    api: Api
    receiver: WebhookReceiver
    engine: AsyncEngine


@pytest.fixture(params=BACKENDS)
async def hooked(request: pytest.FixtureRequest, engines: Engines) -> AsyncIterator[Hooked]:
    engine = await engines.get(request.param)
    receiver = WebhookReceiver()
    await receiver.start()
    settings = settings_for_tests(
        engine.url.render_as_string(hide_password=False),
        notifications={
            "webhook_url": receiver.url,
            "webhook_secret": SECRET,
            "events": "claim.filed,order.paid",
        },
        resilience={"retry_attempts": 1},
    )
    try:
        async with open_api(settings) as api:
            yield Hooked(api, receiver, engine)
    finally:
        await receiver.close()
        await empty_tables(engine)


async def run_jobs(api: Api) -> None:
    runner = api.container.use_cases.job_runner()
    while await runner.run_due(100):
        pass


async def test_a_filed_claim_reaches_the_webhook_signed_exactly_once(hooked: Hooked) -> None:
    filed = await hooked.api.client.post("/api/claims", json=claim_body())
    assert filed.status_code == 201, filed.text
    claim: dict[str, Any] = filed.json()

    await run_jobs(hooked.api)

    [event] = hooked.receiver.events  # the receiver keeps only deliveries it could verify
    assert (event.name, event.data) == (
        "claim.filed",
        {"claim_id": claim["id"], "number": claim["number"]},
    )
    [request] = hooked.receiver.requests
    assert request.headers["x-talia-event-id"] == event.id

    # The relay runs again, twice, even after its marks were lost: no second delivery.
    async with hooked.engine.begin() as connection:
        await connection.execute(outbox.update().values(relayed_at=None))
    relay = hooked.api.container.use_cases.outbox_relay()
    assert (await relay.relay()).events == 1
    assert (await relay.relay()).events == 0
    await run_jobs(hooked.api)

    assert len(hooked.receiver.requests) == 1


async def test_events_the_webhook_does_not_take_are_relayed_without_a_delivery(
    hooked: Hooked,
) -> None:
    sent = await hooked.api.client.post(
        "/api/contact-messages",
        json={"name": "Luis", "email": "luis@example.com", "body": "Hola"},
    )
    assert sent.status_code == 201, sent.text

    await run_jobs(hooked.api)

    assert hooked.receiver.requests == []
    assert (await hooked.api.container.use_cases.outbox_relay().relay()).events == 0


async def test_a_refused_delivery_is_a_dead_job_an_admin_retries(hooked: Hooked) -> None:
    hooked.receiver.answer_next(Reply(410, {"error": "gone"}))
    await hooked.api.client.post("/api/claims", json=claim_body())

    await run_jobs(hooked.api)

    assert hooked.receiver.events == []
    _, admin = await hooked.api.user(Role.ADMIN)
    dead = (await hooked.api.client.get("/api/admin/jobs?status=dead", headers=admin)).json()
    [job] = dead["items"]
    assert job["kind"] == "notifications.webhook"
    assert "410" in job["last_error"]

    retried = await hooked.api.client.post(f"/api/admin/jobs/{job['id']}/retry", headers=admin)
    assert retried.status_code == 200, retried.text
    await run_jobs(hooked.api)

    [event] = hooked.receiver.events
    assert event.name == "claim.filed"
    assert len(hooked.receiver.requests) == 2


async def test_without_a_webhook_url_no_delivery_is_scheduled() -> None:
    settings = settings_for_tests("sqlite+aiosqlite:///:memory:")
    async with open_api(settings, in_memory=True) as api:
        await api.client.post("/api/claims", json=claim_body())
        await run_jobs(api)

        _, admin = await api.user(Role.ADMIN)
        jobs = (await api.client.get("/api/admin/jobs?limit=200", headers=admin)).json()
        assert {job["kind"] for job in jobs["items"]} == {"outbox.relay"}
        assert {job["status"] for job in jobs["items"]} == {"done"}
        assert (await api.container.use_cases.outbox_relay().relay()).events == 0
