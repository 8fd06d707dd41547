"""The chat route: a stateless turn of a named assistant over the history the frontend
sends, with a scripted model; tools that act are rehearsed, not performed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrypoints.http.ai import history
from entrypoints.settings.ai import AiSettings
from talia_core.assistants.language import Role as Speaking
from talia_core.assistants.language import ToolCall
from talia_core.identity.model import Role
from talia_core.shared.errors import RuleViolated
from tests.api import Api, assert_problem
from tests.unit.http.ai.fakes import BACK_OFFICE, FRONT_DESK, Engines

CHAT = "/api/ai/chat"


async def test_a_chat_turn_answers_the_history_sent(
    api: Api, engines: Engines, customer: dict[str, str]
) -> None:
    engines.model.answer("¡Claro! ¿Qué día te acomoda?")
    messages = [
        {"role": "user", "text": "hola"},
        {"role": "assistant", "text": "Hola, ¿en qué te ayudo?"},
        {"role": "user", "text": "quiero una cita"},
    ]
    response = await api.client.post(CHAT, json={"messages": messages}, headers=customer)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "messages": ["¡Claro! ¿Qué día te acomoda?"],
        "assistant": FRONT_DESK,
        "version": 1,
        "hand_off": False,
        "tool_calls": [],
    }
    (request,) = engines.model.requests
    assert [(said.role, said.text) for said in request.input] == [
        (Speaking.USER, "hola"),
        (Speaking.ASSISTANT, "Hola, ¿en qué te ayudo?"),
        (Speaking.USER, "quiero una cita"),
    ]
    assert request.instructions == "Hola Ana"


async def test_a_tool_that_acts_is_not_performed_in_a_chat(
    api: Api, engines: Engines, customer: dict[str, str]
) -> None:
    engines.model.answer(
        tool_calls=[ToolCall("c1", "update_lead", '{"facts": {"guest_count": 120}}')]
    )
    engines.model.answer("Anotado: 120 invitados.")
    _, admin = await api.user(Role.ADMIN)

    response = await api.client.post(
        CHAT, json={"messages": [{"role": "user", "text": "seremos 120"}]}, headers=customer
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["messages"] == ["Anotado: 120 invitados."]
    (call,) = body["tool_calls"]
    assert (call["name"], json.loads(call["arguments"])) == (
        "update_lead",
        {"facts": {"guest_count": 120}},
    )
    assert json.loads(call["output"])["performed"] is False
    leads = await api.client.get("/api/leads", headers=admin)
    assert leads.json()["total"] == 0


async def test_a_hand_off_in_a_chat_is_said_in_the_answer(
    api: Api, engines: Engines, customer: dict[str, str]
) -> None:
    engines.model.answer(tool_calls=[ToolCall("c1", "handoff_to_human", "{}")])

    response = await api.client.post(
        CHAT, json={"messages": [{"role": "user", "text": "una persona"}]}, headers=customer
    )

    assert response.status_code == 200, response.text
    assert response.json()["hand_off"] is True


async def test_staff_chat_with_any_assistant_customers_only_with_the_web_chats(
    api: Api, engines: Engines, customer: dict[str, str]
) -> None:
    _, agent = await api.user(Role.AGENT)
    body = {"assistant": BACK_OFFICE, "messages": [{"role": "user", "text": "hola"}]}

    refused = await api.client.post(CHAT, json=body, headers=customer)
    answered = await api.client.post(CHAT, json=body, headers=agent)

    assert_problem(refused, 404)
    assert answered.status_code == 200, answered.text
    assert answered.json()["assistant"] == BACK_OFFICE
    assert len(engines.model.requests) == 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"messages": [{"role": "assistant", "text": "hola"}]}, 422, "messages"),
        ({"messages": [{"role": "user", "text": "  "}]}, 422, "text"),
        ({"messages": [{"role": "user", "text": "x" * 4001}]}, 422, "text"),
        ({"messages": [{"role": "user", "text": "hola"}] * 51}, 422, "messages"),
        ({"messages": []}, 400, None),
        ({"messages": [{"role": "system", "text": "hola"}]}, 400, None),
        ({"assistant": "nobody", "messages": [{"role": "user", "text": "hola"}]}, 404, None),
    ],
    ids=["ends with the assistant", "blank", "too long", "too many", "none", "bad role", "unknown"],
)
async def test_a_bad_chat_is_refused_and_no_model_is_called(
    api: Api,
    engines: Engines,
    customer: dict[str, str],
    body: dict[str, object],
    status: int,
    field: str | None,
) -> None:
    response = await api.client.post(CHAT, json=body, headers=customer)

    assert_problem(response, status, field)
    assert engines.model.requests == []


@given(
    st.lists(st.tuples(st.sampled_from(["user", "assistant"]), st.text(max_size=60)), max_size=60)
)
def test_a_history_is_kept_whole_or_refused(messages: list[tuple[str, str]]) -> None:
    settings = AiSettings(max_chat_messages=50, max_message_characters=50)
    try:
        kept = history(messages, settings)
    except RuleViolated:
        assert len(messages) > 50 or any(not t.strip() or len(t) > 50 for _, t in messages)
    else:
        assert [(said.role.value, said.text) for said in kept] == messages
