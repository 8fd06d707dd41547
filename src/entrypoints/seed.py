"""Demo data for the embedded default, written through the use cases like any other data."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import attrs

from entrypoints.bootstrap import Talia, open_talia
from entrypoints.http.assistants import AssistantIn
from entrypoints.settings import AssistantSettings, Settings
from entrypoints.wiring.capabilities import DEMO_MODELS
from talia_core.assistants.definition import Assistant, Definition, Provider
from talia_core.commerce.actor import Actor
from talia_core.commerce.coupon import CouponKind
from talia_core.commerce.coupon_service import CouponTerms
from talia_core.feedback.model import ClaimKind
from talia_core.identity.model import Role
from talia_core.shared.errors import Conflict
from talia_core.shared.money import Money
from talia_core.shared.pagination import MAX_LIMIT, PageRequest

DEMO_PASSWORD = "talia-demo-2026"
DEMO_ADMIN = "admin@example.com"
DEMO_AGENT = "agent@example.com"
DEMO_CUSTOMER = "ana@example.com"
DEMO_ASSISTANTS = Path(__file__).resolve().parent / "demo_assistants.json"
DEMO_KNOWLEDGE = Path(__file__).resolve().parent / "demo_knowledge"
"""One document a collection, the collection named after the file: the demo assistants
search ``preguntas-frecuentes`` and ``planes-y-precios``."""

logger = logging.getLogger("talia.seed")


@attrs.frozen
class DemoModel:
    """The provider and model the demo assistants answer with."""

    provider: Provider
    model: str

    @classmethod
    def of(cls, settings: AssistantSettings) -> DemoModel:
        """``TALIA_ASSISTANT__DEMO_PROVIDER`` and ``__DEMO_MODEL`` (empty: its default)."""
        provider = settings.demo_provider
        return cls(provider, settings.demo_model or DEMO_MODELS[provider])

    def changes(self) -> dict[str, Any]:
        return {"provider": self.provider, "model": self.model}


async def prepare_demo(settings: Settings) -> bool:
    """What ``talia serve`` (on SQLite) and ``talia seed`` do first: seed an empty database,
    then bring the demo assistants to the configured model; ``True`` when it seeded."""
    answering = DemoModel.of(settings.assistant)
    async with open_talia(settings) as talia:
        seeded = await seed_demo_data(talia, answering)
        await follow_demo_model(talia, answering)
    return seeded


async def seed_demo_data(talia: Talia, answering: DemoModel | None = None) -> bool:
    """Seed an empty database, the demo assistants on ``answering`` (none: the provider and
    model of ``demo_assistants.json``); ``False`` when its demo admin exists already."""
    try:
        admin = await talia.users.provision(
            email=DEMO_ADMIN, name="Demo Admin", password=DEMO_PASSWORD, role=Role.ADMIN
        )
    except Conflict:
        return False
    await talia.users.provision(
        email=DEMO_AGENT, name="Demo Agent", password=DEMO_PASSWORD, role=Role.AGENT
    )
    customer = await talia.users.provision(
        email=DEMO_CUSTOMER, name="Ana Torres", password=DEMO_PASSWORD, role=Role.CUSTOMER
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
    await _seed_assistants(talia, admin.id, answering)
    await _seed_knowledge(talia, admin.id)
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


async def _seed_knowledge(talia: Talia, admin_id: str) -> None:
    """Uploaded like any document: ingested by the jobs once they run."""
    for path in sorted(DEMO_KNOWLEDGE.glob("*.md")):
        await talia.knowledge.upload(
            collection=path.stem,
            filename=path.name,
            content=path.read_bytes(),
            by=admin_id,
            title=path.stem.replace("-", " ").capitalize(),
        )


async def _seed_assistants(talia: Talia, admin_id: str, answering: DemoModel | None) -> None:
    """Rows like any an admin writes: a front desk answering web chat and WhatsApp, and the
    sales assistant it may transfer to (listed first: a hand-off target must exist)."""
    for name, definition in _demo_definitions():
        if answering is not None:
            definition = definition.revised(answering.changes())
        await talia.assistants.create(name, definition, by=admin_id)


async def follow_demo_model(talia: Talia, answering: DemoModel) -> list[str]:
    """Move each demo assistant on another provider or model to ``answering``'s: a new
    version by the demo admin. Only one still as seeded, provider and model aside: one an
    admin changed otherwise is left as it is, with a warning. The names of those moved;
    none when there is no demo admin."""
    admin = await talia.users.account_by_email(DEMO_ADMIN)
    if admin is None:
        return []
    current = await _assistants_by_name(talia)
    moved = []
    for name, seeded in _demo_definitions():
        assistant = current.get(name)
        if assistant is None or _answers_with(assistant.definition, answering):
            continue
        if assistant.require_eval:
            logger.warning(
                "demo assistant %s requires its eval set: it stays on %s %s until an admin "
                "moves it, so that start-up never waits on an evaluation",
                name,
                assistant.definition.provider.value,
                assistant.definition.model,
            )
            continue
        if _others(assistant.definition) != _others(seeded):
            logger.warning(
                "demo assistant %s was edited since it was seeded: it stays on %s %s",
                name,
                assistant.definition.provider.value,
                assistant.definition.model,
            )
            continue
        revised = await talia.assistants.revise(assistant.id, answering.changes(), by=admin.id)
        logger.info(
            "demo assistant %s now answers with %s %s",
            name,
            answering.provider.value,
            answering.model,
            extra={"version": revised.version},
        )
        moved.append(name)
    return moved


def _demo_definitions() -> list[tuple[str, Definition]]:
    """``demo_assistants.json``'s entries, read as the HTTP API reads them."""
    entries = json.loads(DEMO_ASSISTANTS.read_text(encoding="utf-8"))
    return [(sent.name, sent.definition()) for sent in map(AssistantIn.model_validate, entries)]


def _answers_with(definition: Definition, answering: DemoModel) -> bool:
    return (definition.provider, definition.model) == (answering.provider, answering.model)


def _others(definition: Definition) -> dict[str, Any]:
    """Every field of ``definition`` but its provider and model."""
    fields = attrs.asdict(definition, recurse=False)
    return {name: value for name, value in fields.items() if name not in ("provider", "model")}


async def _assistants_by_name(talia: Talia) -> dict[str, Assistant]:
    found: dict[str, Assistant] = {}
    while True:
        page = await talia.assistants.list(PageRequest(limit=MAX_LIMIT, offset=len(found)))
        found.update((assistant.name, assistant) for assistant in page.items)
        if not page.items or len(found) >= page.total:
            return found
