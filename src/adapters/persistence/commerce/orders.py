"""Orders with their items and history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from adapters.persistence.commerce.tables import order_items, order_transitions, orders
from adapters.persistence.connection import Transaction, locked
from adapters.persistence.mapping import money, money_values
from talia_core.commerce.order import Order, OrderItem, OrderStatus, OrderTransition
from talia_core.commerce.products import ProductKind
from talia_core.commerce.sales import Sale
from talia_core.shared.errors import NotFound
from talia_core.shared.money import Money
from talia_core.shared.pagination import Page, PageRequest


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
        """On PostgreSQL one statement stores the order, its items and its history (the
        order's insert and the items' as common table expressions: the foreign keys are
        checked at the statement's end), one trip to the server where checkout takes the
        order number and holds it until the commit."""
        order_row = orders.insert().values(_order_row(order))
        if self._tx.dialect == "postgresql" and order.items and order.history:
            together = (
                order_transitions.insert()
                .values([_transition_row(t) for t in order.history])
                .add_cte(order_row.cte("placed_order"))
                .add_cte(order_items.insert().values(_item_rows(order)).cte("placed_items"))
            )
            await self._tx.execute(together)
            return
        await self._tx.execute(order_row)
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
        row = await self._tx.one_or_none(locked(orders.select().where(condition), self._lock))
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
