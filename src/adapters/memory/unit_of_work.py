"""The in-memory unit of work: it satisfies every context's unit-of-work port."""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Self

from adapters.memory.catalog import InMemoryPlanRepository, InMemoryTemplateRepository
from adapters.memory.commerce import (
    InMemoryCartRepository,
    InMemoryCouponRepository,
    InMemoryOrderRepository,
    InMemoryPaymentJournal,
    InMemoryProductCatalog,
    InMemoryRedemptionRepository,
)
from adapters.memory.conversations import (
    InMemoryContactRepository,
    InMemoryConversationRepository,
    InMemoryMessageRepository,
)
from adapters.memory.database import InMemoryDatabase, State
from adapters.memory.feedback import (
    InMemoryClaimRepository,
    InMemoryContactMessageRepository,
    InMemoryTestimonialRepository,
)
from adapters.memory.identity import (
    InMemoryAuditEventRepository,
    InMemoryRefreshTokenRepository,
    InMemorySessionRepository,
    InMemoryUserRepository,
)
from adapters.memory.jobs import InMemoryJobStore
from adapters.memory.kernel import InMemoryOutbox, InMemorySequences


class InMemoryUnitOfWork:
    def __init__(self, database: InMemoryDatabase, *, read_only: bool = False) -> None:
        self._database = database
        self._read_only = read_only
        self._working: State | None = None
        self.sequences = InMemorySequences(self._state)
        self.outbox = InMemoryOutbox(self._state)
        self.contact_messages = InMemoryContactMessageRepository(self._state)
        self.claims = InMemoryClaimRepository(self._state)
        self.testimonials = InMemoryTestimonialRepository(self._state)
        self.users = InMemoryUserRepository(self._state)
        self.sessions = InMemorySessionRepository(self._state)
        self.refresh_tokens = InMemoryRefreshTokenRepository(self._state)
        self.audit_events = InMemoryAuditEventRepository(self._state)
        self.plans = InMemoryPlanRepository(self._state)
        self.templates = InMemoryTemplateRepository(self._state)
        self.products = InMemoryProductCatalog(self._state)
        self.carts = InMemoryCartRepository(self._state)
        self.coupons = InMemoryCouponRepository(self._state)
        self.redemptions = InMemoryRedemptionRepository(self._state)
        self.orders = InMemoryOrderRepository(self._state)
        self.payment_journal = InMemoryPaymentJournal(self._state)
        self.contacts = InMemoryContactRepository(self._state)
        self.conversations = InMemoryConversationRepository(self._state)
        self.messages = InMemoryMessageRepository(self._state)
        self.jobs = InMemoryJobStore(self._state)

    def _state(self) -> State:
        if self._working is None:
            raise RuntimeError("the unit of work is used outside its 'async with' block")
        return self._working

    async def __aenter__(self) -> Self:
        if self._read_only:
            # Committed state is replaced on commit, never changed in place: reading it is safe.
            self._working = self._database.committed
            return self
        await self._database.lock.acquire()
        self._working = copy.deepcopy(self._database.committed)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None
        if not self._read_only:
            self._database.lock.release()

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self._database.committed = copy.deepcopy(self._state())
