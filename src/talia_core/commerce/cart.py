"""The customer's cart, and the cart priced at what the catalog says now."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import attrs

from talia_core.commerce.products import Line, Product, ProductKind, ProductRef, total_of
from talia_core.shared.errors import NotFound, RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.money import Money

MAX_QUANTITY = 100
MAX_CART_LINES = 50


@attrs.define
class CartItem:
    kind: ProductKind
    product_id: str
    quantity: int
    added_at: datetime
    id: str = attrs.field(factory=new_id)

    @property
    def ref(self) -> ProductRef:
        return ProductRef(self.kind, self.product_id)


def _quantity(quantity: int) -> int:
    if isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise RuleViolated(
            f"quantity must be between 1 and {MAX_QUANTITY}", {"quantity": "out of range"}
        )
    return quantity


@attrs.define
class Cart:
    """One per customer. It holds references and quantities; prices come from the catalog.

    ``updated_at`` is ``None`` only for the empty cart of a customer who never had one.
    """

    customer_id: str
    updated_at: datetime | None
    items: list[CartItem] = attrs.field(factory=list)
    id: str = attrs.field(factory=new_id)

    @classmethod
    def open(cls, customer_id: str, *, at: datetime | None) -> Cart:
        return cls(customer_id=customer_id, updated_at=at)

    @property
    def is_empty(self) -> bool:
        return not self.items

    def add(self, ref: ProductRef, quantity: int, *, at: datetime) -> CartItem:
        """Adding a product already in the cart raises its quantity."""
        _quantity(quantity)
        for item in self.items:
            if item.ref == ref:
                item.quantity = _quantity(item.quantity + quantity)
                self.updated_at = at
                return item
        if len(self.items) >= MAX_CART_LINES:
            raise RuleViolated(
                f"a cart holds at most {MAX_CART_LINES} different products", {"items": "too many"}
            )
        item = CartItem(kind=ref.kind, product_id=ref.id, quantity=quantity, added_at=at)
        self.items.append(item)
        self.updated_at = at
        return item

    def remove(self, item_id: str, *, at: datetime) -> None:
        kept = [item for item in self.items if item.id != item_id]
        if len(kept) == len(self.items):
            raise NotFound("cart item", item_id)
        self.items = kept
        self.updated_at = at

    def clear(self, *, at: datetime) -> None:
        self.items = []
        self.updated_at = at


@attrs.frozen
class CartLine:
    """An item of the cart with what the catalog says of it now (``None``: it is gone)."""

    item: CartItem
    product: Product | None

    @property
    def available(self) -> bool:
        return self.product is not None and self.product.active

    @property
    def line(self) -> Line | None:
        if self.product is None or not self.product.active:
            return None
        return Line(self.item.ref, self.product.name, self.product.price, self.item.quantity)


@attrs.frozen
class PricedCart:
    cart: Cart
    lines: list[CartLine]
    currency: str

    @classmethod
    def of(cls, cart: Cart, products: Mapping[ProductRef, Product], currency: str) -> PricedCart:
        return cls(cart, [CartLine(i, products.get(i.ref)) for i in cart.items], currency)

    @property
    def subtotal(self) -> Money:
        """What the available items cost now."""
        return total_of((line for cl in self.lines if (line := cl.line) is not None), self.currency)

    def lines_to_buy(self) -> list[Line]:
        """Every line priced, or a refusal naming what can no longer be bought."""
        if not self.lines:
            raise RuleViolated("the cart is empty", {"cart": "empty"})
        gone = [str(cl.item.ref) for cl in self.lines if not cl.available]
        if gone:
            raise RuleViolated(
                f"no longer for sale, remove from the cart: {', '.join(gone)}",
                {"items": "unavailable"},
            )
        lines = [line for cl in self.lines if (line := cl.line) is not None]
        for line in lines:
            if line.unit_price.currency != self.currency:
                raise RuleViolated(f"{line.ref} is not priced in {self.currency}")
        return lines
