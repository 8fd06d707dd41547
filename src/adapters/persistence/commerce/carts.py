"""Carts and their items: one open cart per customer."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.persistence.commerce.tables import cart_items, carts
from adapters.persistence.connection import Transaction, locked
from talia_core.commerce.cart import Cart, CartItem
from talia_core.commerce.products import ProductKind
from talia_core.shared.errors import ConcurrentWrite, Conflict


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
        row = await self._tx.one_or_none(locked(query, self._lock))
        if row is None:
            return None
        # Locked too: on MySQL a plain read sees the snapshot taken at the unit's first read,
        # which may predate the items of a cart another unit just made and committed.
        items_query = (
            cart_items.select()
            .where(cart_items.c.cart_id == row.id)
            .order_by(cart_items.c.position)
        )
        items = (await self._tx.execute(locked(items_query, self._lock))).mappings()
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
        update that one.) A concurrent unit that made the customer's cart first makes the
        insert a ``ConcurrentWrite``: run again, the unit finds that cart."""
        updated = await self._tx.execute(
            carts.update().where(carts.c.id == cart.id).values(updated_at=cart.updated_at)
        )
        if updated.rowcount == 0:
            try:
                await self._tx.execute(
                    carts.insert().values(
                        id=cart.id, customer_id=cart.customer_id, updated_at=cart.updated_at
                    )
                )
            except Conflict as error:
                raise ConcurrentWrite("another request made the customer's cart first") from error
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
