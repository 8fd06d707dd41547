"""Commerce services over one in-memory database, a clock that stands still and a fake
payment gateway; ``shop`` bundles them with shortcuts (see ``builders``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.catalog.services import CatalogService
from talia_core.commerce.cart_service import CartService
from talia_core.commerce.coupon_service import CouponService
from talia_core.commerce.order_service import OrderService
from talia_core.commerce.payment_service import PaymentService
from talia_core.shared.clock import FakeClock
from tests.unit.commerce.builders import PEN, PENDING_LIFETIME, FakePaymentGateway, Shop

UowFactory = Callable[..., InMemoryUnitOfWork]


@pytest.fixture
def database() -> InMemoryDatabase:
    return InMemoryDatabase()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def uow(database: InMemoryDatabase) -> UowFactory:
    return partial(InMemoryUnitOfWork, database)


@pytest.fixture
def catalog(uow: UowFactory, clock: FakeClock) -> CatalogService:
    return CatalogService(uow, clock, currency=PEN)


@pytest.fixture
def carts(uow: UowFactory, clock: FakeClock) -> CartService:
    return CartService(uow, clock, currency=PEN)


@pytest.fixture
def coupons(uow: UowFactory, clock: FakeClock) -> CouponService:
    return CouponService(uow, clock, currency=PEN)


@pytest.fixture
def gateway() -> FakePaymentGateway:
    return FakePaymentGateway()


@pytest.fixture
def orders(uow: UowFactory, clock: FakeClock, gateway: FakePaymentGateway) -> OrderService:
    return OrderService(
        uow, clock, currency=PEN, pending_lifetime=PENDING_LIFETIME, gateway=gateway
    )


@pytest.fixture
def payments(uow: UowFactory, clock: FakeClock, gateway: FakePaymentGateway) -> PaymentService:
    return PaymentService(uow, clock, gateway)


@pytest.fixture
def shop(
    database: InMemoryDatabase,
    clock: FakeClock,
    catalog: CatalogService,
    carts: CartService,
    coupons: CouponService,
    orders: OrderService,
    payments: PaymentService,
    gateway: FakePaymentGateway,
) -> Shop:
    return Shop(database, clock, catalog, carts, coupons, orders, payments, gateway)
