"""Tables, row mappers and repositories of the commerce context.

Locks. In a writing unit of work the rows a use case reads to change are locked
(``FOR UPDATE``) until the transaction ends: the customer's cart, a coupon (by id or by
code), an order (by id or by number; its items and history are not locked, only the order
row), and the live redemptions ``live_count`` counts. The coupon row is what serialises
checkouts that use one coupon; reading the redemptions with a locking read as well means
the count is of what is committed now, not of the snapshot MySQL and MariaDB keep under
REPEATABLE READ from the transaction's first plain read. PostgreSQL refuses ``FOR UPDATE``
beside an aggregate, so the rows are counted here. SQLite, which serialises writers
anyway, ignores the clause; reading units lock nothing.

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

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from adapters.persistence.catalog import plans, templates
from adapters.persistence.connection import Transaction
from adapters.persistence.mapping import money, money_columns, money_values, optional_money
from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from talia_core.commerce.model import (
    Cart,
    CartItem,
    Coupon,
    CouponKind,
    NotificationOutcome,
    Order,
    OrderItem,
    OrderStatus,
    OrderTransition,
    PaymentEntry,
    Product,
    ProductKind,
    ProductRef,
    Redemption,
    Sale,
)
from talia_core.shared.errors import NotFound
from talia_core.shared.money import Money
from talia_core.shared.pagination import Page, PageRequest

carts = sa.Table(
    "carts",
    metadata,
    id_column(primary_key=True),
    id_column("customer_id", nullable=False, unique=True),
    sa.Column("updated_at", UtcDateTime),
)

cart_items = sa.Table(
    "cart_items",
    metadata,
    id_column(primary_key=True),
    id_column("cart_id", nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    id_column("product_id", nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("added_at", UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(["cart_id"], ["carts.id"], ondelete="CASCADE"),
    sa.UniqueConstraint("cart_id", "kind", "product_id"),
)

coupons = sa.Table(
    "coupons",
    metadata,
    id_column(primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("percent_off_bp", sa.Integer),
    *money_columns("amount_off", nullable=True),
    *money_columns("minimum_order", nullable=True),
    sa.Column("valid_from", UtcDateTime),
    sa.Column("valid_until", UtcDateTime),
    sa.Column("max_redemptions", sa.Integer),
    sa.Column("max_per_customer", sa.Integer),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("applies_to", sa.JSON, nullable=False),
    sa.Column("redemptions", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False, index=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.CheckConstraint(
        "redemptions >= 0 AND (max_redemptions IS NULL OR redemptions <= max_redemptions)",
        name="redemptions_within_limit",
    ),
)

coupon_redemptions = sa.Table(
    "coupon_redemptions",
    metadata,
    id_column(primary_key=True),
    id_column("coupon_id", nullable=False),
    id_column("customer_id", nullable=False),
    id_column("order_id", nullable=False, unique=True),
    sa.Column("redeemed_at", UtcDateTime, nullable=False),
    sa.Column("released_at", UtcDateTime),
    sa.ForeignKeyConstraint(["coupon_id"], ["coupons.id"]),
    sa.Index("ix_coupon_redemptions_coupon_id_customer_id", "coupon_id", "customer_id"),
)

orders = sa.Table(
    "orders",
    metadata,
    id_column(primary_key=True),
    sa.Column("number", sa.BigInteger, nullable=False, unique=True),
    id_column("customer_id", nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("subtotal_amount", sa.BigInteger, nullable=False),
    sa.Column("discount_amount", sa.BigInteger, nullable=False),
    sa.Column("total_amount", sa.BigInteger, nullable=False),
    id_column("coupon_id"),
    sa.Column("coupon_code", sa.String(32)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("placed_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("paid_at", UtcDateTime, index=True),
    sa.Column("payment_reference", sa.String(64)),
    sa.Column("review_reason", sa.String(500)),
    # A customer's orders newest first; the pending ones oldest first (expiry).
    sa.Index("ix_orders_customer_id_placed_at", "customer_id", "placed_at"),
    sa.Index("ix_orders_status_placed_at", "status", "placed_at"),
)

order_items = sa.Table(
    "order_items",
    metadata,
    id_column("order_id", nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    id_column("product_id", nullable=False),
    sa.Column("name", sa.String(120), nullable=False),
    *money_columns("unit_price"),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("order_id", "position"),
    sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
)

order_transitions = sa.Table(
    "order_transitions",
    metadata,
    id_column(primary_key=True),
    id_column("order_id", nullable=False),
    sa.Column("from_status", sa.String(16)),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("note", sa.String(500)),
    sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
    sa.Index("ix_order_transitions_order_id_at", "order_id", "at"),
)

payment_journal = sa.Table(
    "payment_journal",
    metadata,
    id_column(primary_key=True),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False, index=True),
    sa.Column("detail", sa.Text),
    id_column("order_id", index=True),
    sa.Column("order_reference", sa.String(64)),
    sa.Column("transaction_id", sa.String(64)),
    sa.Column("status", sa.String(32)),
    *money_columns("amount", nullable=True),
    # NULLs are distinct: rejected notifications (no transaction) are all kept.
    sa.UniqueConstraint("provider", "transaction_id", "status"),
)


def _locked(query: sa.Select[Any], lock: bool) -> sa.Select[Any]:
    return query.with_for_update() if lock else query


def _mysql(tx: Transaction) -> bool:
    return tx.dialect in ("mysql", "mariadb")


def _insert(tx: Transaction, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """The insert that takes ``ON CONFLICT`` on PostgreSQL and SQLite."""
    if tx.dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


# --------------------------------------------------------------------------------- products


class SqlAlchemyProductCatalog:
    """Reads the catalog context's tables: one query per kind of product asked for."""

    _TABLES = {ProductKind.PLAN: plans, ProductKind.TEMPLATE: templates}

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def find(self, refs: Collection[ProductRef]) -> dict[ProductRef, Product]:
        found: dict[ProductRef, Product] = {}
        for kind, table in self._TABLES.items():
            ids = sorted({ref.id for ref in refs if ref.kind is kind})
            if not ids:
                continue
            query = sa.select(
                table.c.id,
                table.c.name,
                table.c.price_amount,
                table.c.price_currency,
                table.c.active,
            ).where(table.c.id.in_(ids))
            for row in (await self._tx.execute(query)).mappings():
                ref = ProductRef(kind, row["id"])
                found[ref] = Product(ref, row["name"], money(row, "price"), row["active"])
        return found


# ------------------------------------------------------------------------------------ carts


def _cart_item(row: sa.RowMapping) -> CartItem:
    return CartItem(
        id=row["id"],
        kind=ProductKind(row["kind"]),
        product_id=row["product_id"],
        quantity=row["quantity"],
        added_at=row["added_at"],
    )


class SqlAlchemyCartRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def get_for(self, customer_id: str) -> Cart | None:
        query = carts.select().where(carts.c.customer_id == customer_id)
        row = await self._tx.one_or_none(_locked(query, self._lock))
        if row is None:
            return None
        items = (
            await self._tx.execute(
                cart_items.select()
                .where(cart_items.c.cart_id == row.id)
                .order_by(cart_items.c.position)
            )
        ).mappings()
        return Cart(
            id=row.id,
            customer_id=row.customer_id,
            updated_at=row.updated_at,
            items=[_cart_item(item) for item in items],
        )

    async def save(self, cart: Cart) -> None:
        """Update the cart's row, or insert it when there is none: a cart is saved by the
        unit that read it locked, or made it. (An upsert would not do on MySQL, whose
        ``ON DUPLICATE KEY`` also fires on another cart of the same customer and would
        update that one; a plain insert refuses it as a ``Conflict`` everywhere.)"""
        updated = await self._tx.execute(
            carts.update().where(carts.c.id == cart.id).values(updated_at=cart.updated_at)
        )
        if updated.rowcount == 0:
            await self._tx.execute(
                carts.insert().values(
                    id=cart.id, customer_id=cart.customer_id, updated_at=cart.updated_at
                )
            )
        await self._tx.execute(cart_items.delete().where(cart_items.c.cart_id == cart.id))
        if cart.items:
            await self._tx.execute(
                cart_items.insert(),
                [
                    {
                        "id": item.id,
                        "cart_id": cart.id,
                        "position": position,
                        "kind": item.kind.value,
                        "product_id": item.product_id,
                        "quantity": item.quantity,
                        "added_at": item.added_at,
                    }
                    for position, item in enumerate(cart.items)
                ],
            )


# ---------------------------------------------------------------------------------- coupons


def _coupon_terms(coupon: Coupon) -> dict[str, Any]:
    """The columns a coupon's life changes (see ``Coupon.revise``, ``redeem``, ``give_back``)."""
    return {
        **money_values("minimum_order", coupon.minimum_order),
        "valid_until": coupon.valid_until,
        "max_redemptions": coupon.max_redemptions,
        "max_per_customer": coupon.max_per_customer,
        "active": coupon.active,
        "redemptions": coupon.redemptions,
        "updated_at": coupon.updated_at,
    }


def _coupon_row(coupon: Coupon) -> dict[str, Any]:
    return {
        "id": coupon.id,
        "code": coupon.code,
        "kind": coupon.kind.value,
        "percent_off_bp": coupon.percent_off_bp,
        **money_values("amount_off", coupon.amount_off),
        "valid_from": coupon.valid_from,
        "applies_to": [str(ref) for ref in coupon.applies_to],
        "created_at": coupon.created_at,
        **_coupon_terms(coupon),
    }


def _coupon(row: sa.RowMapping) -> Coupon:
    return Coupon(
        id=row["id"],
        code=row["code"],
        kind=CouponKind(row["kind"]),
        percent_off_bp=row["percent_off_bp"],
        amount_off=optional_money(row, "amount_off"),
        minimum_order=optional_money(row, "minimum_order"),
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        max_redemptions=row["max_redemptions"],
        max_per_customer=row["max_per_customer"],
        active=row["active"],
        applies_to=[ProductRef.parse(text) for text in row["applies_to"]],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        redemptions=row["redemptions"],
    )


class SqlAlchemyCouponRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, coupon: Coupon) -> None:
        await self._tx.execute(coupons.insert().values(_coupon_row(coupon)))

    async def get(self, coupon_id: str) -> Coupon:
        found = await self._one(coupons.c.id == coupon_id)
        if found is None:
            raise NotFound("coupon", coupon_id)
        return found

    async def by_code(self, code: str) -> Coupon | None:
        return await self._one(coupons.c.code == code)

    async def _one(self, condition: sa.ColumnElement[bool]) -> Coupon | None:
        row = await self._tx.one_or_none(_locked(coupons.select().where(condition), self._lock))
        return None if row is None else _coupon(row._mapping)

    async def update(self, coupon: Coupon) -> None:
        await self._tx.execute(
            coupons.update().where(coupons.c.id == coupon.id).values(_coupon_terms(coupon))
        )

    async def find(self, page: PageRequest, *, active: bool | None) -> Page[Coupon]:
        query = coupons.select()
        if active is not None:
            query = query.where(coupons.c.active.is_(active))
        order = [coupons.c.created_at.desc(), coupons.c.id.desc()]
        return await self._tx.page(query, page, order, _coupon)


def _redemption(row: sa.RowMapping) -> Redemption:
    return Redemption(
        id=row["id"],
        coupon_id=row["coupon_id"],
        customer_id=row["customer_id"],
        order_id=row["order_id"],
        redeemed_at=row["redeemed_at"],
        released_at=row["released_at"],
    )


class SqlAlchemyRedemptionRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, redemption: Redemption) -> None:
        await self._tx.execute(
            coupon_redemptions.insert().values(
                id=redemption.id,
                coupon_id=redemption.coupon_id,
                customer_id=redemption.customer_id,
                order_id=redemption.order_id,
                redeemed_at=redemption.redeemed_at,
                released_at=redemption.released_at,
            )
        )

    async def live_count(self, coupon_id: str, customer_id: str) -> int:
        query = sa.select(coupon_redemptions.c.id).where(
            coupon_redemptions.c.coupon_id == coupon_id,
            coupon_redemptions.c.customer_id == customer_id,
            coupon_redemptions.c.released_at.is_(None),
        )
        return len((await self._tx.execute(_locked(query, self._lock))).all())

    async def for_order(self, order_id: str) -> Redemption | None:
        """Not locked: only a use case holding the order's lock changes its redemption."""
        row = await self._tx.one_or_none(
            coupon_redemptions.select().where(coupon_redemptions.c.order_id == order_id)
        )
        return None if row is None else _redemption(row._mapping)

    async def update(self, redemption: Redemption) -> None:
        await self._tx.execute(
            coupon_redemptions.update()
            .where(coupon_redemptions.c.id == redemption.id)
            .values(released_at=redemption.released_at)
        )


# ----------------------------------------------------------------------------------- orders


def _order_state(order: Order) -> dict[str, Any]:
    """The columns an order's life changes (see ``Order._move``, ``pay``, ``flag_for_review``)."""
    return {
        "status": order.status.value,
        "updated_at": order.updated_at,
        "paid_at": order.paid_at,
        "payment_reference": order.payment_reference,
        "review_reason": order.review_reason,
    }


def _order_row(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "number": order.number,
        "customer_id": order.customer_id,
        "currency": order.currency,
        "subtotal_amount": order.subtotal.amount,
        "discount_amount": order.discount.amount,
        "total_amount": order.total.amount,
        "coupon_id": order.coupon_id,
        "coupon_code": order.coupon_code,
        "placed_at": order.placed_at,
        **_order_state(order),
    }


def _bare_order(row: sa.RowMapping) -> Order:
    """The order a row holds, before its items and history are read."""
    return Order(
        id=row["id"],
        number=row["number"],
        customer_id=row["customer_id"],
        currency=row["currency"],
        items=[],
        discount=Money(int(row["discount_amount"]), row["currency"]),
        coupon_id=row["coupon_id"],
        coupon_code=row["coupon_code"],
        status=OrderStatus(row["status"]),
        placed_at=row["placed_at"],
        updated_at=row["updated_at"],
        paid_at=row["paid_at"],
        payment_reference=row["payment_reference"],
        review_reason=row["review_reason"],
    )


def _item_rows(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "order_id": order.id,
            "position": position,
            "kind": item.kind.value,
            "product_id": item.product_id,
            "name": item.name,
            **money_values("unit_price", item.unit_price),
            "quantity": item.quantity,
        }
        for position, item in enumerate(order.items)
    ]


def _item(row: sa.RowMapping) -> OrderItem:
    return OrderItem(
        kind=ProductKind(row["kind"]),
        product_id=row["product_id"],
        name=row["name"],
        unit_price=money(row, "unit_price"),
        quantity=row["quantity"],
    )


def _transition_row(transition: OrderTransition) -> dict[str, Any]:
    return {
        "id": transition.id,
        "order_id": transition.order_id,
        "from_status": None if transition.from_status is None else transition.from_status.value,
        "to_status": transition.to_status.value,
        "at": transition.at,
        "actor": transition.actor,
        "note": transition.note,
    }


def _transition(row: sa.RowMapping) -> OrderTransition:
    return OrderTransition(
        id=row["id"],
        order_id=row["order_id"],
        from_status=None if row["from_status"] is None else OrderStatus(row["from_status"]),
        to_status=OrderStatus(row["to_status"]),
        at=row["at"],
        actor=row["actor"],
        note=row["note"],
    )


class SqlAlchemyOrderRepository:
    def __init__(self, tx: Transaction, *, lock: bool = False) -> None:
        self._tx = tx
        self._lock = lock

    async def add(self, order: Order) -> None:
        await self._tx.execute(orders.insert().values(_order_row(order)))
        if order.items:
            await self._tx.execute(order_items.insert(), _item_rows(order))
        await self._append(order.history)

    async def get(self, order_id: str) -> Order:
        found = await self._one(orders.c.id == order_id)
        if found is None:
            raise NotFound("order", order_id)
        return found

    async def by_number(self, number: int) -> Order | None:
        return await self._one(orders.c.number == number)

    async def update(self, order: Order, *transitions: OrderTransition) -> None:
        await self._tx.execute(
            orders.update().where(orders.c.id == order.id).values(_order_state(order))
        )
        await self._append(transitions)

    async def find(
        self,
        page: PageRequest,
        *,
        customer_id: str | None = None,
        status: OrderStatus | None = None,
        placed_from: datetime | None = None,
        placed_until: datetime | None = None,
    ) -> Page[Order]:
        query = orders.select()
        if customer_id is not None:
            query = query.where(orders.c.customer_id == customer_id)
        if status is not None:
            query = query.where(orders.c.status == status.value)
        if placed_from is not None:
            query = query.where(orders.c.placed_at >= placed_from)
        if placed_until is not None:
            query = query.where(orders.c.placed_at < placed_until)
        order = [orders.c.placed_at.desc(), orders.c.number.desc()]
        found = await self._tx.page(query, page, order, _bare_order)
        await self._complete(found.items)
        return found

    async def pending_placed_before(self, cutoff: datetime, *, limit: int) -> list[str]:
        query = (
            sa.select(orders.c.id)
            .where(orders.c.status == OrderStatus.PENDING.value, orders.c.placed_at < cutoff)
            .order_by(orders.c.placed_at, orders.c.number)
            .limit(limit)
        )
        return list((await self._tx.execute(query)).scalars())

    async def sales(self, paid_from: datetime, paid_until: datetime) -> list[Sale]:
        query = (
            sa.select(
                orders.c.paid_at,
                orders.c.status,
                orders.c.currency,
                orders.c.total_amount,
                orders.c.discount_amount,
            )
            .where(orders.c.paid_at >= paid_from, orders.c.paid_at < paid_until)
            .order_by(orders.c.number)
        )
        return [
            Sale(
                paid_at=row["paid_at"],
                status=OrderStatus(row["status"]),
                total=Money(int(row["total_amount"]), row["currency"]),
                discount=Money(int(row["discount_amount"]), row["currency"]),
            )
            for row in (await self._tx.execute(query)).mappings()
        ]

    async def _one(self, condition: sa.ColumnElement[bool]) -> Order | None:
        row = await self._tx.one_or_none(_locked(orders.select().where(condition), self._lock))
        if row is None:
            return None
        order = _bare_order(row._mapping)
        await self._complete([order])
        return order

    async def _complete(self, found: Sequence[Order]) -> None:
        """Read the items (by position) and history (by time) of ``found``: two queries."""
        if not found:
            return
        by_id = {order.id: order for order in found}
        items = (
            order_items.select()
            .where(order_items.c.order_id.in_(by_id))
            .order_by(order_items.c.order_id, order_items.c.position)
        )
        for row in (await self._tx.execute(items)).mappings():
            by_id[row["order_id"]].items.append(_item(row))
        history = (
            order_transitions.select()
            .where(order_transitions.c.order_id.in_(by_id))
            .order_by(order_transitions.c.at, order_transitions.c.id)
        )
        for row in (await self._tx.execute(history)).mappings():
            by_id[row["order_id"]].history.append(_transition(row))

    async def _append(self, transitions: Sequence[OrderTransition]) -> None:
        if transitions:
            await self._tx.execute(
                order_transitions.insert(), [_transition_row(t) for t in transitions]
            )


# --------------------------------------------------------------------------- payment journal


def _entry_row(entry: PaymentEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "provider": entry.provider,
        "outcome": entry.outcome.value,
        "received_at": entry.received_at,
        "detail": entry.detail,
        "order_id": entry.order_id,
        "order_reference": entry.order_reference,
        "transaction_id": entry.transaction_id,
        "status": entry.status,
        **money_values("amount", entry.amount),
    }


def _entry(row: sa.RowMapping) -> PaymentEntry:
    return PaymentEntry(
        id=row["id"],
        provider=row["provider"],
        outcome=NotificationOutcome(row["outcome"]),
        received_at=row["received_at"],
        detail=row["detail"],
        order_id=row["order_id"],
        order_reference=row["order_reference"],
        transaction_id=row["transaction_id"],
        status=row["status"],
        amount=optional_money(row, "amount"),
    )


class SqlAlchemyPaymentJournal:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def record(self, entry: PaymentEntry) -> bool:
        values = _entry_row(entry)
        if _mysql(self._tx):
            upsert = mysql.insert(payment_journal).values(values)
            await self._tx.execute(upsert.on_duplicate_key_update(id=payment_journal.c.id))
            mine = sa.select(payment_journal.c.id).where(payment_journal.c.id == entry.id)
            return await self._tx.one_or_none(mine) is not None
        insert = (
            _insert(self._tx, payment_journal)
            .values(values)
            .on_conflict_do_nothing(
                index_elements=[
                    payment_journal.c.provider,
                    payment_journal.c.transaction_id,
                    payment_journal.c.status,
                ]
            )
        )
        return (await self._tx.execute(insert)).rowcount == 1

    async def find(self, page: PageRequest, *, order_id: str | None) -> Page[PaymentEntry]:
        query = payment_journal.select()
        if order_id is not None:
            query = query.where(payment_journal.c.order_id == order_id)
        order = [payment_journal.c.received_at.desc(), payment_journal.c.id.desc()]
        return await self._tx.page(query, page, order, _entry)
