"""The tool catalogue: every tool an assistant may be given, built once over the use cases
they read through."""

from __future__ import annotations

from adapters.tools.book_appointment import BookAppointment
from adapters.tools.cancel_appointment import CancelAppointment
from adapters.tools.catalog_prices import CatalogPrices
from adapters.tools.check_availability import CheckAvailability
from adapters.tools.confirm_appointment import ConfirmAppointment
from adapters.tools.order_status import OwnOrderStatus
from adapters.tools.search_knowledge import SearchKnowledge
from adapters.tools.update_lead import UpdateLead
from talia_core.assistants.builtins import HandOffToHuman, TransferToAssistant
from talia_core.assistants.tools import Tool, ToolCatalogue
from talia_core.catalog.services import CatalogService
from talia_core.commerce.order_service import OrderService
from talia_core.conversations.contact_book import ContactBook
from talia_core.conversations.desk import AgentDesk
from talia_core.identity.user_admin_service import UserAdminService
from talia_core.knowledge.search import KnowledgeSearch
from talia_core.leads.services import LeadBook
from talia_core.scheduling.services import SchedulingService


def tool_catalogue(
    catalog: CatalogService,
    orders: OrderService,
    users: UserAdminService,
    contacts: ContactBook,
    knowledge: KnowledgeSearch,
    leads: LeadBook,
    *,
    scheduling: SchedulingService | None = None,
    desk: AgentDesk | None = None,
) -> ToolCatalogue:
    booking: list[Tool] = (
        []
        if scheduling is None or desk is None
        else [
            CheckAvailability(scheduling),
            BookAppointment(scheduling, contacts, desk),
            CancelAppointment(scheduling),
            ConfirmAppointment(scheduling),
        ]
    )
    return ToolCatalogue(
        [
            HandOffToHuman(),
            TransferToAssistant(),
            CatalogPrices(catalog),
            OwnOrderStatus(contacts, users, orders),
            SearchKnowledge(knowledge),
            UpdateLead(leads),
            *booking,
        ]
    )
