"""Invitation routes over the in-memory fakes: owners, admins, a template's own fields and a
plan's allowances set through the catalog's admin routes."""

from __future__ import annotations

from typing import Any

import pytest

from talia_core.identity.model import Role
from tests.api import Api, assert_problem
from tests.shop import pen, plan

HONOUREE = {
    "type": "object",
    "properties": {
        "honouree": {"type": "string", "maxLength": 40},
        "age": {"type": "integer"},
        "theme": {"type": "string", "enum": ["mar", "bosque"]},
    },
    "required": ["honouree", "age"],
}


async def template(api: Api, admin: dict[str, str], **body: Any) -> dict[str, Any]:
    created = await api.client.post(
        "/api/admin/templates",
        json={"name": "Quince", "category": "quinces", "price": pen(3_000), **body},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


async def made_for(api: Api, admin: dict[str, str], owner_id: str, **body: Any) -> dict[str, Any]:
    made = await api.client.post(
        "/api/invitations", json={"owner_id": owner_id, **body}, headers=admin
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


async def test_a_customer_sees_and_changes_only_their_own_invitations(api: Api) -> None:
    _, admin = await api.user(Role.ADMIN)
    owner_id, owner = await api.user()
    _, stranger = await api.user()
    invitation = await made_for(api, admin, owner_id)
    url = f"/api/invitations/{invitation['id']}"

    assert (await api.client.get("/api/invitations", headers=owner)).json()["total"] == 1
    assert (await api.client.get("/api/invitations", headers=stranger)).json()["total"] == 0
    assert (await api.client.get("/api/invitations", headers=admin)).json()["total"] == 1
    for method, path, body in [
        ("GET", url, None),
        ("PATCH", url, {"data": {"partner_one": "Eva"}}),
        ("PUT", f"{url}/data", {"partner_one": "Eva"}),
        ("POST", f"{url}/events", {"type": "misa", "starts_at": "2027-01-01T10:00:00Z",
                                    "time_zone": "UTC"}),
        ("POST", f"{url}/publish", None),
        ("DELETE", url, None),
    ]:  # fmt: skip
        response = await api.client.request(method, path, json=body, headers=stranger)
        assert_problem(response, 404)
    kept = (await api.client.get(url, headers=owner)).json()
    assert (kept["data"], kept["events"], kept["status"]) == ({}, [], "draft")


async def test_only_an_admin_adds_an_invitation_without_an_order(api: Api) -> None:
    owner_id, owner = await api.user()
    refused = await api.client.post("/api/invitations", json={"owner_id": owner_id}, headers=owner)
    assert_problem(refused, 403)
    assert (await api.client.get("/api/invitations", headers=owner)).json()["total"] == 0


async def test_data_is_held_to_the_templates_own_fields(api: Api) -> None:
    _, admin = await api.user(Role.ADMIN)
    owner_id, owner = await api.user()
    quince = await template(api, admin, fields=HONOUREE)
    assert quince["fields"] == HONOUREE
    invitation = await made_for(api, admin, owner_id, template_id=quince["id"])
    url = f"/api/invitations/{invitation['id']}"

    bad = await api.client.put(
        f"{url}/data", json={"honouree": "Sofía", "age": "15", "theme": "luna", "partner_one": "x"},
        headers=owner,
    )  # fmt: skip
    assert_problem(bad, 422, "data.age", "data.theme", "data.partner_one")
    draft = await api.client.put(f"{url}/data", json={"honouree": "Sofía"}, headers=owner)
    assert draft.json()["data"] == {"honouree": "Sofía"}
    assert_problem(await api.client.post(f"{url}/publish", headers=owner), 422, "data.age")
    await api.client.patch(url, json={"data": {"age": 15}}, headers=owner)
    published = await api.client.post(f"{url}/publish", headers=owner)
    assert published.status_code == 200, published.text
    assert published.json()["slug"].startswith("evento-")
    assert_problem(await api.client.delete(url, headers=owner), 409)
    await api.client.post(f"{url}/unpublish", headers=owner)
    assert (await api.client.delete(url, headers=owner)).status_code == 204
    assert_problem(await api.client.get(url, headers=owner), 404)


@pytest.mark.parametrize(
    "fields",
    [
        {"properties": {"a": {"type": "object"}}},
        {"properties": {"a": {"type": "string"}}, "required": ["b"]},
        {"type": "object"},
    ],
)
async def test_a_template_schema_outside_the_subset_is_refused(
    api: Api, fields: dict[str, Any]
) -> None:
    _, admin = await api.user(Role.ADMIN)
    body = {"name": "Quince", "category": "quinces", "price": pen(3_000), "fields": fields}
    refused = await api.client.post("/api/admin/templates", json=body, headers=admin)
    assert_problem(refused, 422, "fields")
    assert (await api.client.get("/api/admin/templates", headers=admin)).json() == []


async def test_a_plans_allowances_default_and_are_copied_onto_its_invitations(api: Api) -> None:
    _, admin = await api.user(Role.ADMIN)
    owner_id, owner = await api.user()
    plain = await plan(api, admin)
    rich = await plan(api, admin, 9_000, allowances={"events": 1, "guests": 300})
    plans = {p["id"]: p for p in (await api.client.get("/api/plans")).json()["items"]}
    assert plans[plain]["allowances"] == {
        "guests": 100,
        "media_count": 10,
        "media_bytes": 5_000_000,
        "events": 5,
        "custom_slug": False,
        "published_days": 365,
    }
    invitation = await made_for(api, admin, owner_id, plan_id=rich)
    changed = await api.client.patch(
        f"/api/admin/plans/{rich}", json={"allowances": {"events": 9}}, headers=admin
    )
    assert changed.json()["allowances"]["guests"] == 100
    url = f"/api/invitations/{invitation['id']}"
    assert (await api.client.get(url, headers=owner)).json()["allowances"]["guests"] == 300
    event = {"type": "misa", "starts_at": "2027-01-01T10:00:00Z", "time_zone": "UTC"}
    assert (await api.client.post(f"{url}/events", json=event, headers=owner)).status_code == 201
    assert_problem(await api.client.post(f"{url}/events", json=event, headers=owner), 422)
    out_of_range = await api.client.post(
        "/api/admin/plans",
        json={"name": "X", "price": pen(1), "allowances": {"guests": -1}},
        headers=admin,
    )
    assert_problem(out_of_range, 422, "allowances.guests")


async def test_events_are_moved_changed_and_removed(api: Api) -> None:
    _, admin = await api.user(Role.ADMIN)
    owner_id, owner = await api.user()
    url = f"/api/invitations/{(await made_for(api, admin, owner_id))['id']}/events"
    ids = []
    for kind in ("civil", "misa", "fiesta"):
        body = {"type": kind, "starts_at": "2027-02-14T21:00:00Z", "time_zone": "America/Lima"}
        ids.append((await api.client.post(url, json=body, headers=owner)).json()["id"])

    moved = await api.client.patch(
        f"{url}/{ids[2]}", json={"position": 0, "venue": "Club"}, headers=owner
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_at"] == "2027-02-14T16:00:00-05:00"
    naive = await api.client.patch(
        f"{url}/{ids[0]}", json={"starts_at": "2027-02-14T10:00:00"}, headers=owner
    )
    assert_problem(naive, 422, "starts_at")
    for cleared in ("type", "starts_at", "time_zone", "position"):
        refused = await api.client.patch(f"{url}/{ids[0]}", json={cleared: None}, headers=owner)
        assert_problem(refused, 400)
    assert (await api.client.delete(f"{url}/{ids[1]}", headers=owner)).status_code == 204
    assert_problem(await api.client.delete(f"{url}/{ids[1]}", headers=owner), 404)
    listed = (await api.client.get(url, headers=owner)).json()
    assert [(e["type"], e["position"], e["venue"]) for e in listed] == [
        ("fiesta", 0, "Club"),
        ("civil", 1, None),
    ]
