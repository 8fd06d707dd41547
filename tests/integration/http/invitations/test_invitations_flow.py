"""Invitations through the real app on SQLite, PostgreSQL and MariaDB: bought and paid in
the sandbox, made once by the outbox's consumer, filled in, published, ended by a refund."""

from __future__ import annotations

from typing import Any

from talia_core.identity.model import Role
from talia_core.invitations.consumers import FULFILMENT_CONSUMER
from talia_core.shared.pagination import PageRequest
from tests.api import Api, assert_problem
from tests.shop import IPN, answer, pen, plan, signed


async def run_jobs(api: Api) -> None:
    runner = api.container.use_cases.job_runner()
    while await runner.run_due(100):
        pass


async def deliver_again(api: Api) -> None:
    """Hand the invitations' consumer its delivery of ``order.paid`` a second time, as an
    at-least-once relay may."""
    runner = api.container.use_cases.job_runner()
    handlers = api.container.use_cases.outbox_relay().job_handlers()
    jobs = await runner.list(PageRequest(limit=200))
    [paid] = [
        job
        for job in jobs.items
        if job.kind == FULFILMENT_CONSUMER and job.payload["event"]["name"] == "order.paid"
    ]
    await handlers[FULFILMENT_CONSUMER](paid.payload)


async def bought_and_paid(api: Api) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    """An admin's and a customer's headers, and the customer's paid order of a template on a
    plan that allows two events and a slug of their choosing."""
    _, admin = await api.user(Role.ADMIN)
    allowances = {"events": 2, "custom_slug": True, "guests": 120}
    plan_id = await plan(api, admin, 5_000, allowances=allowances)
    template = await api.client.post(
        "/api/admin/templates",
        json={"name": "Rosa", "category": "bodas", "price": pen(4_000)},
        headers=admin,
    )
    assert template.status_code == 201, template.text
    _, customer = await api.user()
    for item in ({"plan_id": plan_id}, {"template_id": template.json()["id"]}):
        added = await api.client.post("/api/cart/items", json=item, headers=customer)
        assert added.status_code == 201, added.text
    placed = await api.client.post("/api/orders", json={}, headers=customer)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    paid = await api.client.post(IPN, data=signed(answer(order["reference"], 9_000)))
    assert paid.json()["outcome"] == "applied", paid.text
    return admin, customer, order


async def test_a_paid_invitation_is_made_once_filled_in_published_and_ended_by_a_refund(
    api: Api,
) -> None:
    admin, customer, order = await bought_and_paid(api)
    await run_jobs(api)
    await deliver_again(api)

    listed = (await api.client.get("/api/invitations", headers=customer)).json()
    assert listed["total"] == 1
    [invitation] = listed["items"]
    assert (invitation["order_id"], invitation["status"]) == (order["id"], "draft")
    assert invitation["allowances"]["guests"] == 120
    url = f"/api/invitations/{invitation['id']}"

    bad = await api.client.put(
        f"{url}/data",
        json={"partner_one": "Ana", "date": "14/02/2027", "shoe": 1},
        headers=customer,
    )
    assert_problem(bad, 422, "data.date", "data.shoe")
    saved = await api.client.put(
        f"{url}/data", json={"partner_one": "Ana", "date": "2027-02-14"}, headers=customer
    )
    assert saved.status_code == 200, saved.text
    for kind, hour in (("ceremonia", "16:00"), ("fiesta", "20:00")):
        event = {
            "type": kind,
            "starts_at": f"2027-02-14T{hour}:00-05:00",
            "time_zone": "America/Lima",
            "venue": "Hacienda Los Ficus",
            "map_url": "https://maps.example/ficus",
        }
        added = await api.client.post(f"{url}/events", json=event, headers=customer)
        assert added.status_code == 201, added.text
    third = {**event, "type": "after"}
    assert_problem(await api.client.post(f"{url}/events", json=third, headers=customer), 422)
    events = (await api.client.get(f"{url}/events", headers=customer)).json()
    assert [(e["type"], e["starts_at"]) for e in events] == [
        ("ceremonia", "2027-02-14T16:00:00-05:00"),
        ("fiesta", "2027-02-14T20:00:00-05:00"),
    ]

    incomplete = await api.client.post(
        f"{url}/publish", json={"slug": "ana-y-luis"}, headers=customer
    )
    assert_problem(incomplete, 422, "data.partner_two")
    await api.client.patch(url, json={"data": {"partner_two": "Luis"}}, headers=customer)
    reserved = await api.client.post(f"{url}/publish", json={"slug": "admin"}, headers=customer)
    assert_problem(reserved, 409)
    published = await api.client.post(
        f"{url}/publish", json={"slug": "ana-y-luis"}, headers=customer
    )
    assert published.status_code == 200, published.text
    assert (published.json()["status"], published.json()["slug"]) == ("published", "ana-y-luis")

    _, stranger = await api.user()
    assert_problem(await api.client.get(url, headers=stranger), 404)
    assert (await api.client.get("/api/invitations", headers=stranger)).json()["total"] == 0

    refund = await api.client.post(f"/api/admin/orders/{order['id']}/refund", headers=admin)
    assert refund.status_code == 202, refund.text
    await run_jobs(api)  # the provider gives the money back, then the order's event ends it
    ended = (await api.client.get(url, headers=admin)).json()
    assert ended["status"] == "unpublished"
    assert ended["revoked_at"] is not None
    assert_problem(await api.client.post(f"{url}/publish", headers=customer), 409)


async def test_a_slug_another_invitation_holds_is_refused_with_409(api: Api) -> None:
    _, first, _ = await bought_and_paid(api)
    _, second, _ = await bought_and_paid(api)
    await run_jobs(api)
    complete = {"partner_one": "Ana", "partner_two": "Luis", "date": "2027-02-14"}
    urls = []
    for customer in (first, second):
        [invitation] = (await api.client.get("/api/invitations", headers=customer)).json()["items"]
        url = f"/api/invitations/{invitation['id']}"
        saved = await api.client.put(f"{url}/data", json=complete, headers=customer)
        assert saved.status_code == 200, saved.text
        urls.append((url, customer))

    taken = [
        await api.client.post(f"{url}/publish", json={"slug": "ana-y-luis"}, headers=customer)
        for url, customer in urls
    ]

    assert taken[0].status_code == 200, taken[0].text
    assert_problem(taken[1], 409)
    still = (await api.client.get(urls[1][0], headers=urls[1][1])).json()
    assert (still["status"], still["slug"]) == ("draft", None)
