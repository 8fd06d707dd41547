"""A first pass through the real app on every database."""

from __future__ import annotations

from talia_core.identity.model import Role
from tests.api import Api


async def test_a_filed_claim_is_answered_by_an_admin(api: Api) -> None:
    filed = await api.client.post(
        "/api/claims",
        json={
            "kind": "claim",
            "customer_name": "Luis",
            "customer_email": "luis@example.com",
            "subject": "Late",
            "description": "It was late",
            "request": "Refund",
        },
    )
    assert filed.status_code == 201, filed.text
    _, admin = await api.user(Role.ADMIN)
    answered = await api.client.post(
        f"/api/claims/{filed.json()['id']}/answer", json={"answer": "Refunded"}, headers=admin
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"
