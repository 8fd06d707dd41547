"""Coupons: the admin's terms, and whether a code gives a discount on a cart now."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from talia_core.commerce.coupon import Coupon, CouponKind, CouponRefusal
from talia_core.commerce.coupon_service import CouponService, CouponTerms
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Conflict, Forbidden, NotFound, RuleViolated
from talia_core.shared.money import Money
from talia_core.shared.pagination import PageRequest
from tests.unit.commerce.builders import ADMIN, ANA, LUIS, Shop, pen, ref

# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("reason", list(CouponRefusal))
async def test_validation_names_why_a_coupon_is_refused(shop: Shop, reason: CouponRefusal) -> None:
    code = await shop.refusing(reason, ANA)
    check = await shop.coupons.validate(ANA.id, code)
    assert check.refusal is reason
    assert not check.valid
    assert check.discount == pen(0)


async def test_a_coupon_is_valid_until_the_instant_it_expires(shop: Shop, clock: FakeClock) -> None:
    await shop.fill(ANA, await shop.plan())
    coupon = await shop.coupon(valid_until=clock.now() + timedelta(hours=1))
    clock.advance(timedelta(minutes=59, seconds=59))
    assert (await shop.coupons.validate(ANA.id, coupon.code)).valid
    clock.advance(timedelta(seconds=1))
    assert (await shop.coupons.validate(ANA.id, coupon.code)).refusal is CouponRefusal.EXPIRED


async def test_a_coupon_is_valid_from_the_instant_it_starts(shop: Shop, clock: FakeClock) -> None:
    await shop.fill(ANA, await shop.plan())
    coupon = await shop.coupon(valid_from=clock.now() + timedelta(hours=1))
    clock.advance(timedelta(hours=1))
    assert (await shop.coupons.validate(ANA.id, coupon.code)).valid


async def test_a_valid_coupon_shows_its_discount_on_the_cart(shop: Shop) -> None:
    await shop.fill(ANA, await shop.plan(5_000), await shop.template(3_000))
    await shop.coupon("HOLA10", percent_off=10)
    check = await shop.coupons.validate(ANA.id, "  hola10 ")
    assert check.valid
    assert (check.code, check.discount, check.subtotal) == ("HOLA10", pen(800), pen(8_000))


async def test_the_minimum_is_reached_at_exactly_the_minimum(shop: Shop) -> None:
    await shop.fill(ANA, await shop.plan(5_000))
    coupon = await shop.coupon(minimum_order=pen(5_000))
    assert (await shop.coupons.validate(ANA.id, coupon.code)).valid


async def test_a_cart_with_only_unavailable_items_is_an_empty_cart_to_a_coupon(
    shop: Shop,
) -> None:
    plan = await shop.plan()
    await shop.fill(ANA, plan)
    await shop.catalog.update_plan(plan.id, active=False)
    coupon = await shop.coupon()
    check = await shop.coupons.validate(ANA.id, coupon.code)
    assert check.refusal is CouponRefusal.EMPTY_CART


async def test_the_limit_of_another_customer_does_not_count(shop: Shop) -> None:
    code = await shop.refusing(CouponRefusal.CUSTOMER_LIMIT_REACHED, ANA)
    await shop.fill(LUIS, await shop.plan())
    assert (await shop.coupons.validate(LUIS.id, code)).valid


# ---------------------------------------------------------------------------- discounts


@pytest.mark.parametrize(
    ("price", "percent", "discount"),
    [
        (333, 15, 50),  # 49.95 rounds up
        (5, 10, 1),  # 0.5 rounds up
        (14, 25, 4),  # 3.5 rounds up
        (13, 25, 3),  # 3.25 rounds down
        (3_333, 15, 500),  # 499.95 rounds up
        (1_000, 100, 1_000),
    ],
)
async def test_a_percentage_is_rounded_half_up_to_a_whole_cent(
    shop: Shop, price: int, percent: int, discount: int
) -> None:
    await shop.fill(ANA, await shop.plan(price))
    coupon = await shop.coupon(percent_off=percent)
    check = await shop.coupons.validate(ANA.id, coupon.code)
    assert check.discount == pen(discount)


async def test_a_percentage_that_rounds_to_nothing_does_not_apply(shop: Shop) -> None:
    await shop.fill(ANA, await shop.plan(4))
    coupon = await shop.coupon(percent_off=10)
    check = await shop.coupons.validate(ANA.id, coupon.code)
    assert check.refusal is CouponRefusal.NOT_APPLICABLE


async def test_a_fixed_discount_never_exceeds_what_it_applies_to(shop: Shop) -> None:
    await shop.fill(ANA, await shop.plan(5_000))
    coupon = await shop.coupon(kind=CouponKind.FIXED, amount_off=pen(10_000))
    check = await shop.coupons.validate(ANA.id, coupon.code)
    assert check.discount == pen(5_000)


async def test_a_fixed_discount_below_the_subtotal_is_taken_whole(shop: Shop) -> None:
    await shop.fill(ANA, await shop.plan(5_000))
    coupon = await shop.coupon(kind=CouponKind.FIXED, amount_off=pen(1_234))
    assert (await shop.coupons.validate(ANA.id, coupon.code)).discount == pen(1_234)


async def test_a_restricted_fixed_discount_is_capped_at_its_own_lines(shop: Shop) -> None:
    template = await shop.template(3_000)
    await shop.fill(ANA, await shop.plan(5_000), template)
    coupon = await shop.coupon(
        kind=CouponKind.FIXED, amount_off=pen(4_000), applies_to=(ref(template),)
    )
    check = await shop.coupons.validate(ANA.id, coupon.code)
    assert (check.discount, check.subtotal) == (pen(3_000), pen(8_000))


async def test_a_restricted_percentage_counts_only_the_lines_it_names(shop: Shop) -> None:
    plan, other_plan, template = await shop.plan(5_000), await shop.plan(700), await shop.template()
    await shop.fill(ANA, plan, quantity=2)
    await shop.fill(ANA, other_plan, template)
    coupon = await shop.coupon(percent_off=50, applies_to=(ref(plan), ref(template)))
    check = await shop.coupons.validate(ANA.id, coupon.code)
    assert check.discount == pen(6_500)  # half of 2 x 50.00 + 30.00; the 7.00 plan not


async def test_the_minimum_counts_the_whole_cart_even_for_a_restricted_coupon(shop: Shop) -> None:
    template = await shop.template(1_000)
    await shop.fill(ANA, await shop.plan(5_000), template)
    coupon = await shop.coupon(minimum_order=pen(6_000), applies_to=(ref(template),))
    check = await shop.coupons.validate(ANA.id, coupon.code)
    assert (check.refusal, check.discount) == (None, pen(100))


# --------------------------------------------------------------------------- admin terms


async def test_a_created_coupon_is_stored_with_its_terms(shop: Shop, clock: FakeClock) -> None:
    template = await shop.template()
    until = clock.now() + timedelta(days=30)
    coupon = await shop.coupon(
        " verano-15 ",
        percent_off=15,
        minimum_order=pen(2_000),
        valid_until=until,
        max_redemptions=100,
        max_per_customer=2,
        applies_to=(ref(template), ref(template)),
    )
    stored = await shop.stored_coupon(coupon.id)
    assert stored.code == "VERANO-15"
    assert stored.percent_off_bp == 1_500
    assert stored.amount_off is None
    assert (stored.minimum_order, stored.valid_until) == (pen(2_000), until)
    assert (stored.max_redemptions, stored.max_per_customer) == (100, 2)
    assert stored.applies_to == [ref(template)]
    assert (stored.redemptions, stored.active) == (0, True)


async def test_only_an_admin_creates_a_coupon(shop: Shop) -> None:
    terms = CouponTerms(code="HOLA10", kind=CouponKind.PERCENTAGE, percent_off=10)
    with pytest.raises(Forbidden):
        await shop.coupons.create(ANA, terms)
    page = await shop.coupons.list(ADMIN, PageRequest(), active=None)
    assert page.total == 0


async def test_only_an_admin_changes_a_coupon(shop: Shop) -> None:
    coupon = await shop.coupon()
    with pytest.raises(Forbidden):
        await shop.coupons.update(ANA, coupon.id, active=False)
    assert (await shop.stored_coupon(coupon.id)).active is True


async def test_only_an_admin_lists_coupons(coupons: CouponService) -> None:
    with pytest.raises(Forbidden):
        await coupons.list(ANA, PageRequest(), active=None)


async def test_a_code_is_taken_once_whatever_its_case(shop: Shop) -> None:
    first = await shop.coupon("HOLA10", percent_off=10)
    with pytest.raises(Conflict):
        await shop.coupon("hola10", percent_off=50)
    page = await shop.coupons.list(ADMIN, PageRequest(), active=None)
    assert [c.id for c in page.items] == [first.id]
    assert (await shop.stored_coupon(first.id)).percent_off_bp == 1_000


INVALID_TERMS: dict[str, dict[str, Any]] = {
    "code too short": {"code": "AB"},
    "code with a space": {"code": "HOLA 10"},
    "code too long": {"code": "X" * 33},
    "code starting with a dash": {"code": "-HOLA"},
    "no percentage": {"percent_off": None},
    "zero percent": {"percent_off": 0},
    "over a hundred percent": {"percent_off": 101},
    "percentage with an amount": {"amount_off": pen(100)},
    "fixed without an amount": {"kind": CouponKind.FIXED},
    "fixed with a percentage": {"kind": CouponKind.FIXED, "amount_off": pen(100), "percent_off": 5},
    "fixed of nothing": {"kind": CouponKind.FIXED, "amount_off": pen(0)},
    "fixed below nothing": {"kind": CouponKind.FIXED, "amount_off": pen(-100)},
    "fixed in another currency": {"kind": CouponKind.FIXED, "amount_off": Money(100, "USD")},
    "negative minimum": {"minimum_order": pen(-1)},
    "minimum in another currency": {"minimum_order": Money(100, "USD")},
    "ending before it starts": {"valid_from_hours": 2, "valid_until_hours": 1},
    "ending as it starts": {"valid_from_hours": 1, "valid_until_hours": 1},
    "no redemptions at all": {"max_redemptions": 0},
    "over a million redemptions": {"max_redemptions": 1_000_001},
    "no uses per customer": {"max_per_customer": 0},
}


@pytest.mark.parametrize("changes", INVALID_TERMS.values(), ids=INVALID_TERMS.keys())
async def test_invalid_terms_are_refused_and_nothing_is_stored(
    shop: Shop, clock: FakeClock, changes: dict[str, Any]
) -> None:
    terms: dict[str, Any] = {"code": "HOLA10", "kind": CouponKind.PERCENTAGE, "percent_off": 10}
    if changes.get("kind") is CouponKind.FIXED:
        terms["percent_off"] = None
    terms |= changes
    for bound in ("valid_from", "valid_until"):
        if (hours := terms.pop(f"{bound}_hours", None)) is not None:
            terms[bound] = clock.now() + timedelta(hours=hours)
    with pytest.raises(RuleViolated):
        await shop.coupons.create(ADMIN, CouponTerms(**terms))
    assert (await shop.coupons.list(ADMIN, PageRequest(), active=None)).total == 0


async def test_an_admin_switches_a_coupon_off_and_it_is_refused(shop: Shop) -> None:
    await shop.fill(ANA, await shop.plan())
    coupon = await shop.coupon()
    await shop.coupons.update(ADMIN, coupon.id, active=False)
    assert (await shop.coupons.validate(ANA.id, coupon.code)).refusal is CouponRefusal.INACTIVE


async def test_an_admin_changes_the_limits_of_a_coupon(shop: Shop, clock: FakeClock) -> None:
    coupon = await shop.coupon(max_redemptions=5)
    clock.advance(timedelta(minutes=1))
    until = clock.now() + timedelta(days=1)
    await shop.coupons.update(
        ADMIN,
        coupon.id,
        max_redemptions=50,
        max_per_customer=3,
        valid_until=until,
        minimum_order=pen(1_000),
    )
    stored = await shop.stored_coupon(coupon.id)
    assert (stored.max_redemptions, stored.max_per_customer) == (50, 3)
    assert (stored.valid_until, stored.minimum_order) == (until, pen(1_000))
    assert stored.updated_at == clock.now() != stored.created_at


@pytest.mark.parametrize(
    "changes",
    [
        {"max_redemptions": 0},
        {"max_per_customer": -1},
        {"minimum_order": pen(-1)},
        {"minimum_order": Money(100, "USD")},
        {"valid_until_hours": -1},
    ],
)
async def test_invalid_new_terms_are_refused_and_the_coupon_kept(
    shop: Shop, clock: FakeClock, changes: dict[str, Any]
) -> None:
    coupon = await shop.coupon(valid_from=clock.now(), max_redemptions=5)
    if (hours := changes.pop("valid_until_hours", None)) is not None:
        changes["valid_until"] = clock.now() + timedelta(hours=hours)
    with pytest.raises(RuleViolated):
        await shop.coupons.update(ADMIN, coupon.id, **changes)
    assert await shop.stored_coupon(coupon.id) == coupon


async def test_changing_an_unknown_coupon_is_not_found(coupons: CouponService) -> None:
    with pytest.raises(NotFound):
        await coupons.update(ADMIN, "no-such-coupon", active=False)


async def test_coupons_are_listed_newest_first_and_filtered_by_state(
    shop: Shop, clock: FakeClock
) -> None:
    old = await shop.coupon("OLD10")
    clock.advance(timedelta(days=1))
    off = await shop.coupon("OFF10", active=False)
    clock.advance(timedelta(days=1))
    new = await shop.coupon("NEW10")
    everything = await shop.coupons.list(ADMIN, PageRequest(), active=None)
    assert [c.id for c in everything.items] == [new.id, off.id, old.id]
    active = await shop.coupons.list(ADMIN, PageRequest(), active=True)
    assert [c.id for c in active.items] == [new.id, old.id]
    inactive = await shop.coupons.list(ADMIN, PageRequest(), active=False)
    assert [c.id for c in inactive.items] == [off.id]


def test_a_coupons_limit_cannot_go_below_the_uses_it_has_had() -> None:
    coupon = Coupon.create(
        code="LIMITED",
        kind=CouponKind.PERCENTAGE,
        percent_off_bp=1_000,
        max_redemptions=5,
        at=FakeClock().now(),
    )
    coupon.redemptions = 3

    with pytest.raises(RuleViolated) as refused:
        coupon.revise(at=FakeClock().now(), max_redemptions=2)

    assert refused.value.fields == {"max_redemptions": "below the uses so far"}
    assert coupon.max_redemptions == 5
