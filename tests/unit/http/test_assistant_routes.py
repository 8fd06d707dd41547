"""Assistant definition routes over the in-memory fakes: admins only, every change a version.

Every refused call answers a 4xx ``application/problem+json`` naming the field, and leaves
the definitions as they were: the tests compare what the admin's routes list.
"""

from __future__ import annotations

from typing import Any

import pytest

from entrypoints.bootstrap import Talia
from entrypoints.seed import seed_demo_data
from talia_core.assistants.definition import MAX_INSTRUCTIONS_LENGTH
from talia_core.identity.model import Role
from tests.api import Api, assert_problem

UNKNOWN_ID = "0190a7a0-0000-7000-8000-00000000dead"


def definition(name: str = "front-desk", **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "provider": "openai",
        "model": "gpt-4.1-mini",
        "instructions": "You answer for {business_name}, open {hours}.",
        "variables": {"business_name": "Olivo", "hours": "9 to 19"},
        **fields,
    }


async def create(api: Api, admin: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await api.client.post("/api/assistants", json=definition(**fields), headers=admin)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def listed(api: Api, admin: dict[str, str]) -> list[dict[str, Any]]:
    response = await api.client.get("/api/assistants?limit=200", headers=admin)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.fixture
async def admin(api: Api) -> dict[str, str]:
    _, headers = await api.user(Role.ADMIN)
    return headers


async def test_an_admin_creates_version_1_with_the_defaults_filled_in(
    api: Api, admin: dict[str, str]
) -> None:
    admin_id = (await api.client.get("/api/auth/me", headers=admin)).json()["id"]

    created = await create(api, admin, tools=["catalog_prices"], channels=["webchat"])

    assert created["name"] == "front-desk"
    assert created["version"] == 1
    assert created["updated_by"] == admin_id
    assert created["tools"] == ["catalog_prices"]
    assert created["channels"] == ["webchat"]
    assert created["max_tool_steps"] == 4
    assert created["temperature"] is None
    assert created["fallback"] == {"to": "human", "provider": None, "model": None}
    assert created["enabled"] is True
    fetched = await api.client.get(f"/api/assistants/{created['id']}", headers=admin)
    assert fetched.json() == created


async def test_an_openai_assistant_may_use_a_stored_prompt_instead_of_instructions(
    api: Api, admin: dict[str, str]
) -> None:
    prompt = {"id": "pmpt_abc", "version": "3", "variables": {"tone": "warm"}}

    created = await create(api, admin, instructions=None, prompt=prompt)

    assert created["prompt"] == prompt
    assert created["instructions"] is None


@pytest.mark.parametrize("role", [Role.AGENT, Role.CUSTOMER])
async def test_only_admins_see_or_change_assistants(api: Api, role: Role) -> None:
    _, caller = await api.user(role)

    for response in (
        await api.client.get("/api/assistants", headers=caller),
        await api.client.post("/api/assistants", json=definition(), headers=caller),
        await api.client.get(f"/api/assistants/{UNKNOWN_ID}", headers=caller),
        await api.client.patch(f"/api/assistants/{UNKNOWN_ID}", json={}, headers=caller),
        await api.client.get(f"/api/assistants/{UNKNOWN_ID}/versions", headers=caller),
    ):
        assert_problem(response, 403)
    assert_problem(await api.client.get("/api/assistants"), 401)


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        pytest.param({"provider": "anthropic"}, 422, "provider", id="unknown-provider"),
        pytest.param({"model": "gpt-0"}, 422, "model", id="unknown-model"),
        pytest.param({"tools": ["send_money"]}, 422, "tools", id="unknown-tool"),
        pytest.param({"handoffs": ["nobody"]}, 422, "handoffs", id="unknown-target"),
        pytest.param({"handoffs": ["front-desk"]}, 422, "handoffs", id="itself"),
        pytest.param({"name": "Front Desk"}, 422, "name", id="name-not-a-slug"),
        pytest.param({"instructions": None}, 422, "instructions", id="no-instructions"),
        pytest.param(
            {"provider": "offline", "model": "rules", "prompt": {"id": "pmpt_1"}},
            422,
            "prompt",
            id="prompt-off-openai",
        ),
        pytest.param(
            {"fallback": {"to": "model", "provider": "acme", "model": "x"}},
            422,
            "fallback.provider",
            id="unknown-fallback-provider",
        ),
        pytest.param(
            {"fallback": {"to": "model", "provider": "huggingface", "model": "gpt-4.1"}},
            422,
            "fallback.model",
            id="unknown-fallback-model",
        ),
        pytest.param({"fallback": {"to": "model"}}, 422, "fallback", id="fallback-without-model"),
        pytest.param({"variables": {"not a name": "x"}}, 422, "variables", id="variable-name"),
        pytest.param({"temperature": 2.5}, 400, "temperature", id="too-hot"),
        pytest.param({"temperature": True}, 400, "temperature", id="boolean-temperature"),
        pytest.param({"max_tool_steps": 0}, 400, "max_tool_steps", id="no-steps"),
        pytest.param({"max_output_tokens": "5"}, 400, "max_output_tokens", id="text-number"),
        pytest.param({"tools": None}, 400, "tools", id="null-list"),
        pytest.param({"channels": ["fax"]}, 400, "channels.0", id="unknown-channel"),
        pytest.param(
            {"instructions": "x" * (MAX_INSTRUCTIONS_LENGTH + 1)},
            400,
            "instructions",
            id="instructions-too-long",
        ),
        pytest.param({"colour": "blue"}, 400, None, id="unknown-field"),
    ],
)
async def test_a_bad_definition_is_refused_naming_the_field_and_nothing_is_stored(
    api: Api, admin: dict[str, str], fields: dict[str, Any], status: int, field: str | None
) -> None:
    response = await api.client.post("/api/assistants", json=definition(**fields), headers=admin)

    assert_problem(response, status, field)
    assert await listed(api, admin) == []


async def test_a_taken_name_is_a_conflict(api: Api, admin: dict[str, str]) -> None:
    first = await create(api, admin)

    response = await api.client.post("/api/assistants", json=definition(), headers=admin)

    assert_problem(response, 409)
    assert await listed(api, admin) == [first]


async def test_a_channel_has_one_enabled_entry_assistant(api: Api, admin: dict[str, str]) -> None:
    front = await create(api, admin, channels=["webchat", "whatsapp"])

    taken = await api.client.post(
        "/api/assistants", json=definition("sales", channels=["whatsapp"]), headers=admin
    )
    disabled = await create(api, admin, name="night-desk", channels=["webchat"], enabled=False)

    assert_problem(taken, 409)
    assert "whatsapp" in taken.json()["detail"]
    assert disabled["enabled"] is False
    assert [a["name"] for a in await listed(api, admin)] == ["night-desk", front["name"]]


async def test_a_revision_is_a_new_version_keeping_the_fields_not_sent(
    api: Api, admin: dict[str, str]
) -> None:
    created = await create(api, admin, temperature=0.5, tools=["handoff_to_human"])
    path = f"/api/assistants/{created['id']}"

    revised = await api.client.patch(
        path, json={"model": "gpt-4.1", "temperature": None}, headers=admin
    )
    versions = await api.client.get(f"{path}/versions", headers=admin)

    assert revised.status_code == 200, revised.text
    body = revised.json()
    assert body["version"] == 2
    assert body["model"] == "gpt-4.1"
    assert body["temperature"] is None
    assert body["tools"] == ["handoff_to_human"]
    assert body["instructions"] == created["instructions"]
    history = versions.json()
    assert [v["version"] for v in history["items"]] == [2, 1]
    assert history["items"][1]["model"] == "gpt-4.1-mini"
    assert history["items"][1]["temperature"] == 0.5
    assert (await api.client.get(path, headers=admin)).json() == body


async def test_a_revision_that_changes_nothing_makes_no_version(
    api: Api, admin: dict[str, str]
) -> None:
    created = await create(api, admin)

    same = await api.client.patch(
        f"/api/assistants/{created['id']}", json={"model": created["model"]}, headers=admin
    )

    assert same.json() == created


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        pytest.param({"tools": ["send_money"]}, 422, "tools", id="unknown-tool"),
        pytest.param({"model": "gpt-0"}, 422, "model", id="unknown-model"),
        pytest.param({"provider": "offline"}, 422, "model", id="model-of-another-provider"),
        pytest.param({"handoffs": ["nobody"]}, 422, "handoffs", id="unknown-target"),
        pytest.param({"name": "renamed"}, 400, None, id="name-is-fixed"),
        pytest.param({"enabled": None}, 400, "enabled", id="null"),
    ],
)
async def test_a_bad_revision_is_refused_and_keeps_the_current_version(
    api: Api, admin: dict[str, str], change: dict[str, Any], status: int, field: str | None
) -> None:
    created = await create(api, admin)
    path = f"/api/assistants/{created['id']}"

    response = await api.client.patch(path, json=change, headers=admin)

    assert_problem(response, status, field)
    assert (await api.client.get(path, headers=admin)).json() == created
    assert (await api.client.get(f"{path}/versions", headers=admin)).json()["total"] == 1


async def test_hand_off_targets_are_assistants_that_exist(api: Api, admin: dict[str, str]) -> None:
    await create(api, admin, name="sales")

    front = await create(api, admin, handoffs=["sales"], tools=["transfer_to_assistant"])

    assert front["handoffs"] == ["sales"]


async def test_an_unknown_assistant_is_not_found(api: Api, admin: dict[str, str]) -> None:
    path = f"/api/assistants/{UNKNOWN_ID}"

    assert_problem(await api.client.get(path, headers=admin), 404)
    assert_problem(await api.client.patch(path, json={"enabled": False}, headers=admin), 404)
    assert_problem(await api.client.get(f"{path}/versions", headers=admin), 404)


async def test_assistants_are_listed_in_pages_newest_first(api: Api, admin: dict[str, str]) -> None:
    for name in ("alpha", "bravo", "charlie"):
        await create(api, admin, name=name)

    page = (await api.client.get("/api/assistants?limit=2&offset=1", headers=admin)).json()

    assert [a["name"] for a in page["items"]] == ["bravo", "alpha"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)


async def test_the_demo_seeds_its_assistants_as_rows(api: Api, admin: dict[str, str]) -> None:
    assert await seed_demo_data(Talia.of(api.container))

    seeded = {a["name"]: a for a in await listed(api, admin)}

    front = seeded["recepcion"]
    assert front["provider"] == "offline"
    assert front["channels"] == ["webchat", "whatsapp"]
    assert front["handoffs"] == ["ventas"]
    assert front["instructions"]
    assert seeded["ventas"]["channels"] == []
