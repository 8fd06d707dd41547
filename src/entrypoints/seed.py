"""Demo data for the embedded default, written through the use cases like any other data."""

from __future__ import annotations

import json
from pathlib import Path

from entrypoints.bootstrap import Talia
from entrypoints.http.assistants import AssistantIn
from talia_core.commerce.actor import Actor
from talia_core.commerce.coupon import CouponKind
from talia_core.commerce.coupon_service import CouponTerms
from talia_core.feedback.model import ClaimKind
from talia_core.identity.model import Role
from talia_core.shared.errors import Conflict
from talia_core.shared.money import Money

DEMO_PASSWORD = "talia-demo-2026"
DEMO_ADMIN = "admin@example.com"
DEMO_AGENT = "agent@example.com"
DEMO_CUSTOMER = "ana@example.com"
DEMO_ASSISTANTS = Path(__file__).resolve().parent / "demo_assistants.json"


async def seed_demo_data(talia: Talia) -> bool:
    """Seed an empty database; ``False`` when its demo admin exists already."""
    try:
        admin = await talia.users.provision(
            email=DEMO_ADMIN, name="Demo Admin", password=DEMO_PASSWORD, role=Role.ADMIN
        )
    except Conflict:
        return False
    await talia.users.provision(
        email=DEMO_AGENT, name="Demo Agent", password=DEMO_PASSWORD, role=Role.AGENT
    )
    customer = await talia.auth.register(
        email=DEMO_CUSTOMER, password=DEMO_PASSWORD, name="Ana Torres"
    )
    stories = [
        ("Our invitation was beautiful and every guest answered on time.", 5, True),
        ("The assistant booked our call in two minutes.", 5, True),
        ("Lovely templates; I would like more colours.", 4, False),
    ]
    for body, rating, approve in stories:
        testimonial = await talia.feedback.submit_testimonial(
            author_id=customer.id, author_name=customer.name, body=body, rating=rating
        )
        if approve:
            await talia.feedback.approve_testimonial(testimonial.id, by=admin.id)
    await talia.feedback.send_contact_message(
        name="Luis Quispe",
        email="luis@example.com",
        subject="Corporate events",
        body="Do you also make invitations for company events?",
    )
    await talia.feedback.file_claim(
        kind=ClaimKind.COMPLAINT,
        customer_name="Rosa Huaman",
        customer_email="rosa@example.com",
        customer_phone=None,
        customer_document=None,
        subject="Slow answer",
        description="I waited two days for an answer to my question.",
        request="Faster answers on WhatsApp.",
    )
    await _seed_catalog(talia, Actor(admin.id, is_admin=True))
    await _seed_assistants(talia, admin.id)
    return True


async def _seed_catalog(talia: Talia, admin: Actor) -> None:
    currency = talia.catalog.currency
    plans = [
        ("Essential", 4_900, ["One invitation", "RSVP by link", "Up to 100 guests"]),
        ("Celebration", 9_900, ["Three invitations", "Events and maps", "Up to 300 guests"]),
        ("Premium", 19_900, ["Unlimited invitations", "Photo gallery", "Unlimited guests"]),
    ]
    for name, amount, features in plans:
        await talia.catalog.create_plan(name=name, price=Money(amount, currency), features=features)
    templates = [
        ("Olivo", "wedding", 2_900),
        ("Marfil", "wedding", 3_900),
        ("Confeti", "birthday", 1_900),
    ]
    for name, category, amount in templates:
        await talia.catalog.create_template(
            name=name,
            category=category,
            price=Money(amount, currency),
        )
    await talia.coupons.create(
        admin,
        CouponTerms(
            code="BIENVENIDA", kind=CouponKind.PERCENTAGE, percent_off=10, max_per_customer=1
        ),
    )


async def _seed_assistants(talia: Talia, admin_id: str) -> None:
    """Rows like any an admin writes, read as the HTTP API reads them: a front desk on the
    offline provider answering web chat and WhatsApp, and the sales assistant it may
    transfer to (listed first: a hand-off target must exist)."""
    for entry in json.loads(DEMO_ASSISTANTS.read_text(encoding="utf-8")):
        sent = AssistantIn.model_validate(entry)
        await talia.assistants.create(sent.name, sent.definition(), by=admin_id)
