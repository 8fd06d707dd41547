"""The customer's cart: what it holds, priced at today's catalog prices."""

from __future__ import annotations

from talia_core.commerce.cart import Cart, PricedCart
from talia_core.commerce.lookups import priced
from talia_core.commerce.ports import CommerceUnits
from talia_core.commerce.products import ProductRef
from talia_core.shared.clock import Clock
from talia_core.shared.errors import NotFound, RuleViolated
from talia_core.shared.transactions import Backoff, no_retry, retrying


class CartService:
    """Changes to a cart run again when the database gives them up for a concurrent one
    (two requests making a customer's first cart): they only write to the database."""

    def __init__(
        self, uow: CommerceUnits, clock: Clock, *, currency: str, backoff: Backoff = no_retry
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._currency = currency
        self._backoff = backoff

    async def view(self, customer_id: str) -> PricedCart:
        async with self._uow(read_only=True) as uow:
            cart = await uow.carts.get_for(customer_id) or Cart.open(customer_id, at=None)
            return await priced(uow, cart, self._currency)

    async def add_item(self, customer_id: str, ref: ProductRef, quantity: int) -> PricedCart:
        return await retrying(lambda: self._add_item(customer_id, ref, quantity), self._backoff)

    async def remove_item(self, customer_id: str, item_id: str) -> PricedCart:
        return await retrying(lambda: self._remove_item(customer_id, item_id), self._backoff)

    async def _add_item(self, customer_id: str, ref: ProductRef, quantity: int) -> PricedCart:
        now = self._clock.now()
        async with self._uow() as uow:
            product = (await uow.products.find([ref])).get(ref)
            if product is None or not product.active:
                raise RuleViolated(
                    f"there is no {ref.kind.value} {ref.id!r} for sale",
                    {f"{ref.kind.value}_id": "unknown"},
                )
            cart = await uow.carts.get_for(customer_id) or Cart.open(customer_id, at=now)
            cart.add(ref, quantity, at=now)
            await uow.carts.save(cart)
            cart_now = await priced(uow, cart, self._currency)
            await uow.commit()
        return cart_now

    async def _remove_item(self, customer_id: str, item_id: str) -> PricedCart:
        now = self._clock.now()
        async with self._uow() as uow:
            cart = await uow.carts.get_for(customer_id)
            if cart is None:
                raise NotFound("cart item", item_id)
            cart.remove(item_id, at=now)
            await uow.carts.save(cart)
            cart_now = await priced(uow, cart, self._currency)
            await uow.commit()
        return cart_now
