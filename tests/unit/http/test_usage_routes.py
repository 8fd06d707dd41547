"""Usage, cost and price routes over the in-memory fakes: admins only; a model without a
price is flagged, never costed at zero; a refused call names its field and changes
nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from talia_core.assistants.definition import Assistant, Definition
from talia_core.assistants.language import Usage
from talia_core.assistants.ledger import UsageLedger
from talia_core.assistants.usage import ModelCall, Outcome
from talia_core.identity.model import Role
from talia_core.shared.clock import FakeClock
from tests.api import Api, assert_problem, open_api, settings_for_tests

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TODAY = "2026-03-02"
PRICES = {
    "prices": [
        {
            "provider": "openai",
            "model": "gpt-4.1-mini",
            "input_per_million": 40,
            "output_per_million": 160,
        }
    ]
}


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    settings = settings_for_tests("sqlite+aiosqlite:///:memory:")
    async with open_api(settings, in_memory=True, clock=FakeClock(NOW)) as opened:
        yield opened


@pytest.fixture
async def admin(api: Api) -> dict[str, str]:
    _, headers = await api.user(Role.ADMIN)
    return headers


FRONT = Assistant.create(
    name="front-desk",
    definition=Definition(provider="openai", model="gpt-4.1-mini", instructions="Hi."),
    by="admin",
    at=NOW,
)


async def _record(api: Api, model: str, tokens: tuple[int, int], **fields: Any) -> None:
    ledger: UsageLedger = api.container.use_cases.usage()
    await ledger.record(
        ModelCall.made(
            FRONT, provider="openai", model=model, usage=Usage(*tokens), at=NOW, **fields
        )
    )


async def test_an_admin_sets_the_prices_and_reads_them_back(
    api: Api, admin: dict[str, str]
) -> None:
    put = await api.client.put("/api/admin/model-prices", json=PRICES, headers=admin)
    got = await api.client.get("/api/admin/model-prices", headers=admin)

    assert put.status_code == 200, put.text
    assert got.json() == put.json() == {"currency": "USD", **PRICES}


async def test_the_report_prices_each_row_and_flags_a_model_without_a_price(
    api: Api, admin: dict[str, str]
) -> None:
    await api.client.put("/api/admin/model-prices", json=PRICES, headers=admin)
    await _record(api, "gpt-4.1-mini", (1_000_000, 500_000))
    await _record(api, "gpt-5", (10, 10))

    response = await api.client.get(f"/api/admin/usage?from={TODAY}&to={TODAY}", headers=admin)

    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["model"], r["cost"], r["priced"]) for r in body["items"]] == [
        ("gpt-4.1-mini", {"amount": 120, "currency": "USD"}, True),
        ("gpt-5", None, False),
    ]
    assert body["items"][0]["assistant"] == "front-desk"
    assert body["totals"] == {
        "calls": 2,
        "input_tokens": 1_000_010,
        "output_tokens": 500_010,
        "cost": {"amount": 120, "currency": "USD"},
        "priced": False,
        "unpriced_calls": 1,
    }
    assert (body["first"], body["last"], body["total"]) == (TODAY, TODAY, 2)


async def test_admins_see_why_a_call_fell_back(api: Api, admin: dict[str, str]) -> None:
    reason = "daily budget of $0.50 spent ($0.51 today)"
    await _record(api, "gpt-4.1-mini", (0, 0), outcome=Outcome.FELL_BACK, reason=reason)
    await _record(api, "gpt-4.1-mini", (5, 5))

    response = await api.client.get(
        f"/api/admin/usage/calls?from={TODAY}&to={TODAY}&outcome=fell_back&assistant=front-desk",
        headers=admin,
    )

    assert response.status_code == 200, response.text
    assert [(c["outcome"], c["reason"]) for c in response.json()["items"]] == [
        ("fell_back", reason)
    ]


async def test_an_assistant_keeps_its_daily_budget_in_its_definition(
    api: Api, admin: dict[str, str]
) -> None:
    definition = {"name": "front-desk", "provider": "openai", "model": "gpt-4.1-mini"}
    budget = {"amount": 500, "currency": "USD"}
    created = await api.client.post(
        "/api/assistants",
        json={**definition, "instructions": "Hi.", "daily_budget": budget},
        headers=admin,
    )
    path = f"/api/assistants/{created.json()['id']}"
    cleared = await api.client.patch(path, json={"daily_budget": None}, headers=admin)
    refused = await api.client.patch(
        path, json={"daily_budget": {"amount": 500, "currency": "PEN"}}, headers=admin
    )

    assert created.json()["daily_budget"] == budget
    assert cleared.json()["daily_budget"] is None
    assert cleared.json()["version"] == 2
    assert_problem(refused, 422, "daily_budget.currency")


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        pytest.param(f"from=2026-13-01&to={TODAY}", 400, "from", id="no-such-month"),
        pytest.param(f"from={TODAY}&to=yesterday", 400, "to", id="not-a-date"),
        pytest.param(f"from={TODAY}&to=2026-03-01", 422, "to", id="backwards"),
        pytest.param(f"from=2025-01-01&to={TODAY}", 422, "to", id="over-a-year"),
        pytest.param(f"from={TODAY}&to={TODAY}&limit=0", 400, "limit", id="empty-page"),
    ],
)
async def test_a_bad_period_is_refused_naming_the_field(
    api: Api, admin: dict[str, str], query: str, status: int, field: str
) -> None:
    for path in ("/api/admin/usage", "/api/admin/usage/calls"):
        assert_problem(await api.client.get(f"{path}?{query}", headers=admin), status, field)


async def test_a_period_without_its_first_day_is_refused_naming_it(
    api: Api, admin: dict[str, str]
) -> None:
    response = await api.client.get(f"/api/admin/usage?to={TODAY}", headers=admin)

    assert "'from'" in assert_problem(response, 400)["detail"]


@pytest.mark.parametrize(
    ("price", "status", "field"),
    [
        pytest.param({"input_per_million": -1}, 400, "prices.0.input_per_million", id="negative"),
        pytest.param({"output_per_million": "5"}, 400, "prices.0.output_per_million", id="text"),
        pytest.param({"input_per_million": 0.5}, 400, "prices.0.input_per_million", id="float"),
        pytest.param({"provider": "acme"}, 422, "provider", id="unknown-provider"),
        pytest.param({"colour": "blue"}, 400, None, id="unknown-field"),
    ],
)
async def test_a_bad_price_is_refused_naming_the_field_and_the_table_stays(
    api: Api, admin: dict[str, str], price: dict[str, Any], status: int, field: str | None
) -> None:
    await api.client.put("/api/admin/model-prices", json=PRICES, headers=admin)
    bad = {"prices": [{**PRICES["prices"][0], "model": "gpt-4.1", **price}]}

    response = await api.client.put("/api/admin/model-prices", json=bad, headers=admin)

    assert_problem(response, status, field)
    table = await api.client.get("/api/admin/model-prices", headers=admin)
    assert table.json()["prices"] == PRICES["prices"]


async def test_a_model_priced_twice_is_refused(api: Api, admin: dict[str, str]) -> None:
    twice = {"prices": PRICES["prices"] * 2}

    response = await api.client.put("/api/admin/model-prices", json=twice, headers=admin)

    assert_problem(response, 422, "prices")


@pytest.mark.parametrize("role", [Role.AGENT, Role.CUSTOMER])
async def test_only_admins_see_usage_and_prices(api: Api, role: Role) -> None:
    _, caller = await api.user(role)
    period = f"from={TODAY}&to={TODAY}"

    for response in (
        await api.client.get(f"/api/admin/usage?{period}", headers=caller),
        await api.client.get(f"/api/admin/usage/calls?{period}", headers=caller),
        await api.client.get("/api/admin/model-prices", headers=caller),
        await api.client.put("/api/admin/model-prices", json=PRICES, headers=caller),
    ):
        assert_problem(response, 403)
    assert_problem(await api.client.get(f"/api/admin/usage?{period}"), 401)


async def test_the_usage_routes_are_documented(api: Api) -> None:
    schema = (await api.client.get("/schema/openapi.json")).json()

    usage = schema["paths"]["/api/admin/usage"]["get"]
    assert {p["name"] for p in usage["parameters"]} >= {"from", "to", "assistant"}
    assert {"200", "400", "422"} <= set(usage["responses"])
    assert set(schema["paths"]["/api/admin/model-prices"]) == {"get", "put"}
