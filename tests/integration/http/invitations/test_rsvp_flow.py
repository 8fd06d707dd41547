"""RSVP through the real app on SQLite, PostgreSQL and MariaDB: the owner's guest list, a
family answering by its link (JSON and the page's form), refusals that change nothing, and
the owner's answers as JSON and CSV."""

from __future__ import annotations

import csv
import io

from tests.api import Api, assert_problem
from tests.integration.http.invitations.test_invitations_flow import bought_and_paid, run_jobs

FORM = {"content-type": "application/x-www-form-urlencoded"}


async def published(api: Api, customer: dict[str, str], **data: str) -> str:
    """The customer's invitation, published as ``ana-y-luis``; its URL."""
    [invitation] = (await api.client.get("/api/invitations", headers=customer)).json()["items"]
    url = f"/api/invitations/{invitation['id']}"
    saved = await api.client.put(
        f"{url}/data",
        json={"partner_one": "Ana", "partner_two": "Luis", "date": "2027-02-14", **data},
        headers=customer,
    )
    assert saved.status_code == 200, saved.text
    done = await api.client.post(f"{url}/publish", json={"slug": "ana-y-luis"}, headers=customer)
    assert done.status_code == 200, done.text
    return url


async def test_guests_answer_by_their_links_and_the_owner_reads_the_answers_as_csv(
    api: Api,
) -> None:
    _, customer, _ = await bought_and_paid(api)
    await run_jobs(api)
    url = await published(api, customer, rsvp_deadline="2099-12-31")
    rsvp = "/api/public/invitations/ana-y-luis/rsvp"

    too_many = await api.client.post(
        f"{url}/guests", json={"name": "Todos", "allowance": 121}, headers=customer
    )
    assert_problem(too_many, 422, "allowance")
    added = await api.client.post(
        f"{url}/guests", json={"name": "=Familia Pérez", "allowance": 3}, headers=customer
    )
    assert added.status_code == 201, added.text
    family = added.json()
    other = await api.client.post(
        f"{url}/guests", json={"name": "Los Gómez", "allowance": 2}, headers=customer
    )
    gomez = other.json()

    assert_problem(
        await api.client.post(rsvp, json={"attending": True, "party_size": 1, "guest_token": "x"}),
        404,
    )
    assert_problem(
        await api.client.post(
            rsvp, json={"attending": True, "party_size": 1, "contact": "ana@example.com"}
        ),
        422,
        "guest_token",
    )
    over = {"attending": True, "party_size": 4, "guest_token": family["token"]}
    assert_problem(await api.client.post(rsvp, json=over), 422, "party_size")
    assert_problem(await api.client.post(rsvp, json={"attending": "maybe"}), 422, "attending")

    first = await api.client.post(
        rsvp,
        json={
            "attending": True,
            "party_size": 3,
            "names": ["Rosa", "Juan"],
            "guest_token": family["token"],
        },
    )
    assert first.status_code == 201, first.text
    again = await api.client.post(
        rsvp,
        json={
            "attending": True,
            "party_size": 2,
            "dietary": "@sin gluten",
            "guest_token": family["token"],
        },
    )
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]

    by_form = await api.client.post(
        rsvp,
        content=f"attending=yes&party_size=2&names=Pedro%2C+Lucia&g={gomez['token']}",
        headers=FORM,
    )
    assert by_form.status_code == 303, by_form.text
    assert by_form.headers["location"] == f"/i/ana-y-luis?rsvp=ok&g={gomez['token']}"
    refused = await api.client.post(rsvp, content="attending=yes&g=nope", headers=FORM)
    assert refused.headers["location"] == "/i/ana-y-luis?rsvp=invalid_guest"

    responses = (await api.client.get(f"{url}/responses", headers=customer)).json()
    assert (responses["confirmed"], responses["allowance"]) == (4, 120)
    assert responses["answers"]["total"] == 2

    exported = await api.client.get(f"{url}/responses?format=csv", headers=customer)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["guest"], r["party_size"], r["names"], r["dietary"]) for r in rows] == [
        ("'=Familia Pérez", "2", "", "'@sin gluten"),
        ("Los Gómez", "2", "Pedro; Lucia", ""),
    ]

    _, stranger = await api.user()
    assert_problem(await api.client.get(f"{url}/responses", headers=stranger), 404)
    assert_problem(await api.client.get(f"{url}/guests", headers=stranger), 404)


async def test_answers_after_the_deadline_or_to_an_unpublished_invitation_change_nothing(
    api: Api,
) -> None:
    _, customer, _ = await bought_and_paid(api)
    await run_jobs(api)
    url = await published(api, customer, rsvp_deadline="2020-01-01")
    rsvp = "/api/public/invitations/ana-y-luis/rsvp"
    reply = {"attending": True, "party_size": 1, "contact": "ana@example.com"}

    assert_problem(await api.client.post(rsvp, json=reply), 409)
    closed = await api.client.post(
        rsvp, content="attending=yes&party_size=1&contact=ana%40example.com", headers=FORM
    )
    assert closed.headers["location"] == "/i/ana-y-luis?rsvp=rsvp_closed"

    await api.client.patch(url, json={"data": {"rsvp_deadline": None}}, headers=customer)
    await api.client.post(f"{url}/unpublish", headers=customer)
    assert_problem(await api.client.post(rsvp, json=reply), 404)
    assert_problem(await api.client.post("/api/public/invitations/nadie/rsvp", json=reply), 404)

    responses = (await api.client.get(f"{url}/responses", headers=customer)).json()
    assert (responses["confirmed"], responses["answers"]["total"]) == (0, 0)


async def test_a_body_that_is_neither_json_nor_a_form_is_a_bad_request(api: Api) -> None:
    rsvp = "/api/public/invitations/ana-y-luis/rsvp"
    broken = await api.client.post(
        rsvp, content=b"{attending", headers={"content-type": "application/json"}
    )
    assert_problem(broken, 400)
    text = await api.client.post(rsvp, content=b"yes", headers={"content-type": "text/plain"})
    assert_problem(text, 400)
    assert_problem(await api.client.post(rsvp, json=["yes"]), 422, "body")


async def test_one_address_sending_answer_after_answer_is_slowed_down(api: Api) -> None:
    rsvp = "/api/public/invitations/nadie/rsvp"
    reply = {"attending": False, "contact": "ana@example.com"}
    for _ in range(30):
        assert_problem(await api.client.post(rsvp, json=reply), 404)

    slowed = assert_problem(await api.client.post(rsvp, json=reply), 429)

    assert "too many" in slowed["detail"]
