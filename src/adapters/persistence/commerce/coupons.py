"""Coupons and their redemptions.

A use is taken by one conditional ``UPDATE`` of the coupon's count (``take_use``): the row
lock it takes is the only thing checkouts with one coupon wait for, and it lasts from that
statement to the commit, which the checkout makes its last few statements.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from adapters.persistence.commerce.tables import coupon_redemptions, coupons
from adapters.persistence.connection import Transaction, locked
from adapters.persistence.mapping import money_values, optional_money
from adapters.persistence.prepared import key, keyed
from talia_core.commerce.coupon import Coupon, CouponKind, CouponRefusal, Redemption
from talia_core.commerce.products import ProductRef
from talia_core.shared.errors import NotFound
from talia_core.shared.pagination import Page, PageRequest


def _coupon_terms(coupon: Coupon) -> dict[str, Any]:
    """The columns ``Coupon.revise`` changes; the count changes only in ``take_use`` and
    ``give_back``, by one conditional write each."""
    return {
        **money_values("minimum_order", coupon.minimum_order),
        "valid_until": coupon.valid_until,
        "max_redemptions": coupon.max_redemptions,
        "max_per_customer": coupon.max_per_customer,
        "active": coupon.active,
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
        "redemptions": coupon.redemptions,
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


_BY_CODE = coupons.select().where(coupons.c.code == key(coupons.c.code))
_TAKE = (
    coupons.update()
    .where(
        coupons.c.id == key(coupons.c.id),
        sa.or_(
            coupons.c.max_redemptions.is_(None),
            coupons.c.redemptions < coupons.c.max_redemptions,
        ),
    )
    .values(redemptions=coupons.c.redemptions + 1, updated_at=key(coupons.c.updated_at))
)
_TAKE_RETURNING = _TAKE.returning(coupons.c.max_per_customer)
_PER_CUSTOMER_LOCKED = (
    sa.select(coupons.c.max_per_customer).where(coupons.c.id == key(coupons.c.id)).with_for_update()
)
_PUT_BACK = (
    coupons.update()
    .where(coupons.c.id == key(coupons.c.id))
    .values(redemptions=coupons.c.redemptions - 1)
)
_LIVE_USES = sa.select(coupon_redemptions.c.id).where(
    coupon_redemptions.c.coupon_id == key(coupon_redemptions.c.coupon_id),
    coupon_redemptions.c.customer_id == key(coupon_redemptions.c.customer_id),
    coupon_redemptions.c.released_at.is_(None),
)
# PostgreSQL refuses FOR UPDATE beside an aggregate: the locked rows are counted here.
_LIVE_USES_LOCKED = _LIVE_USES.with_for_update()
_LIVE_COUNT = sa.select(sa.func.count()).select_from(_LIVE_USES.subquery())
_REDEMPTION_INSERT = coupon_redemptions.insert()


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
        row = await self._tx.one_or_none(_BY_CODE, keyed(code=code))
        return None if row is None else _coupon(row._mapping)

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

    async def take_use(self, redemption: Redemption) -> CouponRefusal | None:
        """``Coupon.limit_refusal`` where the count is kept.

        The total limit is the ``UPDATE``'s condition, evaluated on the row as it stands once
        its lock is held. The customer's uses are counted after it, under that lock: every
        other use of the coupon is stored by a transaction that held it, so the count is of
        all of them (a locking read on MySQL and MariaDB, whose plain reads would see the
        snapshot of the transaction's first read). Refused there, the count is put back.
        """
        coupon_id, customer_id = redemption.coupon_id, redemption.customer_id
        taking = keyed(id=coupon_id, updated_at=redemption.redeemed_at)
        if self._tx.dialect in ("mysql", "mariadb"):  # no UPDATE ... RETURNING
            if (await self._tx.execute(_TAKE, taking)).rowcount == 0:
                return CouponRefusal.EXHAUSTED
            limit = await self._tx.execute(_PER_CUSTOMER_LOCKED, keyed(id=coupon_id))
            per_customer = limit.scalar_one()
        else:
            row = (await self._tx.execute(_TAKE_RETURNING, taking)).first()
            if row is None:
                return CouponRefusal.EXHAUSTED
            per_customer = row.max_per_customer
        if per_customer is not None:
            mine = keyed(coupon_id=coupon_id, customer_id=customer_id)
            if len((await self._tx.execute(_LIVE_USES_LOCKED, mine)).all()) >= per_customer:
                await self._tx.execute(_PUT_BACK, keyed(id=coupon_id))
                return CouponRefusal.CUSTOMER_LIMIT_REACHED
        used = {
            "id": redemption.id,
            "coupon_id": coupon_id,
            "customer_id": customer_id,
            "order_id": redemption.order_id,
            "redeemed_at": redemption.redeemed_at,
            "released_at": None,
        }
        await self._tx.execute(_REDEMPTION_INSERT, used)
        return None

    async def give_back(self, coupon_id: str, order_id: str, *, at: datetime) -> bool:
        """The coupon's row first, as ``take_use`` locks it, then the redemption's. The
        order's lock, which every caller holds, keeps two give-backs of one order apart."""
        live = sa.and_(
            coupon_redemptions.c.coupon_id == coupon_id,
            coupon_redemptions.c.order_id == order_id,
            coupon_redemptions.c.released_at.is_(None),
        )
        if await self._tx.one_or_none(sa.select(coupon_redemptions.c.id).where(live)) is None:
            return False
        await self._tx.execute(
            coupons.update()
            .where(coupons.c.id == coupon_id, coupons.c.redemptions > 0)
            .values(redemptions=coupons.c.redemptions - 1, updated_at=at)
        )
        await self._tx.execute(coupon_redemptions.update().where(live).values(released_at=at))
        return True


class SqlAlchemyRedemptionRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def live_count(self, coupon_id: str, customer_id: str) -> int:
        """Never locked: a first look, which ``take_use`` repeats under the coupon's lock."""
        mine = keyed(coupon_id=coupon_id, customer_id=customer_id)
        return int((await self._tx.execute(_LIVE_COUNT, mine)).scalar_one())
