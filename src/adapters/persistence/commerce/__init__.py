"""The commerce context's tables and repositories, bound together by ``CommerceRepositories``.

Locks. In a writing unit of work the rows a use case reads to change are locked
(``FOR UPDATE``) until the transaction ends: the customer's cart, a coupon by id (an admin's
revision), an order (by id or by number; its items and history are not locked, only the
order row). A coupon read by code and ``live_count`` lock nothing: a checkout only looks at
them, then ``take_use`` counts its use with one conditional ``UPDATE`` and counts the
customer's uses again under that row's lock (see ``coupons``). SQLite, which serialises
writers anyway, ignores the clause; reading units lock nothing.

Lists keep their order: cart items and order items by a ``position`` column, an order's
history by time (then by id, a time-ordered UUIDv7).

Orders store ``subtotal_amount`` and ``total_amount`` for reporting (``sales``); they are
derived from the items and the discount and never read back into an ``Order``.

``PaymentJournal.record`` lets the unique key (provider, transaction_id, status) decide:
an insert that does nothing on conflict. SQLAlchemy opens MySQL connections with
``CLIENT_FOUND_ROWS``, so there an upsert that changes nothing still counts one row; the
journal then asks whether the row with the entry's own id is the one stored.
"""

from __future__ import annotations

from adapters.persistence.bundle import RepositoryBundle, bound
from adapters.persistence.commerce.carts import SqlAlchemyCartRepository
from adapters.persistence.commerce.coupons import (
    SqlAlchemyCouponRepository,
    SqlAlchemyRedemptionRepository,
)
from adapters.persistence.commerce.orders import SqlAlchemyOrderRepository
from adapters.persistence.commerce.payment_journal import SqlAlchemyPaymentJournal
from adapters.persistence.commerce.products import SqlAlchemyProductCatalog


class CommerceRepositories(RepositoryBundle):
    products = bound(SqlAlchemyProductCatalog)
    carts = bound(SqlAlchemyCartRepository, locks=True)
    coupons = bound(SqlAlchemyCouponRepository, locks=True)
    redemptions = bound(SqlAlchemyRedemptionRepository)
    orders = bound(SqlAlchemyOrderRepository, locks=True)
    payment_journal = bound(SqlAlchemyPaymentJournal)
