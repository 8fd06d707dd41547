"""Feedback end to end through the real app, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from talia_core.identity.model import Role
from tests.api import Api


def claim_body(n: int = 0, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "claim" if n % 2 == 0 else "complaint",
        "customer_name": f"Customer {n}",
        "customer_email": f"customer{n}@example.com",
        "subject": "Late delivery",
        "description": "The order arrived a week late.",
        "request": "A refund of the shipping cost.",
    }
    body.update(changes)
    return body


async def test_concurrently_filed_claims_get_distinct_gap_free_numbers(api: Api) -> None:
    responses = await asyncio.gather(
        *(api.client.post("/api/claims", json=claim_body(n)) for n in range(20))
    )

    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
    assert sorted(r.json()["number"] for r in responses) == list(range(1, 21))
    _, admin = await api.user(Role.ADMIN)
    listed = (await api.client.get("/api/claims?limit=200", headers=admin)).json()
    assert [c["number"] for c in listed["items"]] == list(range(20, 0, -1))
    assert listed["total"] == 20


async def test_numbering_goes_on_after_concurrent_filing(api: Api) -> None:
    await asyncio.gather(*(api.client.post("/api/claims", json=claim_body(n)) for n in range(5)))

    after = await api.client.post("/api/claims", json=claim_body(99))

    assert after.json()["number"] == 6


async def test_a_claim_answered_twice_at_once_is_answered_exactly_once(api: Api) -> None:
    filed = (await api.client.post("/api/claims", json=claim_body())).json()
    _, admin = await api.user(Role.ADMIN)
    url = f"/api/claims/{filed['id']}/answer"

    responses = await asyncio.gather(
        *(api.client.post(url, json={"answer": f"Answer {n}"}, headers=admin) for n in range(5))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409, 409], [r.text for r in responses]
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    listed = (await api.client.get("/api/claims", headers=admin)).json()
    assert listed["items"][0]["answer"] == winner["answer"]


async def test_a_message_read_by_two_admins_at_once_keeps_one_reader(api: Api) -> None:
    sent = await api.client.post(
        "/api/contact-messages",
        json={"name": "Luis", "email": "luis@example.com", "body": "Hello"},
    )
    admins = [await api.user(Role.ADMIN) for _ in range(3)]
    url = f"/api/contact-messages/{sent.json()['id']}/read"

    responses = await asyncio.gather(*(api.client.post(url, headers=h) for _, h in admins))

    readers = {r.json()["read_by"] for r in responses}
    assert len(readers) == 1, readers
    listed = (await api.client.get("/api/contact-messages", headers=admins[0][1])).json()
    assert {listed["items"][0]["read_by"]} == readers


async def test_contact_messages_flow_from_the_public_to_an_admin(api: Api) -> None:
    for n in range(3):
        response = await api.client.post(
            "/api/contact-messages",
            json={"name": f"Sender {n}", "email": f"s{n}@example.com", "body": f"Message {n}"},
        )
        assert response.status_code == 201, response.text
    admin_id, admin = await api.user(Role.ADMIN)
    newest = (await api.client.get("/api/contact-messages?limit=1", headers=admin)).json()

    read = await api.client.post(
        f"/api/contact-messages/{newest['items'][0]['id']}/read", headers=admin
    )
    unread = (await api.client.get("/api/contact-messages?unread=true", headers=admin)).json()

    assert newest["items"][0]["body"] == "Message 2"
    assert newest["total"] == 3
    assert read.json()["read_by"] == admin_id
    assert [m["body"] for m in unread["items"]] == ["Message 1", "Message 0"]


async def test_testimonials_flow_from_a_customer_through_an_admin_to_the_public(
    api: Api,
) -> None:
    _, customer = await api.user(Role.CUSTOMER)
    submitted = await api.client.post(
        "/api/testimonials", json={"body": "Wonderful", "rating": 5}, headers=customer
    )
    assert submitted.status_code == 201, submitted.text
    _, admin = await api.user(Role.ADMIN)

    before = (await api.client.get("/api/testimonials")).json()
    pending = (await api.client.get("/api/testimonials/pending", headers=admin)).json()
    approved = await api.client.post(
        f"/api/testimonials/{submitted.json()['id']}/approve", headers=admin
    )
    again = await api.client.post(
        f"/api/testimonials/{submitted.json()['id']}/approve", headers=admin
    )
    after = (await api.client.get("/api/testimonials")).json()

    assert before["total"] == 0
    assert [t["body"] for t in pending["items"]] == ["Wonderful"]
    assert approved.status_code == 200, approved.text
    assert again.status_code == 409
    assert [(t["body"], t["rating"], t["status"]) for t in after["items"]] == [
        ("Wonderful", 5, "approved")
    ]


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/api/contact-messages", {"name": "Lu\x00is", "email": "l@example.com", "body": "Hi"}),
        ("/api/contact-messages", {"name": "Luis", "email": "l@example.com", "body": "H\x00i"}),
        ("/api/claims", claim_body(subject="Late\x00")),
    ],
    ids=["nul-in-name", "nul-in-body", "nul-in-claim"],
)
async def test_text_with_a_nul_character_is_refused_on_every_database(
    api: Api, route: str, body: dict[str, Any]
) -> None:
    response = await api.client.post(route, json=body)

    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_text_outside_the_basic_plane_is_kept_intact(api: Api) -> None:
    body = claim_body(subject="Tarde 😞", description="Señora Ñuñez — ¿dónde está?")

    filed = await api.client.post("/api/claims", json=body)
    _, admin = await api.user(Role.ADMIN)
    (listed,) = (await api.client.get("/api/claims", headers=admin)).json()["items"]

    assert filed.status_code == 201, filed.text
    assert (listed["subject"], listed["description"]) == (body["subject"], body["description"])


async def test_longest_allowed_texts_fit_every_database(api: Api) -> None:
    body = claim_body(
        customer_name="n" * 120,
        customer_phone="1" * 32,
        customer_document="d" * 32,
        subject="ñ" * 200,
        description="d" * 5000,
        request="r" * 2000,
    )

    filed = await api.client.post("/api/claims", json=body)

    assert filed.status_code == 201, filed.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/contact-messages/a%00b/read",
        "/api/claims/a%00b/answer",
        "/api/testimonials/a%00b/approve",
    ],
)
async def test_an_id_with_a_nul_character_is_a_bad_request_on_every_database(
    api: Api, path: str
) -> None:
    _, admin = await api.user(Role.ADMIN)

    response = await api.client.post(path, json={"answer": "ok"}, headers=admin)

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
