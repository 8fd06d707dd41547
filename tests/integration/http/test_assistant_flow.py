"""Assistants held as data answer WhatsApp through the real app on every database: the
world of ``assistants.py``, its models scripted, its tools reading the real catalog."""

from __future__ import annotations

import json

from talia_core.assistants.language import ToolOutput
from tests.integration.http.assistants import World, tool_call
from tests.shop import plan


async def test_the_model_reads_real_prices_through_the_tool_and_its_answer_is_delivered(
    world: World,
) -> None:
    await plan(world.api, world.admin, 15_000, name="Premium")
    front = await world.assistant("front-desk", channels=["whatsapp"])
    world.model.answer(tool_calls=[tool_call("catalog_prices", {"kind": "plan"})])
    world.model.answer("El plan Premium cuesta S/ 150.00")

    await world.customer_writes("¿cuánto cuesta el premium?", "wamid.price.1")

    tool_answer = world.model.requests[1].input[-1]
    assert isinstance(tool_answer, ToolOutput)
    assert "S/ 150.00" in tool_answer.output
    assert [m.text for m in world.sent.sent] == ["El plan Premium cuesta S/ 150.00"]
    conversation = await world.conversation()
    assert conversation["assistant"] == "front-desk"
    [reply, _] = await world.read(conversation["id"], "messages")
    assert (reply["author_id"], reply["author_version"]) == (front["id"], 1)
    [use] = await world.read(conversation["id"], "tool-uses")
    assert (use["assistant"], use["tool"], json.loads(use["arguments"])) == (
        "front-desk",
        "catalog_prices",
        {"kind": "plan"},
    )
    assert "S/ 150.00" in use["output"]


async def test_a_transfer_makes_the_specialist_the_conversations_assistant(world: World) -> None:
    await world.assistant("ventas", instructions="Vendes.")
    await world.assistant("recepcion", channels=["whatsapp"], handoffs=["ventas"])
    world.model.answer(tool_calls=[tool_call("transfer_to_assistant", {"assistant": "ventas"})])
    world.model.answer("Hola, soy ventas.")
    world.model.answer("Sigo contigo.")

    await world.customer_writes("quiero comprar", "wamid.transfer.1")
    await world.customer_writes("¿y el envío?", "wamid.transfer.2")

    assert [m.text for m in world.sent.sent] == ["Hola, soy ventas.", "Sigo contigo."]
    assert world.model.requests[2].instructions == "Vendes."
    assert (await world.conversation())["assistant"] == "ventas"


async def test_a_hand_off_stops_the_bot_until_an_agent_releases_it(world: World) -> None:
    await world.assistant("front-desk", channels=["whatsapp"])
    world.model.answer(
        "Te paso con el equipo.", [tool_call("handoff_to_human", {"reason": "queja"})]
    )

    await world.customer_writes("quiero reclamar", "wamid.handoff.1")
    await world.customer_writes("¿hola?", "wamid.handoff.2")

    assert [m.text for m in world.sent.sent] == ["Te paso con el equipo."]
    assert len(world.model.requests) == 1
    assert (await world.conversation())["status"] == "human"


async def test_with_the_provider_down_the_offline_fallback_answers(world: World) -> None:
    await world.assistant("front-desk", channels=["whatsapp"], fallback={"to": "offline"})
    world.model.fail_next()
    world.offline.answer("Respondo sin conexión.")

    await world.customer_writes("hola", "wamid.fallback.1")

    assert [m.text for m in world.sent.sent] == ["Respondo sin conexión."]
    assert world.offline.requests[0].model == "rules"
