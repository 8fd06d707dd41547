"""The business tools run through the wired catalogue over one in-memory database: a shop
with its catalog and orders, customer accounts, and contacts whose e-mail an agent wrote."""

from __future__ import annotations

import json
from datetime import UTC
from functools import partial
from typing import Any

import attrs
import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.persistence.leads.criteria import DefinitionLeadCriteria
from adapters.security.common_passwords import ZxcvbnCommonPasswords
from adapters.security.passwords import FakePasswordHasher
from entrypoints.wiring.tools import tool_catalogue
from talia_core.assistants.language import ToolCall
from talia_core.assistants.tools import ToolCatalogue, ToolContext
from talia_core.catalog.services import CatalogService
from talia_core.commerce.actor import Actor
from talia_core.commerce.cart_service import CartService
from talia_core.commerce.coupon_service import CouponService
from talia_core.commerce.order_service import OrderService
from talia_core.commerce.payment_service import PaymentService
from talia_core.conversations.contact_book import ContactBook
from talia_core.conversations.contacts import Contact
from talia_core.conversations.vocabulary import ChannelIdentity, IdentityKind
from talia_core.identity.model import Role
from talia_core.identity.user_admin_service import UserAdminService
from talia_core.knowledge.search import KnowledgeSearch
from talia_core.leads.services import LeadBook
from talia_core.shared.clock import FakeClock
from talia_core.shared.ids import new_id
from tests.unit.commerce.builders import PEN, PENDING_LIFETIME, FakePaymentGateway, Shop


@attrs.define
class World:
    shop: Shop
    users: UserAdminService
    contacts: ContactBook
    catalogue: ToolCatalogue
    database: InMemoryDatabase

    async def customer(self, email: str) -> Actor:
        """A customer account, as the shop's checkout knows its holder."""
        user = await self.users.provision(
            email=email, name=email.split("@")[0], password="secret-42-pass", role=Role.CUSTOMER
        )
        return Actor(user.id, email=user.email)

    async def contact(self, email: str | None = None) -> ToolContext:
        """A web chat contact, with the e-mail an agent recorded on it, if any."""
        now = self.shop.clock.now()
        identity = ChannelIdentity(IdentityKind.WEBCHAT_SESSION, new_id())
        contact = Contact(name="Someone", identities=[identity], created_at=now, updated_at=now)
        async with InMemoryUnitOfWork(self.database) as uow:
            await uow.contacts.add(contact)
            await uow.commit()
        await self.contacts.edit_contact(contact.id, name=contact.name, email=email, notes=None)
        return ToolContext("conversation-1", contact.id, "webchat", "sales")

    async def call(self, tool: str, context: ToolContext | None = None, **arguments: Any) -> Any:
        """What the tool answers the model, read back from its JSON."""
        call = ToolCall("call-1", tool, json.dumps(arguments))
        outcome = await self.catalogue.run(
            call, context or await self.contact(), allowed=self.catalogue.names()
        )
        return json.loads(outcome.output)


@pytest.fixture
def world() -> World:
    database, clock, gateway = InMemoryDatabase(), FakeClock(), FakePaymentGateway()
    uow = partial(InMemoryUnitOfWork, database)
    catalog = CatalogService(uow, clock, currency=PEN)
    orders = OrderService(
        uow, clock, currency=PEN, pending_lifetime=PENDING_LIFETIME, gateway=gateway
    )
    shop = Shop(
        database,
        clock,
        catalog,
        CartService(uow, clock, currency=PEN),
        CouponService(uow, clock, currency=PEN),
        orders,
        PaymentService(uow, clock, gateway),
        gateway,
    )
    users = UserAdminService(
        uow, clock, hasher=FakePasswordHasher(), common_passwords=ZxcvbnCommonPasswords()
    )
    contacts = ContactBook(uow, clock)
    leads = LeadBook(uow, clock, DefinitionLeadCriteria(uow), zone=UTC)
    tools = tool_catalogue(catalog, orders, users, contacts, KnowledgeSearch(uow, None), leads)
    return World(shop, users, contacts, tools, database)
