"""Commerce routes: the customer's cart, coupon checks, checkout and orders; the admin's
coupons, orders, refunds and sales summary."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter
from pydantic import Field, model_validator

from entrypoints.http.auth import admin_only, customer_or_admin
from entrypoints.http.errors import problems
from entrypoints.http.schemas import (
    PRINTABLE,
    Id,
    JsonInt,
    Limit,
    MoneyIn,
    MoneyOut,
    Offset,
    Out,
    PageOut,
    Schema,
    money_in,
    page_out,
    page_request,
)
from talia_core.commerce.actor import Actor
from talia_core.commerce.cart import PricedCart
from talia_core.commerce.cart_service import CartService
from talia_core.commerce.coupon import REFUSAL_TEXT, Coupon, CouponKind, CouponRefusal
from talia_core.commerce.coupon_service import CouponService, CouponTerms
from talia_core.commerce.order import Order, OrderStatus
from talia_core.commerce.order_service import MAX_REFUND_NOTE, OrderService
from talia_core.commerce.products import ProductKind, ProductRef

# ------------------------------------------------------------------------------- schemas

CouponCode = Annotated[str, Field(min_length=1, max_length=64, pattern=PRINTABLE)]


class CartItemIn(Schema):
    """Exactly one of ``plan_id`` and ``template_id``."""

    plan_id: str | None = Field(None, max_length=36, pattern=PRINTABLE)
    template_id: str | None = Field(None, max_length=36, pattern=PRINTABLE)
    quantity: JsonInt = Field(1, ge=1, le=100)

    @model_validator(mode="after")
    def _one_product(self) -> CartItemIn:
        if (self.plan_id is None) == (self.template_id is None):
            raise ValueError("send exactly one of plan_id and template_id")
        return self

    def ref(self) -> ProductRef:
        if self.plan_id is not None:
            return ProductRef(ProductKind.PLAN, self.plan_id)
        assert self.template_id is not None
        return ProductRef(ProductKind.TEMPLATE, self.template_id)


class CartLineOut(Out):
    id: str
    kind: ProductKind
    product_id: str
    name: str | None
    unit_price: MoneyOut | None
    quantity: int
    line_total: MoneyOut | None
    available: bool


class CartOut(Out):
    items: list[CartLineOut]
    subtotal: MoneyOut
    updated_at: datetime | None

    @classmethod
    def of(cls, priced: PricedCart) -> CartOut:
        items = []
        for cart_line in priced.lines:
            line = cart_line.line
            items.append(
                CartLineOut(
                    id=cart_line.item.id,
                    kind=cart_line.item.kind,
                    product_id=cart_line.item.product_id,
                    name=cart_line.product.name if cart_line.product else None,
                    unit_price=MoneyOut.model_validate(line.unit_price) if line else None,
                    quantity=cart_line.item.quantity,
                    line_total=MoneyOut.model_validate(line.total) if line else None,
                    available=cart_line.available,
                )
            )
        return cls(
            items=items,
            subtotal=MoneyOut.model_validate(priced.subtotal),
            updated_at=priced.cart.updated_at,
        )


class CouponCheckIn(Schema):
    code: CouponCode


class CouponCheckOut(Out):
    code: str
    valid: bool
    reason: CouponRefusal | None = Field(description="Why it cannot be used, when it cannot.")
    message: str | None
    discount: MoneyOut
    subtotal: MoneyOut


class ProductRefIn(Schema):
    kind: ProductKind
    id: str = Field(min_length=1, max_length=36, pattern=PRINTABLE)


class CouponIn(Schema):
    code: str = Field(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]+$")
    kind: CouponKind
    percent_off: JsonInt | None = Field(None, ge=1, le=100, description="Whole percent.")
    amount_off: MoneyIn | None = None
    minimum_order: MoneyIn | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_redemptions: JsonInt | None = Field(None, ge=1, le=1_000_000)
    max_per_customer: JsonInt | None = Field(None, ge=1, le=1_000_000)
    active: bool = True
    applies_to: list[ProductRefIn] = Field(default_factory=list, max_length=100)


class CouponPatch(Schema):
    active: bool | None = None
    valid_until: datetime | None = None
    max_redemptions: JsonInt | None = Field(None, ge=1, le=1_000_000)
    max_per_customer: JsonInt | None = Field(None, ge=1, le=1_000_000)
    minimum_order: MoneyIn | None = None


class CouponOut(Out):
    id: str
    code: str
    kind: CouponKind
    percent_off: int | None
    amount_off: MoneyOut | None
    minimum_order: MoneyOut | None
    valid_from: datetime | None
    valid_until: datetime | None
    max_redemptions: int | None
    max_per_customer: int | None
    redemptions: int
    active: bool
    applies_to: list[str]
    created_at: datetime


def coupon_out(coupon: Coupon) -> CouponOut:
    return CouponOut(
        id=coupon.id,
        code=coupon.code,
        kind=coupon.kind,
        percent_off=None if coupon.percent_off_bp is None else coupon.percent_off_bp // 100,
        amount_off=MoneyOut.model_validate(coupon.amount_off) if coupon.amount_off else None,
        minimum_order=MoneyOut.model_validate(coupon.minimum_order)
        if coupon.minimum_order
        else None,
        valid_from=coupon.valid_from,
        valid_until=coupon.valid_until,
        max_redemptions=coupon.max_redemptions,
        max_per_customer=coupon.max_per_customer,
        redemptions=coupon.redemptions,
        active=coupon.active,
        applies_to=[str(ref) for ref in coupon.applies_to],
        created_at=coupon.created_at,
    )


class CheckoutIn(Schema):
    coupon_code: CouponCode | None = None


class OrderItemOut(Out):
    kind: ProductKind
    product_id: str
    name: str
    unit_price: MoneyOut
    quantity: int
    line_total: MoneyOut = Field(validation_alias="total")


class TransitionOut(Out):
    from_status: OrderStatus | None
    to_status: OrderStatus
    at: datetime
    actor: str
    note: str | None


class OrderOut(Out):
    id: str
    number: int
    reference: str = Field(description="The number as customers and the payment provider see it.")
    status: OrderStatus
    customer_id: str
    items: list[OrderItemOut]
    subtotal: MoneyOut
    discount: MoneyOut
    total: MoneyOut
    coupon_code: str | None
    placed_at: datetime
    paid_at: datetime | None
    review_reason: str | None = Field(description="Set when a payment needs a person to look.")
    history: list[TransitionOut]


class RefundIn(Schema):
    note: str | None = Field(None, max_length=MAX_REFUND_NOTE)


class SalesDayOut(Out):
    day: date
    orders: int
    revenue: MoneyOut
    discounts: MoneyOut
    refunded_orders: int
    refunded: MoneyOut


class SalesSummaryOut(Out):
    first: date
    last: date
    days: list[SalesDayOut]
    orders: int
    revenue: MoneyOut
    discounts: MoneyOut


StatusFilter = Annotated[OrderStatus | None, QueryParameter(description="Only this status.")]


def order_out(order: Order) -> OrderOut:
    return OrderOut.model_validate(order)


# --------------------------------------------------------------------------- controllers


class CartController(Controller):
    path = "/api/cart"
    tags = ["commerce"]
    guards = [customer_or_admin]

    @get("/", responses=problems(401, 403))
    async def view(
        self, carts: NamedDependency[CartService], actor: NamedDependency[Actor]
    ) -> CartOut:
        """The caller's cart priced at today's catalog prices."""
        return CartOut.of(await carts.view(actor.id))

    @post("/items", responses=problems(400, 401, 403, 422))
    async def add(
        self,
        data: JSONBody[CartItemIn],
        carts: NamedDependency[CartService],
        actor: NamedDependency[Actor],
    ) -> CartOut:
        """Add a plan or a template; adding it again raises its quantity."""
        return CartOut.of(await carts.add_item(actor.id, data.ref(), data.quantity))

    @delete("/items/{item_id:str}", status_code=200, responses=problems(400, 401, 403, 404))
    async def remove(
        self, item_id: Id, carts: NamedDependency[CartService], actor: NamedDependency[Actor]
    ) -> CartOut:
        """Take an item out of the cart; the answer is the cart as it is now."""
        return CartOut.of(await carts.remove_item(actor.id, item_id))


class CouponCheckController(Controller):
    tags = ["commerce"]

    @post(
        "/api/coupons/validate",
        guards=[customer_or_admin],
        status_code=200,
        responses=problems(400, 401, 403),
    )
    async def validate(
        self,
        data: JSONBody[CouponCheckIn],
        coupons: NamedDependency[CouponService],
        actor: NamedDependency[Actor],
    ) -> CouponCheckOut:
        """Whether the code gives a discount on the caller's cart now, and if not, why."""
        check = await coupons.validate(actor.id, data.code)
        return CouponCheckOut(
            code=check.code,
            valid=check.valid,
            reason=check.refusal,
            message=REFUSAL_TEXT[check.refusal] if check.refusal else None,
            discount=MoneyOut.model_validate(check.discount),
            subtotal=MoneyOut.model_validate(check.subtotal),
        )


class OrderController(Controller):
    path = "/api/orders"
    tags = ["commerce"]
    guards = [customer_or_admin]

    @post("/", responses=problems(400, 401, 403, 422))
    async def checkout(
        self,
        orders: NamedDependency[OrderService],
        actor: NamedDependency[Actor],
        data: JSONBody[CheckoutIn | None] = None,
    ) -> OrderOut:
        """Turn the caller's cart into a pending order, applying the coupon if one is sent."""
        order = await orders.checkout(actor, coupon_code=data.coupon_code if data else None)
        return order_out(order)

    @get("/", responses=problems(400, 401, 403))
    async def list_own(
        self,
        orders: NamedDependency[OrderService],
        actor: NamedDependency[Actor],
        limit: Limit = 50,
        offset: Offset = 0,
        status: StatusFilter = None,
    ) -> PageOut[OrderOut]:
        """The caller's orders, newest first."""
        page = await orders.list_own(actor, page_request(limit, offset), status=status)
        return page_out(page, order_out)

    @get("/{order_id:str}", responses=problems(400, 401, 403, 404))
    async def get_one(
        self, order_id: Id, orders: NamedDependency[OrderService], actor: NamedDependency[Actor]
    ) -> OrderOut:
        return order_out(await orders.get(actor, order_id))

    @post("/{order_id:str}/cancel", status_code=200, responses=problems(400, 401, 403, 404, 409))
    async def cancel(
        self, order_id: Id, orders: NamedDependency[OrderService], actor: NamedDependency[Actor]
    ) -> OrderOut:
        """Cancel a pending order; its coupon use is given back."""
        return order_out(await orders.cancel(actor, order_id))


class CommerceAdminController(Controller):
    tags = ["commerce", "admin"]
    guards = [admin_only]

    @get("/api/admin/coupons", responses=problems(400, 401, 403))
    async def list_coupons(
        self,
        coupons: NamedDependency[CouponService],
        actor: NamedDependency[Actor],
        limit: Limit = 50,
        offset: Offset = 0,
        active: FromQuery[bool | None] = None,
    ) -> PageOut[CouponOut]:
        page = await coupons.list(actor, page_request(limit, offset), active=active)
        return page_out(page, coupon_out)

    @post("/api/admin/coupons", responses=problems(400, 401, 403, 409, 422))
    async def create_coupon(
        self,
        data: JSONBody[CouponIn],
        coupons: NamedDependency[CouponService],
        actor: NamedDependency[Actor],
    ) -> CouponOut:
        terms = CouponTerms(
            code=data.code,
            kind=data.kind,
            percent_off=data.percent_off,
            amount_off=money_in(data.amount_off),
            minimum_order=money_in(data.minimum_order),
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            max_redemptions=data.max_redemptions,
            max_per_customer=data.max_per_customer,
            active=data.active,
            applies_to=tuple(ProductRef(ref.kind, ref.id) for ref in data.applies_to),
        )
        return coupon_out(await coupons.create(actor, terms))

    @patch("/api/admin/coupons/{coupon_id:str}", responses=problems(400, 401, 403, 404, 422))
    async def update_coupon(
        self,
        coupon_id: Id,
        data: JSONBody[CouponPatch],
        coupons: NamedDependency[CouponService],
        actor: NamedDependency[Actor],
    ) -> CouponOut:
        coupon = await coupons.update(
            actor,
            coupon_id,
            active=data.active,
            valid_until=data.valid_until,
            max_redemptions=data.max_redemptions,
            max_per_customer=data.max_per_customer,
            minimum_order=money_in(data.minimum_order),
        )
        return coupon_out(coupon)

    @get("/api/admin/orders", responses=problems(400, 401, 403))
    async def list_orders(
        self,
        orders: NamedDependency[OrderService],
        actor: NamedDependency[Actor],
        limit: Limit = 50,
        offset: Offset = 0,
        status: StatusFilter = None,
        customer_id: Annotated[str | None, QueryParameter(max_length=36, pattern=PRINTABLE)] = None,
        placed_from: Annotated[
            datetime | None, QueryParameter(name="from", description="Placed at or after.")
        ] = None,
        placed_until: Annotated[
            datetime | None, QueryParameter(name="until", description="Placed before.")
        ] = None,
    ) -> PageOut[OrderOut]:
        """Every order, newest first, filtered by status, customer and placing time."""
        page = await orders.list_all(
            actor,
            page_request(limit, offset),
            customer_id=customer_id,
            status=status,
            placed_from=placed_from,
            placed_until=placed_until,
        )
        return page_out(page, order_out)

    @post(
        "/api/admin/orders/{order_id:str}/refund",
        status_code=202,
        responses=problems(400, 401, 403, 404, 409, 422),
    )
    async def refund(
        self,
        order_id: Id,
        orders: NamedDependency[OrderService],
        actor: NamedDependency[Actor],
        data: JSONBody[RefundIn | None] = None,
    ) -> OrderOut:
        """Start giving a paid order's money back through the payment provider: the order
        answers ``refunding`` at once, and a background job asks the provider.

        On the provider's receipt the order becomes ``refunded``, with the provider's refund
        id in its history and in the payment journal (outcome ``refunded``); on a definitive
        refusal it is ``paid`` again, the reason in its history; while the provider cannot
        be reached the job tries again. Asked again while the refund runs, it answers the
        same ``202`` and starts nothing more. ``409`` unless the order is paid or refunding;
        ``422`` when the order has no payment at the provider or the note is too long.
        """
        order = await orders.refund(actor, order_id, note=data.note if data else None)
        return order_out(order)

    @post(
        "/api/admin/orders/{order_id:str}/fulfil",
        status_code=200,
        responses=problems(400, 401, 403, 404, 409),
    )
    async def fulfil(
        self, order_id: Id, orders: NamedDependency[OrderService], actor: NamedDependency[Actor]
    ) -> OrderOut:
        return order_out(await orders.fulfil(actor, order_id))

    @get("/api/admin/sales/summary", responses=problems(400, 401, 403, 422))
    async def sales_summary(
        self,
        orders: NamedDependency[OrderService],
        actor: NamedDependency[Actor],
        first: Annotated[date, QueryParameter(name="from", description="First UTC day.")],
        last: Annotated[date, QueryParameter(name="to", description="Last UTC day, included.")],
    ) -> SalesSummaryOut:
        """Per day of payment: orders kept, revenue, discounts given and refunds."""
        return SalesSummaryOut.model_validate(await orders.sales_summary(actor, first, last))


CONTROLLERS = [CartController, CouponCheckController, OrderController, CommerceAdminController]
