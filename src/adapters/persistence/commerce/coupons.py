"""Coupons and their redemptions; the coupon row serialises checkouts that use it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from adapters.persistence.commerce.tables import coupon_redemptions, coupons
from adapters.persistence.connection import Transaction, locked
from adapters.persistence.mapping import money_values, optional_money
from talia_core.commerce.coupon import Coupon, CouponKind, Redemption
from talia_core.commerce.products import ProductRef
from talia_core.shared.errors import NotFound
from talia_core.shared.pagination import Page, PageRequest


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
        row = await self._tx.one_or_none(locked(coupons.select().where(condition), self._lock))
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
        return len((await self._tx.execute(locked(query, self._lock))).all())

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
