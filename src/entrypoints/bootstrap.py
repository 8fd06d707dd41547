"""The library in-process: a batch job opens Talia with a settings object and calls use cases.

async with open_talia(load_settings()) as talia:
    page = await talia.feedback.list_claims(PageRequest(limit=10))
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs

from entrypoints.container import Container, build_container, close_resources, open_resources
from entrypoints.settings import Settings, load_settings
from talia_core.assistants.admin import AssistantAdmin
from talia_core.assistants.direct import DirectChat
from talia_core.assistants.evaluation import Evaluation
from talia_core.assistants.ledger import UsageLedger
from talia_core.catalog.services import CatalogService
from talia_core.commerce.cart_service import CartService
from talia_core.commerce.coupon_service import CouponService
from talia_core.commerce.order_service import OrderService
from talia_core.commerce.payment_service import PaymentService
from talia_core.conversations.calls import VoiceCalls
from talia_core.conversations.contact_book import ContactBook
from talia_core.conversations.desk import AgentDesk
from talia_core.conversations.inbox import InboxService
from talia_core.conversations.pipeline import ConversationPipeline
from talia_core.feedback.services import FeedbackService
from talia_core.identity.auth_service import AuthService
from talia_core.identity.recovery import AccountRecovery
from talia_core.identity.user_admin_service import UserAdminService
from talia_core.invitations.media_service import InvitationMediaService
from talia_core.invitations.public import PublicInvitations
from talia_core.invitations.rsvp_services import RsvpService
from talia_core.invitations.services import InvitationService
from talia_core.knowledge.ingestion import Ingestion
from talia_core.knowledge.library import KnowledgeLibrary
from talia_core.knowledge.search import KnowledgeSearch
from talia_core.leads.services import LeadBook
from talia_core.scheduling.services import SchedulingService
from talia_core.shared.jobs import JobRunner


@attrs.frozen
class Talia:
    """The use cases of every context, wired for one settings object: the one list of them.

    Each field names a provider of the container's ``UseCases``; the HTTP app hands each to
    its handlers as the dependency of the same name (``desk: NamedDependency[AgentDesk]``).
    A new use case is a provider there and a line here.
    """

    feedback: FeedbackService
    auth: AuthService
    account_recovery: AccountRecovery
    users: UserAdminService
    catalog: CatalogService
    carts: CartService
    coupons: CouponService
    orders: OrderService
    payments: PaymentService
    pipeline: ConversationPipeline
    desk: AgentDesk
    contact_book: ContactBook
    inbox: InboxService
    job_runner: JobRunner
    assistants: AssistantAdmin
    evaluation: Evaluation
    usage: UsageLedger
    knowledge: KnowledgeLibrary
    ingestion: Ingestion
    scheduling: SchedulingService
    knowledge_search: KnowledgeSearch
    leads: LeadBook
    invitations: InvitationService
    invitation_media: InvitationMediaService
    public_invitations: PublicInvitations
    rsvp: RsvpService
    direct_chat: DirectChat
    voice_calls: VoiceCalls

    @classmethod
    def names(cls) -> list[str]:
        return [field.name for field in attrs.fields(cls)]

    @classmethod
    def of(cls, container: Container) -> Talia:
        use_cases = container.use_cases
        return cls(**{name: getattr(use_cases, name)() for name in cls.names()})


@asynccontextmanager
async def open_talia(settings: Settings | None = None) -> AsyncIterator[Talia]:
    """Open the database and clients, hand over the use cases, close everything on exit."""
    container = build_container(settings or load_settings())
    await open_resources(container)
    try:
        yield Talia.of(container)
    finally:
        await close_resources(container)
