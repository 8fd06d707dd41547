"""``order_status`` through the real app on every database: a WhatsApp customer whose
account an agent recorded asks about orders; the model is scripted, the tool and the
orders (placed and paid through the shop's API) are real."""

from __future__ import annotations

import json

from talia_core.shared.errors import NotFound
from tests.integration.http.assistants import World, tool_call
from tests.shop import IPN, answer, pending_order, plan, signed


async def email_of(world: World, customer: dict[str, str]) -> str:
    me = await world.api.client.get("/api/auth/me", headers=customer)
    email: str = me.json()["email"]
    return email


async def test_only_the_contacts_own_order_is_read_and_another_ones_is_not_found(
    world: World,
) -> None:
    premium = await plan(world.api, world.admin, 15_000, name="Premium")
    secret = await plan(world.api, world.admin, 77_700, name="Plan Secreto")
    ana, own = await pending_order(world.api, world.admin, premium)
    luis, theirs = await pending_order(world.api, world.admin, secret)
    paid = await world.api.client.post(IPN, data=signed(answer(own["reference"], 15_000)))
    assert paid.status_code == 200, paid.text
    await world.assistant("front-desk", channels=["whatsapp"], tools=["order_status"])
    world.model.answer("¿Con qué correo compraste?")
    world.model.answer(tool_calls=[tool_call("order_status", {"number": theirs["reference"]})])
    world.model.answer("No encuentro ese pedido en tu cuenta.")
    world.model.answer(tool_calls=[tool_call("order_status", {"number": own["reference"]})])
    world.model.answer("Tu pedido está pagado.")

    await world.customer_writes("hola, ¿cómo va mi pedido?", "wamid.order.1")
    conversation = await world.conversation()
    recorded = await world.api.client.patch(
        f"/api/contacts/{conversation['contact_id']}",
        json={"name": "Ana", "email": await email_of(world, ana)},
        headers=world.agent,
    )
    assert recorded.status_code == 200, recorded.text
    await world.customer_writes(f"es el {theirs['reference']}", "wamid.order.2")
    await world.customer_writes(f"perdón, es el {own['reference']}", "wamid.order.3")

    uses = {
        json.loads(use["arguments"])["number"]: json.loads(use["output"])
        for use in await world.read(conversation["id"], "tool-uses")
    }
    assert uses[theirs["reference"]] == {"error": NotFound("order", theirs["reference"]).detail}
    assert uses[own["reference"]]["order"]["status"] == "paid"
    assert uses[own["reference"]]["order"]["total"]["display"] == "S/ 150.00"
    replies = [m.text for m in world.sent.sent]
    assert replies == [
        "¿Con qué correo compraste?",
        "No encuentro ese pedido en tu cuenta.",
        "Tu pedido está pagado.",
    ]
    # Nothing of the other order reached the model, so none of it can be in a reply.
    said = json.dumps([uses, replies, world.model.requests], ensure_ascii=False, default=repr)
    for their_data in (theirs["id"], theirs["customer_id"], await email_of(world, luis)):
        assert their_data not in said
    for their_data in ("Plan Secreto", "777.00", "77700", "pending"):
        assert their_data not in said
