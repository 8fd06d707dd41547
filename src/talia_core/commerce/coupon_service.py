"""Coupons: checking a code against the cart, and an admin's creating and revising them."""

from __future__ import annotations

from datetime import datetime

import attrs

from talia_core.commerce.actor import Actor, require_admin
from talia_core.commerce.cart import Cart
from talia_core.commerce.coupon import Coupon, CouponKind, CouponRefusal, normalize_code
from talia_core.commerce.lookups import priced
from talia_core.commerce.ports import CommerceUnits
from talia_core.commerce.products import ProductRef
from talia_core.shared.clock import Clock
from talia_core.shared.money import Money, in_currency
from talia_core.shared.pagination import Page, PageRequest


@attrs.frozen
class CouponCheck:
    """Whether a code would give a discount on the customer's cart now, and if not why."""

    code: str
    refusal: CouponRefusal | None
    discount: Money
    subtotal: Money

    @property
    def valid(self) -> bool:
        return self.refusal is None


@attrs.frozen
class CouponTerms:
    """What an admin writes when creating a coupon."""

    code: str
    kind: CouponKind
    percent_off: int | None = None
    amount_off: Money | None = None
    minimum_order: Money | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_redemptions: int | None = None
    max_per_customer: int | None = None
    active: bool = True
    applies_to: tuple[ProductRef, ...] = ()


class CouponService:
    def __init__(self, uow: CommerceUnits, clock: Clock, *, currency: str) -> None:
        self._uow = uow
        self._clock = clock
        self._currency = currency

    async def validate(self, customer_id: str, code: str) -> CouponCheck:
        """Checks the code against the cart as it is now; checkout checks again, atomically."""
        now = self._clock.now()
        async with self._uow(read_only=True) as uow:
            cart = await uow.carts.get_for(customer_id) or Cart.open(customer_id, at=now)
            cart_now = await priced(uow, cart, self._currency)
            bought = [line for cl in cart_now.lines if (line := cl.line) is not None]
            subtotal = cart_now.subtotal
            coupon = await uow.coupons.by_code(normalize_code(code))
            if coupon is None:
                return CouponCheck(
                    normalize_code(code),
                    CouponRefusal.UNKNOWN,
                    Money.zero(self._currency),
                    subtotal,
                )
            used = await uow.redemptions.live_count(coupon.id, customer_id)
        refusal = coupon.refusal(bought, self._currency, used_by_customer=used, at=now)
        discount = (
            coupon.discount_for(bought, self._currency)
            if refusal is None
            else Money.zero(self._currency)
        )
        return CouponCheck(coupon.code, refusal, discount, subtotal)

    async def create(self, actor: Actor, terms: CouponTerms) -> Coupon:
        require_admin(actor)
        in_currency("amount_off", terms.amount_off, self._currency)
        in_currency("minimum_order", terms.minimum_order, self._currency)
        coupon = Coupon.create(
            code=terms.code,
            kind=terms.kind,
            percent_off_bp=None if terms.percent_off is None else terms.percent_off * 100,
            amount_off=terms.amount_off,
            minimum_order=terms.minimum_order,
            valid_from=terms.valid_from,
            valid_until=terms.valid_until,
            max_redemptions=terms.max_redemptions,
            max_per_customer=terms.max_per_customer,
            active=terms.active,
            applies_to=terms.applies_to,
            at=self._clock.now(),
        )
        async with self._uow() as uow:
            await uow.coupons.add(coupon)
            await uow.commit()
        return coupon

    async def update(
        self,
        actor: Actor,
        coupon_id: str,
        *,
        active: bool | None = None,
        valid_until: datetime | None = None,
        max_redemptions: int | None = None,
        max_per_customer: int | None = None,
        minimum_order: Money | None = None,
    ) -> Coupon:
        require_admin(actor)
        in_currency("minimum_order", minimum_order, self._currency)
        async with self._uow() as uow:
            coupon = await uow.coupons.get(coupon_id)
            coupon.revise(
                at=self._clock.now(),
                active=active,
                valid_until=valid_until,
                max_redemptions=max_redemptions,
                max_per_customer=max_per_customer,
                minimum_order=minimum_order,
            )
            await uow.coupons.update(coupon)
            await uow.commit()
        return coupon

    async def list(self, actor: Actor, page: PageRequest, *, active: bool | None) -> Page[Coupon]:
        require_admin(actor)
        async with self._uow(read_only=True) as uow:
            return await uow.coupons.find(page, active=active)
