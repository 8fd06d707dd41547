"""The tool catalogue: every tool an assistant may be given, built once over the use cases
they read through."""

from __future__ import annotations

from adapters.tools.catalog_prices import CatalogPrices
from adapters.tools.order_status import OwnOrderStatus
from adapters.tools.search_knowledge import SearchKnowledge
from talia_core.assistants.builtins import HandOffToHuman, TransferToAssistant
from talia_core.assistants.tools import ToolCatalogue
from talia_core.catalog.services import CatalogService
from talia_core.commerce.order_service import OrderService
from talia_core.conversations.contact_book import ContactBook
from talia_core.identity.user_admin_service import UserAdminService
from talia_core.knowledge.search import KnowledgeSearch


def tool_catalogue(
    catalog: CatalogService,
    orders: OrderService,
    users: UserAdminService,
    contacts: ContactBook,
    knowledge: KnowledgeSearch,
) -> ToolCatalogue:
    return ToolCatalogue(
        [
            HandOffToHuman(),
            TransferToAssistant(),
            CatalogPrices(catalog),
            OwnOrderStatus(contacts, users, orders),
            SearchKnowledge(knowledge),
        ]
    )
