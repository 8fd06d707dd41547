"""Coupons: discount codes, why one cannot be used now, and each use an order makes of one."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import datetime

import attrs

from talia_core.commerce.products import Line, ProductRef, total_of
from talia_core.shared.errors import RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.money import Money

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")
MAX_BASIS_POINTS = 10_000


class CouponKind(enum.StrEnum):
    PERCENTAGE = "percentage"
    FIXED = "fixed"


class CouponRefusal(enum.StrEnum):
    """Why a coupon cannot be used now; ``str(refusal)`` is the stable code clients see."""

    UNKNOWN = "unknown"
    INACTIVE = "inactive"
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    CUSTOMER_LIMIT_REACHED = "customer_limit_reached"
    BELOW_MINIMUM = "below_minimum"
    NOT_APPLICABLE = "not_applicable"
    EMPTY_CART = "empty_cart"


REFUSAL_TEXT = {
    CouponRefusal.UNKNOWN: "there is no coupon with this code",
    CouponRefusal.INACTIVE: "the coupon is switched off",
    CouponRefusal.NOT_STARTED: "the coupon is not valid yet",
    CouponRefusal.EXPIRED: "the coupon has expired",
    CouponRefusal.EXHAUSTED: "the coupon has been used as many times as it may be",
    CouponRefusal.CUSTOMER_LIMIT_REACHED: "you have used this coupon as many times as you may",
    CouponRefusal.BELOW_MINIMUM: "the order is below the coupon's minimum amount",
    CouponRefusal.NOT_APPLICABLE: "the coupon does not apply to anything in the cart",
    CouponRefusal.EMPTY_CART: "the cart is empty",
}


class CouponRefused(RuleViolated):
    def __init__(self, reason: CouponRefusal) -> None:
        super().__init__(REFUSAL_TEXT[reason], {"coupon_code": reason.value})
        self.reason = reason


def normalize_code(code: str) -> str:
    return code.strip().upper()


def _code(code: str) -> str:
    cleaned = normalize_code(code)
    if not _CODE.match(cleaned):
        raise RuleViolated(
            "a coupon code is 3 to 32 letters, digits, '-' or '_'", {"code": "invalid"}
        )
    return cleaned


def _limit(field: str, value: int | None) -> int | None:
    if value is not None and not 1 <= value <= 1_000_000:
        raise RuleViolated(f"{field} must be between 1 and 1000000", {field: "out of range"})
    return value


@attrs.define
class Coupon:
    """A discount code. ``redemptions`` counts the live uses (given back by cancellations).

    A percentage is held in basis points (1 500 is 15 %); a fixed discount as money.
    ``applies_to`` empty means the whole order; otherwise only those products' lines count.
    """

    code: str
    kind: CouponKind
    percent_off_bp: int | None
    amount_off: Money | None
    minimum_order: Money | None
    valid_from: datetime | None
    valid_until: datetime | None
    max_redemptions: int | None
    max_per_customer: int | None
    active: bool
    applies_to: list[ProductRef]
    created_at: datetime
    updated_at: datetime
    redemptions: int = 0
    id: str = attrs.field(factory=new_id)

    @classmethod
    def create(
        cls,
        *,
        code: str,
        kind: CouponKind,
        percent_off_bp: int | None = None,
        amount_off: Money | None = None,
        minimum_order: Money | None = None,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        max_redemptions: int | None = None,
        max_per_customer: int | None = None,
        active: bool = True,
        applies_to: Iterable[ProductRef] = (),
        at: datetime,
    ) -> Coupon:
        coupon = cls(
            code=_code(code),
            kind=kind,
            percent_off_bp=percent_off_bp,
            amount_off=amount_off,
            minimum_order=minimum_order,
            valid_from=valid_from,
            valid_until=valid_until,
            max_redemptions=_limit("max_redemptions", max_redemptions),
            max_per_customer=_limit("max_per_customer", max_per_customer),
            active=active,
            applies_to=sorted(set(applies_to), key=str),
            created_at=at,
            updated_at=at,
        )
        coupon._check()
        return coupon

    def _check(self) -> None:
        if self.kind is CouponKind.PERCENTAGE:
            if self.amount_off is not None or self.percent_off_bp is None:
                raise RuleViolated(
                    "a percentage coupon has percent_off and no amount_off",
                    {"percent_off": "required"},
                )
            if not 1 <= self.percent_off_bp <= MAX_BASIS_POINTS:
                raise RuleViolated(
                    "percent_off must be between 1 and 100", {"percent_off": "out of range"}
                )
        else:
            if self.percent_off_bp is not None or self.amount_off is None:
                raise RuleViolated(
                    "a fixed coupon has amount_off and no percent_off", {"amount_off": "required"}
                )
            if self.amount_off.amount <= 0:
                raise RuleViolated("amount_off must be positive", {"amount_off": "out of range"})
        if self.minimum_order is not None and self.minimum_order.is_negative:
            raise RuleViolated(
                "minimum_order must not be negative", {"minimum_order": "out of range"}
            )
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise RuleViolated(
                "valid_until must be after valid_from", {"valid_until": "before valid_from"}
            )

    def revise(
        self,
        *,
        at: datetime,
        active: bool | None = None,
        valid_until: datetime | None = None,
        max_redemptions: int | None = None,
        max_per_customer: int | None = None,
        minimum_order: Money | None = None,
    ) -> None:
        """Change the terms that can change without rewriting past orders."""
        if active is not None:
            self.active = active
        if valid_until is not None:
            self.valid_until = valid_until
        if max_redemptions is not None:
            if max_redemptions < self.redemptions:
                raise RuleViolated(
                    f"the coupon has been used {self.redemptions} times already",
                    {"max_redemptions": "below the uses so far"},
                )
            self.max_redemptions = _limit("max_redemptions", max_redemptions)
        if max_per_customer is not None:
            self.max_per_customer = _limit("max_per_customer", max_per_customer)
        if minimum_order is not None:
            self.minimum_order = minimum_order
        self._check()
        self.updated_at = at

    def _eligible(self, lines: Iterable[Line], currency: str) -> Money:
        if not self.applies_to:
            return total_of(lines, currency)
        wanted = set(self.applies_to)
        return total_of((line for line in lines if line.ref in wanted), currency)

    def discount_for(self, lines: list[Line], currency: str) -> Money:
        """Never more than the lines it applies to: a total cannot go below zero."""
        eligible = self._eligible(lines, currency)
        if self.percent_off_bp is not None:
            return eligible.percent(self.percent_off_bp)
        assert self.amount_off is not None
        if self.amount_off.currency != currency:
            return Money.zero(currency)
        return self.amount_off.min(eligible)

    def refusal(
        self, lines: list[Line], currency: str, *, used_by_customer: int, at: datetime
    ) -> CouponRefusal | None:
        """Why it cannot be used on ``lines`` now, or ``None`` when it can."""
        if not lines:
            return CouponRefusal.EMPTY_CART
        if not self.active:
            return CouponRefusal.INACTIVE
        if self.valid_from is not None and at < self.valid_from:
            return CouponRefusal.NOT_STARTED
        if self.valid_until is not None and at >= self.valid_until:
            return CouponRefusal.EXPIRED
        limit = self.limit_refusal(used_by_customer=used_by_customer)
        if limit is not None:
            return limit
        if self.minimum_order is not None and total_of(lines, currency) < self.minimum_order:
            return CouponRefusal.BELOW_MINIMUM
        if self.discount_for(lines, currency).amount == 0:
            return CouponRefusal.NOT_APPLICABLE
        return None

    def limit_refusal(self, *, used_by_customer: int) -> CouponRefusal | None:
        """Whether one more use would pass the total or the customer's limit.

        ``CouponRepository.take_use`` applies this rule where the uses are counted, so that
        concurrent checkouts see each other's uses."""
        if self.max_redemptions is not None and self.redemptions >= self.max_redemptions:
            return CouponRefusal.EXHAUSTED
        if self.max_per_customer is not None and used_by_customer >= self.max_per_customer:
            return CouponRefusal.CUSTOMER_LIMIT_REACHED
        return None

    def take_use(self, *, used_by_customer: int, at: datetime) -> CouponRefusal | None:
        """Count one more use, or say which limit refuses it (and count nothing)."""
        reason = self.limit_refusal(used_by_customer=used_by_customer)
        if reason is None:
            self.redemptions += 1
            self.updated_at = at
        return reason

    def give_back(self, *, at: datetime) -> None:
        self.redemptions = max(0, self.redemptions - 1)
        self.updated_at = at


@attrs.define
class Redemption:
    """One use of a coupon by an order; released when the order is cancelled or expires."""

    coupon_id: str
    customer_id: str
    order_id: str
    redeemed_at: datetime
    released_at: datetime | None = None
    id: str = attrs.field(factory=new_id)
