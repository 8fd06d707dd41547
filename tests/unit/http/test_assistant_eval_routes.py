"""An assistant's eval set and its gate over HTTP, on a scripted model put in through the
container: bad cases are a 422 naming each by its place, and a revision that does worse
than the live version is a 422 naming the failing cases, kept as a rejected version."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from dependency_injector import providers

from adapters.memory.language import FakeLanguageModel
from entrypoints.container import Container
from talia_core.assistants.eval_sets import MAX_EVAL_CASES
from talia_core.identity.model import Role
from tests.api import Api, assert_problem, open_api, settings_for_tests

UNKNOWN_ID = "0190a7a0-0000-7000-8000-00000000dead"
CASES = [
    {"name": "saluda", "messages": ["hola"], "expect": {"contains": ["hola"]}},
    {"name": "precios", "messages": [["precio", "del plan"]], "expect": {"contains": ["S/ 49"]}},
]


@pytest.fixture
def model() -> FakeLanguageModel:
    return FakeLanguageModel()


@pytest.fixture
async def api(model: FakeLanguageModel) -> AsyncIterator[Api]:
    def scripted(container: Container) -> None:
        container.gateways.language_models.override(providers.Object({"openai": model}))

    settings = settings_for_tests("sqlite+aiosqlite:///:memory:")
    async with open_api(settings, in_memory=True, prepare=scripted) as opened:
        yield opened


@pytest.fixture
async def admin(api: Api) -> dict[str, str]:
    _, headers = await api.user(Role.ADMIN)
    return headers


@pytest.fixture
async def path(api: Api, admin: dict[str, str]) -> str:
    """An assistant's path: version 1, answering with the scripted model."""
    definition = {
        "name": "front-desk",
        "provider": "openai",
        "model": "gpt-4.1-mini",
        "instructions": "v1",
        "channels": ["webchat"],
    }
    created = await api.client.post("/api/assistants", json=definition, headers=admin)
    assert created.status_code == 201, created.text
    return f"/api/assistants/{created.json()['id']}"


async def test_an_eval_set_is_put_and_read_back_as_checked_data(
    api: Api, admin: dict[str, str], path: str
) -> None:
    admin_id = (await api.client.get("/api/auth/me", headers=admin)).json()["id"]

    put = await api.client.put(f"{path}/eval-set", json={"cases": CASES}, headers=admin)
    got = await api.client.get(f"{path}/eval-set", headers=admin)

    assert put.status_code == 200, put.text
    assert got.json() == put.json()
    body = got.json()
    assert body["updated_by"] == admin_id
    assert body["cases"] == [
        {
            "name": "saluda",
            "messages": ["hola"],
            "channel": "webchat",
            "expect": CASES[0]["expect"],
        },
        {
            "name": "precios",
            "messages": [["precio", "del plan"]],
            "channel": "webchat",
            "expect": CASES[1]["expect"],
        },
    ]


async def test_a_second_eval_set_replaces_the_first(
    api: Api, admin: dict[str, str], path: str
) -> None:
    await api.client.put(f"{path}/eval-set", json={"cases": CASES}, headers=admin)

    await api.client.put(f"{path}/eval-set", json={"cases": CASES[1:]}, headers=admin)

    got = (await api.client.get(f"{path}/eval-set", headers=admin)).json()
    assert [case["name"] for case in got["cases"]] == ["precios"]


async def test_bad_cases_are_a_422_naming_each_and_nothing_is_stored(
    api: Api, admin: dict[str, str], path: str
) -> None:
    cases = [CASES[0], "hola", {**CASES[1], "expect": {"tools": "catalog_prices"}}, CASES[0]]

    response = await api.client.put(f"{path}/eval-set", json={"cases": cases}, headers=admin)

    problem = assert_problem(response, 422, "cases[1]", "cases[2]", "cases[3]")
    assert {error["field"]: error["message"] for error in problem["errors"]} == {
        "cases[1]": "a case is a JSON object",
        "cases[2]": "expect.tools is a list of tools",
        "cases[3]": "the name 'saluda' is taken by cases[0]",
    }
    assert_problem(await api.client.get(f"{path}/eval-set", headers=admin), 404)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        pytest.param({"cases": []}, 422, "cases", id="no-case"),
        pytest.param({"cases": CASES * (MAX_EVAL_CASES // 2 + 1)}, 400, "cases", id="too-many"),
        pytest.param({"cases": "hola"}, 400, "cases", id="not-a-list"),
        pytest.param({}, 400, "cases", id="no-cases"),
        pytest.param({"cases": CASES, "required": True}, 400, None, id="unknown-field"),
    ],
)
async def test_an_eval_set_that_is_not_a_list_of_cases_is_refused(
    api: Api,
    admin: dict[str, str],
    path: str,
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    response = await api.client.put(f"{path}/eval-set", json=body, headers=admin)

    assert_problem(response, status, field)
    assert_problem(await api.client.get(f"{path}/eval-set", headers=admin), 404)


async def test_the_eval_set_of_an_unknown_assistant_is_not_found(
    api: Api, admin: dict[str, str]
) -> None:
    path = f"/api/assistants/{UNKNOWN_ID}/eval-set"

    assert_problem(await api.client.get(path, headers=admin), 404)
    assert_problem(await api.client.put(path, json={"cases": CASES}, headers=admin), 404)


@pytest.mark.parametrize("role", [Role.AGENT, Role.CUSTOMER])
async def test_only_admins_see_or_change_an_eval_set(api: Api, path: str, role: Role) -> None:
    _, caller = await api.user(role)

    assert_problem(await api.client.get(f"{path}/eval-set", headers=caller), 403)
    put = await api.client.put(f"{path}/eval-set", json={"cases": CASES}, headers=caller)
    assert_problem(put, 403)


async def test_require_eval_is_set_without_a_new_version(
    api: Api, admin: dict[str, str], path: str
) -> None:
    response = await api.client.patch(path, json={"require_eval": True}, headers=admin)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["require_eval"], body["version"], body["newest_version"]) == (True, 1, 1)
    assert_problem(await api.client.patch(path, json={"require_eval": None}, headers=admin), 400)


async def test_a_worse_revision_is_a_422_naming_the_failing_cases_and_is_kept_rejected(
    api: Api, admin: dict[str, str], path: str, model: FakeLanguageModel
) -> None:
    await api.client.put(f"{path}/eval-set", json={"cases": CASES}, headers=admin)
    for text in ("¡Hola!", "Cuesta S/ 49.", "¡Hola!", "No sé."):  # version 1, then 2
        model.answer(text)
    change = {"instructions": "v2", "require_eval": True}

    response = await api.client.patch(path, json=change, headers=admin)

    problem = assert_problem(response, 422, "cases[precios]")
    assert problem["detail"].startswith("version 2 was not made live")
    live = (await api.client.get(path, headers=admin)).json()
    assert (live["version"], live["newest_version"], live["instructions"]) == (1, 2, "v1")
    assert live["require_eval"] is True
    assert live["report"]["pass_rate"] == 1.0
    rejected, first = (await api.client.get(f"{path}/versions", headers=admin)).json()["items"]
    assert rejected["version"] == 2
    assert rejected["instructions"] == "v2"
    assert "below live version 1's" in rejected["rejected"]
    assert (rejected["report"]["passed"], rejected["report"]["failing"]) == (1, ["precios"])
    assert first["rejected"] is None


async def test_a_revision_that_does_as_well_goes_live_with_its_report(
    api: Api, admin: dict[str, str], path: str, model: FakeLanguageModel
) -> None:
    await api.client.put(f"{path}/eval-set", json={"cases": CASES}, headers=admin)
    for text in ("¡Hola!", "No sé.", "¡Hola!", "No sé."):
        model.answer(text)

    response = await api.client.patch(
        path, json={"instructions": "v2", "require_eval": True}, headers=admin
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["version"], body["newest_version"]) == (2, 2)
    assert body["report"]["pass_rate"] == 0.5
    assert body["report"]["failing"] == ["precios"]
