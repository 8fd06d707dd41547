"""What commerce needs: storage, the catalog's current prices and a payment gateway."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Protocol

from talia_core.commerce.cart import Cart
from talia_core.commerce.coupon import Coupon, CouponRefusal, Redemption
from talia_core.commerce.order import Order, OrderStatus, OrderTransition
from talia_core.commerce.payment import (
    PaymentForm,
    PaymentNotification,
    PaymentRequest,
    RefundReceipt,
    RefundRequest,
)
from talia_core.commerce.payment_journal import PaymentEntry
from talia_core.commerce.products import Product, ProductRef
from talia_core.commerce.sales import Sale
from talia_core.shared.jobs import JobsUnitOfWork
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory


class ProductCatalog(Protocol):
    async def find(self, refs: Collection[ProductRef]) -> dict[ProductRef, Product]:
        """The products that exist among ``refs``, active or not."""
        ...


class CartRepository(Protocol):
    async def get_for(self, customer_id: str) -> Cart | None:
        """The customer's cart; a writing unit holds it locked until the end."""
        ...

    async def save(self, cart: Cart) -> None:
        """Store the cart and exactly its current items."""
        ...


class CouponRepository(Protocol):
    async def add(self, coupon: Coupon) -> None:
        """Raises ``Conflict`` when the code is taken."""
        ...

    async def get(self, coupon_id: str) -> Coupon:
        """Locked until the transaction ends in a writing unit."""
        ...

    async def by_code(self, code: str) -> Coupon | None:
        """Not locked: a checkout reads the terms, then takes its use with ``take_use``."""
        ...

    async def update(self, coupon: Coupon) -> None:
        """Store the coupon's terms; its count of uses changes only through ``take_use`` and
        ``give_back``."""
        ...

    async def find(self, page: PageRequest, *, active: bool | None) -> Page[Coupon]:
        """Newest first."""
        ...

    async def take_use(self, redemption: Redemption) -> CouponRefusal | None:
        """Count one use of the redemption's coupon and store the redemption, unless
        ``Coupon.limit_refusal`` refuses it on the coupon's limits and live uses as they
        stand when the use is taken; refused, no use is counted and nothing is stored.

        However many transactions take uses of one coupon at once, neither limit is ever
        passed: the count is changed by one conditional write whose row lock lasts until
        the transaction ends, so a use case takes it as late as it can."""
        ...

    async def give_back(self, coupon_id: str, order_id: str, *, at: datetime) -> bool:
        """Release the order's live redemption of the coupon and count one use less;
        ``False`` when there is none (never taken, or given back already)."""
        ...


class RedemptionRepository(Protocol):
    async def live_count(self, coupon_id: str, customer_id: str) -> int:
        """Unreleased redemptions of the coupon by the customer, as committed when read."""
        ...


class OrderRepository(Protocol):
    async def add(self, order: Order) -> None:
        """Stores the order, its items and its history."""
        ...

    async def get(self, order_id: str) -> Order:
        """Raises ``NotFound``; locked until the transaction ends in a writing unit."""
        ...

    async def by_number(self, number: int) -> Order | None:
        """Locked like ``get``."""
        ...

    async def update(self, order: Order, *transitions: OrderTransition) -> None:
        """Store the order's state and append ``transitions`` to its history."""
        ...

    async def find(
        self,
        page: PageRequest,
        *,
        customer_id: str | None = None,
        status: OrderStatus | None = None,
        placed_from: datetime | None = None,
        placed_until: datetime | None = None,
    ) -> Page[Order]:
        """Newest first; the bounds are inclusive from, exclusive until."""
        ...

    async def pending_placed_before(self, cutoff: datetime, *, limit: int) -> list[str]:
        """Ids of pending orders placed before ``cutoff``, oldest first."""
        ...

    async def sales(self, paid_from: datetime, paid_until: datetime) -> list[Sale]:
        """Orders paid in the window, whatever became of them since."""
        ...


class PaymentJournal(Protocol):
    async def record(self, entry: PaymentEntry) -> bool:
        """Keep ``entry``; ``False`` (and nothing stored) when the same provider,
        transaction and status is already in the journal. The database's unique key
        decides, so concurrent deliveries of one notification keep exactly one."""
        ...

    async def find(self, page: PageRequest, *, order_id: str | None) -> Page[PaymentEntry]:
        """Newest first."""
        ...


class CommerceUnitOfWork(JobsUnitOfWork, Protocol):
    """Commerce records jobs too: a refund asks the provider from one."""

    @property
    def products(self) -> ProductCatalog: ...

    @property
    def carts(self) -> CartRepository: ...

    @property
    def coupons(self) -> CouponRepository: ...

    @property
    def redemptions(self) -> RedemptionRepository: ...

    @property
    def orders(self) -> OrderRepository: ...

    @property
    def payment_journal(self) -> PaymentJournal: ...


CommerceUnits = UnitOfWorkFactory[CommerceUnitOfWork]


class PaymentGateway(Protocol):
    """A card payment provider: it opens payments, signs what it tells us about them and
    gives money back."""

    @property
    def provider(self) -> str: ...

    async def create_payment(self, request: PaymentRequest) -> PaymentForm:
        """Raises ``ExternalServiceUnavailable`` when the provider cannot be reached and
        ``RuleViolated`` when it refuses the request."""
        ...

    async def refund(self, request: RefundRequest) -> RefundReceipt:
        """Give back ``request.amount`` of the transaction ``request.transaction_id`` (cancel
        it if it was not captured yet). Raises ``ExternalServiceUnavailable`` when the
        provider cannot be reached or its answer cannot be read, and ``RuleViolated`` when
        it refuses (unknown transaction, wrong amount, turned down by the acquirer).

        Idempotent per order (``request.order_reference`` is the key): asked again after an
        attempt that failed on the way back, it answers the refund already given, never a
        second one, so it may be repeated."""
        ...

    def read_notification(self, fields: Mapping[str, str]) -> PaymentNotification:
        """Verify and read a notification's form fields. Raises ``Forbidden`` when the
        signature or its key type is wrong and ``Malformed`` when it cannot be read."""
        ...

    async def check(self) -> None:
        """Raises ``ExternalServiceUnavailable`` unless the provider answers."""
        ...
