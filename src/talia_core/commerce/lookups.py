"""Reads that several commerce use cases share, inside their unit of work."""

from __future__ import annotations

from talia_core.commerce.actor import Actor
from talia_core.commerce.cart import Cart, PricedCart
from talia_core.commerce.order import Order
from talia_core.commerce.ports import CommerceUnitOfWork
from talia_core.shared.errors import NotFound


async def priced(uow: CommerceUnitOfWork, cart: Cart, currency: str) -> PricedCart:
    """The cart at what the catalog says now."""
    products = await uow.products.find({item.ref for item in cart.items})
    return PricedCart.of(cart, products, currency)


async def own_order(uow: CommerceUnitOfWork, actor: Actor, order_id: str) -> Order:
    """Someone else's order is as invisible as one that does not exist."""
    order = await uow.orders.get(order_id)
    if not actor.may_act_for(order.customer_id):
        raise NotFound("order", order_id)
    return order
