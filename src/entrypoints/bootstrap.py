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
from talia_core.catalog.services import CatalogService
from talia_core.commerce.services import CartService, CouponService, OrderService, PaymentService
from talia_core.conversations.services import ConversationService, InboxService
from talia_core.feedback.services import FeedbackService
from talia_core.identity.services import AuthService, UserAdminService
from talia_core.shared.jobs import JobRunner


@attrs.frozen
class Talia:
    """The use cases of every context, wired for one settings object."""

    feedback: FeedbackService
    auth: AuthService
    users: UserAdminService
    catalog: CatalogService
    carts: CartService
    coupons: CouponService
    orders: OrderService
    payments: PaymentService
    conversations: ConversationService
    inbox: InboxService
    jobs: JobRunner

    @classmethod
    def of(cls, container: Container) -> Talia:
        use_cases = container.use_cases
        return cls(
            feedback=use_cases.feedback(),
            auth=use_cases.auth(),
            users=use_cases.users(),
            catalog=use_cases.catalog(),
            carts=use_cases.carts(),
            coupons=use_cases.coupons(),
            orders=use_cases.orders(),
            payments=use_cases.payments(),
            conversations=use_cases.conversations(),
            inbox=use_cases.inbox(),
            jobs=use_cases.job_runner(),
        )


@asynccontextmanager
async def open_talia(settings: Settings | None = None) -> AsyncIterator[Talia]:
    """Open the database and clients, hand over the use cases, close everything on exit."""
    container = build_container(settings or load_settings())
    await open_resources(container)
    try:
        yield Talia.of(container)
    finally:
        await close_resources(container)
