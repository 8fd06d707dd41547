"""In-memory repositories of the commerce context."""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection
from datetime import datetime

from adapters.memory.database import InMemoryRepositoryBundle, InMemoryTable, State, paginate
from talia_core.catalog.model import Plan, Template
from talia_core.commerce.cart import Cart
from talia_core.commerce.coupon import Coupon, CouponRefusal, Redemption
from talia_core.commerce.order import Order, OrderStatus, OrderTransition
from talia_core.commerce.payment_journal import PaymentEntry
from talia_core.commerce.products import Product, ProductKind, ProductRef
from talia_core.commerce.sales import Sale
from talia_core.shared.errors import ConcurrentWrite, Conflict
from talia_core.shared.pagination import Page, PageRequest


class InMemoryProductCatalog:
    """Reads the catalog context's tables, as the SQL adapter reads its tables."""

    def __init__(self, state: Callable[[], State]) -> None:
        self._state = state

    async def find(self, refs: Collection[ProductRef]) -> dict[ProductRef, Product]:
        tables = {ProductKind.PLAN: "plans", ProductKind.TEMPLATE: "templates"}
        found: dict[ProductRef, Product] = {}
        for ref in refs:
            entry: Plan | Template | None = self._state().table(tables[ref.kind]).get(ref.id)
            if entry is not None:
                found[ref] = Product(ref, entry.name, entry.price, entry.active)
        return found


class InMemoryCartRepository(InMemoryTable[Cart]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "carts", "cart")

    async def get_for(self, customer_id: str) -> Cart | None:
        found = self.matching(lambda c: c.customer_id == customer_id)
        return found[0] if found else None

    async def save(self, cart: Cart) -> None:
        if any(c.customer_id == cart.customer_id and c.id != cart.id for c in self.rows.values()):
            raise ConcurrentWrite(f"customer {cart.customer_id} has a cart already")
        self.rows[cart.id] = copy.deepcopy(cart)


class InMemoryCouponRepository(InMemoryTable[Coupon]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "coupons", "coupon")
        self._redemptions = InMemoryRedemptionRepository(state)

    async def add(self, coupon: Coupon) -> None:
        if await self.by_code(coupon.code) is not None:
            raise Conflict(f"a coupon with the code {coupon.code} already exists")
        await super().add(coupon)

    async def by_code(self, code: str) -> Coupon | None:
        found = self.matching(lambda c: c.code == code)
        return found[0] if found else None

    async def update(self, coupon: Coupon) -> None:
        """The terms only, as the SQL adapter: the count stays the stored one."""
        coupon = copy.deepcopy(coupon)
        coupon.redemptions = (await self.get(coupon.id)).redemptions
        await super().update(coupon)

    async def find(self, page: PageRequest, *, active: bool | None) -> Page[Coupon]:
        found = self.matching(lambda c: active is None or c.active is active)
        return paginate(found, page, key=lambda c: (c.created_at, c.id))

    async def take_use(self, redemption: Redemption) -> CouponRefusal | None:
        coupon = await self.get(redemption.coupon_id)
        used = await self._redemptions.live_count(coupon.id, redemption.customer_id)
        refusal = coupon.take_use(used_by_customer=used, at=redemption.redeemed_at)
        if refusal is None:
            await self._redemptions.add(redemption)
            await super().update(coupon)
        return refusal

    async def give_back(self, coupon_id: str, order_id: str, *, at: datetime) -> bool:
        live = self._redemptions.matching(
            lambda r: r.coupon_id == coupon_id and r.order_id == order_id and r.released_at is None
        )
        if not live:
            return False
        coupon = await self.get(coupon_id)
        coupon.give_back(at=at)
        await super().update(coupon)
        live[0].released_at = at
        await self._redemptions.update(live[0])
        return True


class InMemoryRedemptionRepository(InMemoryTable[Redemption]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "coupon_redemptions", "redemption")

    async def add(self, redemption: Redemption) -> None:
        if self.matching(lambda r: r.order_id == redemption.order_id):
            raise Conflict(f"order {redemption.order_id} already redeemed a coupon")
        await super().add(redemption)

    async def live_count(self, coupon_id: str, customer_id: str) -> int:
        return len(
            self.matching(
                lambda r: (
                    r.coupon_id == coupon_id
                    and r.customer_id == customer_id
                    and r.released_at is None
                )
            )
        )


class InMemoryOrderRepository(InMemoryTable[Order]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "orders", "order")

    async def add(self, order: Order) -> None:
        if await self.by_number(order.number) is not None:
            raise Conflict(f"order number {order.number} is taken")
        await super().add(order)

    async def by_number(self, number: int) -> Order | None:
        found = self.matching(lambda o: o.number == number)
        return found[0] if found else None

    async def update(self, order: Order, *transitions: OrderTransition) -> None:
        # The order object already carries its whole history, new transitions included.
        await super().update(order)

    async def find(
        self,
        page: PageRequest,
        *,
        customer_id: str | None = None,
        status: OrderStatus | None = None,
        placed_from: datetime | None = None,
        placed_until: datetime | None = None,
    ) -> Page[Order]:
        def keep(order: Order) -> bool:
            return (
                (customer_id is None or order.customer_id == customer_id)
                and (status is None or order.status is status)
                and (placed_from is None or order.placed_at >= placed_from)
                and (placed_until is None or order.placed_at < placed_until)
            )

        return paginate(self.matching(keep), page, key=lambda o: (o.placed_at, o.number))

    async def pending_placed_before(self, cutoff: datetime, *, limit: int) -> list[str]:
        found = self.matching(lambda o: o.status is OrderStatus.PENDING and o.placed_at < cutoff)
        return [o.id for o in sorted(found, key=lambda o: (o.placed_at, o.number))][:limit]

    async def sales(self, paid_from: datetime, paid_until: datetime) -> list[Sale]:
        found = self.matching(
            lambda o: o.paid_at is not None and paid_from <= o.paid_at < paid_until
        )
        return [
            Sale(paid_at=o.paid_at, status=o.status, total=o.total, discount=o.discount)
            for o in sorted(found, key=lambda o: o.number)
            if o.paid_at is not None
        ]


class InMemoryPaymentJournal(InMemoryTable[PaymentEntry]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "payment_journal", "payment entry")

    async def record(self, entry: PaymentEntry) -> bool:
        if entry.transaction_id is not None and self.matching(
            lambda e: (
                (e.provider, e.transaction_id, e.status)
                == (entry.provider, entry.transaction_id, entry.status)
            )
        ):
            return False
        await self.add(entry)
        return True

    async def find(self, page: PageRequest, *, order_id: str | None) -> Page[PaymentEntry]:
        found = self.matching(lambda e: order_id is None or e.order_id == order_id)
        return paginate(found, page, key=lambda e: (e.received_at, e.id))


class InMemoryCommerceRepositories(InMemoryRepositoryBundle):
    products: InMemoryProductCatalog
    carts: InMemoryCartRepository
    coupons: InMemoryCouponRepository
    redemptions: InMemoryRedemptionRepository
    orders: InMemoryOrderRepository
    payment_journal: InMemoryPaymentJournal

    def bind(self, state: Callable[[], State]) -> None:
        self.products = InMemoryProductCatalog(state)
        self.carts = InMemoryCartRepository(state)
        self.coupons = InMemoryCouponRepository(state)
        self.redemptions = InMemoryRedemptionRepository(state)
        self.orders = InMemoryOrderRepository(state)
        self.payment_journal = InMemoryPaymentJournal(state)
        super().bind(state)
