"""The business's documents answer WhatsApp customers through the real app on every
database: an admin uploads a guide, a worker's jobs index it, and an assistant whose
definition searches its collection finds the passage with ``search_knowledge`` (its model
scripted, the tool and the search real) and answers citing it. Another collection's
passages never reach it, however well they match.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from talia_core.assistants.language import ToolOutput
from tests.integration.http.assistants import World, tool_call

GUIDE = (
    "# Guía de la tienda\n\n"
    "## Envíos\n\n"
    "Las invitaciones impresas llegan a Lima en tres días hábiles y a provincias en cinco.\n\n"
    "## Cambios\n\n"
    "Cambiamos una invitación dañada sin costo dentro de los siete días de recibida.\n"
).encode()
PRIVATE = (
    "# Envíos\n\n"
    "El courier lleva las invitaciones impresas a Lima en dos días; tarifa interna S/ 9.\n"
).encode()
FASTER = (
    "# Guía de la tienda\n\n"
    "## Envíos\n\n"
    "Desde marzo las invitaciones impresas llegan a Lima en veinticuatro horas.\n"
).encode()
QUESTION = "¿En cuántos días llegan las invitaciones impresas a Lima?"
QUERY = "días de envío por courier de invitaciones impresas a Lima"
PASSAGE = "Las invitaciones impresas llegan a Lima en tres días hábiles y a provincias en cinco."
SOURCE = "Guía de la tienda > Envíos"


async def upload(world: World, content: bytes, collection: str, title: str) -> dict[str, Any]:
    response = await world.api.client.post(
        "/api/documents",
        files={"file": (f"{collection}.md", content, "text/markdown")},
        data={"collection": collection, "title": title},
        headers=world.admin,
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "queued"
    document: dict[str, Any] = response.json()
    return document


async def ready(world: World, document: dict[str, Any]) -> dict[str, Any]:
    response = await world.api.client.get(f"/api/documents/{document['id']}", headers=world.admin)
    assert response.status_code == 200, response.text
    fetched: dict[str, Any] = response.json()
    assert fetched["status"] == "ready", fetched
    assert fetched["chunk_count"] >= 1
    return fetched


async def search(world: World, query: str) -> list[dict[str, Any]]:
    response = await world.api.client.post(
        "/api/documents/search",
        json={"query": query, "collections": ["guia"], "limit": 10},
        headers=world.agent,
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def stored(tmp_path: Path) -> list[Path]:
    """The files the app's store holds (``open_world`` keeps them under ``media``), without
    the hidden sidecars that keep their types."""
    files = (tmp_path / "media").rglob("*")
    return [path for path in files if path.is_file() and not path.name.startswith(".")]


async def guide_assistant(world: World) -> None:
    await world.assistant(
        "guia-bot",
        channels=["whatsapp"],
        instructions="Respondes con la guía de la tienda y citas la fuente.",
        tools=["search_knowledge"],
        knowledge=["guia"],
    )


async def test_an_uploaded_guide_answers_a_whatsapp_question_naming_its_source(
    world: World,
) -> None:
    guide = await upload(world, GUIDE, "guia", "Guía de la tienda")
    await world.run_jobs()
    await ready(world, guide)
    await guide_assistant(world)
    world.model.answer(tool_calls=[tool_call("search_knowledge", {"query": QUERY})])
    world.model.answer(f"Según nuestra guía ({SOURCE}): {PASSAGE}")

    await world.customer_writes(QUESTION, "wamid.knowledge.1")

    assert world.model.requests[0].tools[0].name == "search_knowledge"
    tool_answer = world.model.requests[1].input[-1]
    assert isinstance(tool_answer, ToolOutput)
    given = json.loads(tool_answer.output)
    assert given["source"] == SOURCE
    assert PASSAGE in given["text"]
    conversation = await world.conversation()
    [use] = await world.read(conversation["id"], "tool-uses")
    assert (use["assistant"], use["tool"], json.loads(use["arguments"])) == (
        "guia-bot",
        "search_knowledge",
        {"query": QUERY},
    )
    stored = json.loads(use["output"])
    assert stored == given
    assert {p["document"] for p in stored["passages"]} == {"Guía de la tienda"}
    [answer] = [m.text for m in world.sent.sent]
    assert PASSAGE in answer
    assert SOURCE in answer


async def test_an_assistant_never_sees_another_collections_passages(world: World) -> None:
    guide = await upload(world, GUIDE, "guia", "Guía de la tienda")
    private = await upload(world, PRIVATE, "privado", "Notas internas")
    await world.run_jobs()
    await ready(world, guide)
    await ready(world, private)
    everywhere = await world.api.client.post(
        "/api/documents/search", json={"query": QUERY, "limit": 10}, headers=world.agent
    )
    assert everywhere.status_code == 200, everywhere.text
    found = [passage["document_id"] for passage in everywhere.json()]
    assert private["id"] in found  # it matches: searched everywhere, it would be offered
    await guide_assistant(world)
    world.model.answer(tool_calls=[tool_call("search_knowledge", {"query": QUERY})])
    world.model.answer(f"Según nuestra guía ({SOURCE}): {PASSAGE}")

    await world.customer_writes(QUESTION, "wamid.knowledge.2")

    conversation = await world.conversation()
    [use] = await world.read(conversation["id"], "tool-uses")
    stored = json.loads(use["output"])
    assert stored["passages"]
    assert {p["document"] for p in stored["passages"]} == {"Guía de la tienda"}
    assert "Notas internas" not in use["output"]
    assert "courier" not in use["output"]


async def test_a_replaced_then_deleted_guide_answers_with_its_new_text_then_not_at_all(
    world: World, tmp_path: Path
) -> None:
    guide = await upload(world, GUIDE, "guia", "Guía de la tienda")
    again = await world.api.client.post(
        "/api/documents",
        files={"file": ("copia.md", GUIDE, "text/markdown")},
        data={"collection": "guia"},
        headers=world.admin,
    )
    assert (again.status_code, again.json()["id"]) == (200, guide["id"])
    await world.run_jobs()

    replaced = await world.api.client.put(
        f"/api/documents/{guide['id']}",
        files={"file": ("guia.md", FASTER, "text/markdown")},
        headers=world.admin,
    )
    assert replaced.status_code == 200, replaced.text
    await world.run_jobs()
    assert (await ready(world, guide))["revision"] == 2
    texts = [p["text"] for p in await search(world, QUERY)]
    assert any("veinticuatro horas" in text for text in texts)
    assert not any("tres días hábiles" in text for text in texts)
    assert len(stored(tmp_path)) == 1  # the earlier revision's file is gone

    deleted = await world.api.client.delete(f"/api/documents/{guide['id']}", headers=world.admin)

    assert deleted.status_code == 204, deleted.text
    assert await search(world, QUERY) == []
    assert stored(tmp_path) == []
