"""An invitation's life: data, events, publishing and the refund that ends it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talia_core.invitations.fields import WEDDING_SCHEMA, FieldSchema
from talia_core.invitations.model import (
    RESERVED_SLUGS,
    Allowances,
    Event,
    Invitation,
    InvitationStatus,
    slug_from,
)
from talia_core.invitations.services import PaidItem, bought_items
from talia_core.shared.errors import Conflict, NotFound, RuleViolated

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)
WEDDING = FieldSchema.parse(WEDDING_SCHEMA)
COMPLETE = {"partner_one": "Ána", "partner_two": "Luis", "date": "2027-02-14"}


def invitation(**allowances: object) -> Invitation:
    return Invitation.bought(
        owner_id="owner-1",
        order_id="order-1",
        order_item="template:t#1",
        template_id="t",
        plan_id="p",
        allowances=Allowances(**allowances),  # type: ignore[arg-type]
        at=T0,
    )


def event(kind: str = "ceremonia", hour: int = 16) -> Event:
    return Event(kind, datetime(2027, 2, 14, hour, tzinfo=UTC), "America/Lima")


def test_a_draft_saves_partial_data_and_a_merge_keeps_the_rest() -> None:
    made = invitation()
    made.save_data({"partner_one": "Ana"}, WEDDING, at=T0, merge=False)
    made.save_data({"dress_code": "Formal"}, WEDDING, at=T0, merge=True)
    made.save_data({"dress_code": None}, WEDDING, at=T0, merge=True)
    assert made.data == {"partner_one": "Ana"}


def test_publishing_needs_the_required_fields_and_makes_a_slug_from_the_names() -> None:
    made = invitation(published_days=30)
    with pytest.raises(RuleViolated) as refused:
        made.publish(WEDDING, slug=None, at=T0)
    assert set(refused.value.fields) == {"data.partner_one", "data.partner_two", "data.date"}
    made.save_data(COMPLETE, WEDDING, at=T0, merge=False)
    made.publish(WEDDING, slug=None, at=T0)
    assert made.status is InvitationStatus.PUBLISHED
    assert made.slug is not None
    assert made.slug.startswith("ana-luis-")
    assert made.expires_at == T0 + timedelta(days=30)


def test_a_published_invitation_keeps_its_required_fields() -> None:
    made = invitation()
    made.save_data(COMPLETE, WEDDING, at=T0, merge=False)
    made.publish(WEDDING, slug=None, at=T0)
    with pytest.raises(RuleViolated):
        made.save_data({"date": None}, WEDDING, at=T0, merge=True)
    assert made.data == COMPLETE


def test_a_custom_slug_needs_a_plan_that_allows_it_and_no_reserved_word() -> None:
    made = invitation()
    made.save_data(COMPLETE, WEDDING, at=T0, merge=False)
    with pytest.raises(RuleViolated):
        made.publish(WEDDING, slug="ana-y-luis", at=T0)
    allowed = invitation(custom_slug=True)
    allowed.save_data(COMPLETE, WEDDING, at=T0, merge=False)
    with pytest.raises(Conflict):
        allowed.publish(WEDDING, slug="admin", at=T0)
    with pytest.raises(RuleViolated):
        allowed.publish(WEDDING, slug="Ana y Luis!", at=T0)
    allowed.publish(WEDDING, slug="Ana-y-Luis", at=T0)
    assert allowed.slug == "ana-y-luis"


def test_unpublishing_then_publishing_again_keeps_the_slug() -> None:
    made = invitation()
    made.save_data(COMPLETE, WEDDING, at=T0, merge=False)
    made.publish(WEDDING, slug=None, at=T0)
    slug = made.slug
    made.unpublish(at=T0)
    with pytest.raises(Conflict):
        made.unpublish(at=T0)
    made.publish(WEDDING, slug=None, at=T0)
    assert (made.status, made.slug) == (InvitationStatus.PUBLISHED, slug)


def test_a_refunded_invitation_is_unpublished_and_never_published_again() -> None:
    made = invitation()
    made.save_data(COMPLETE, WEDDING, at=T0, merge=False)
    made.publish(WEDDING, slug=None, at=T0)
    assert made.revoke(at=T0)
    assert not made.revoke(at=T0)
    assert made.status is InvitationStatus.UNPUBLISHED
    with pytest.raises(Conflict):
        made.publish(WEDDING, slug=None, at=T0)


def test_events_keep_their_order_and_the_plans_number() -> None:
    made = invitation(events=3)
    first, second, third = (made.add_event(event(k), at=T0) for k in ("civil", "misa", "fiesta"))
    with pytest.raises(RuleViolated):
        made.add_event(event("after"), at=T0)
    made.revise_event(third.id, {"position": 0, "venue": "Hacienda"}, at=T0)
    assert [(e.type, e.position) for e in made.events] == [
        ("fiesta", 0),
        ("civil", 1),
        ("misa", 2),
    ]
    assert made.events[0].venue == "Hacienda"
    made.remove_event(first.id, at=T0)
    assert [(e.id, e.position) for e in made.events] == [(third.id, 0), (second.id, 1)]
    with pytest.raises(NotFound):
        made.remove_event(first.id, at=T0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "America"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"map_url": "javascript:alert(1)"}, "map_url"),
        ({"starts_at": datetime(2027, 2, 14, 16)}, "starts_at"),
        ({"ends_at": datetime(2027, 2, 14, 15, tzinfo=UTC)}, "ends_at"),
        ({"position": 5}, "position"),
        ({"type": " "}, "type"),
    ],
)
def test_a_bad_event_is_refused_naming_its_field(changes: dict[str, object], field: str) -> None:
    made = invitation()
    added = made.add_event(event(), at=T0)
    with pytest.raises(RuleViolated) as refused:
        made.revise_event(added.id, changes, at=T0)
    assert field in refused.value.fields
    assert made.events == [added]


@given(st.text(max_size=80))
def test_a_slug_made_from_any_text_is_lower_case_words_and_hyphens(text: str) -> None:
    made = slug_from(text)
    assert made == made.strip("-")
    assert all(c.isascii() and (c.isdigit() or c.islower() or c == "-") for c in made)
    assert "--" not in made


def test_reserved_words_cover_the_apps_own_paths() -> None:
    assert {"api", "i", "r", "admin"} <= RESERVED_SLUGS


def test_a_paid_orders_templates_each_make_invitations_on_its_first_plan() -> None:
    items = [PaidItem("plan", "p1", 1), PaidItem("template", "t1", 2), PaidItem("plan", "p2", 1)]
    assert bought_items(items) == [
        ("template:t1#1", "t1", "p1"),
        ("template:t1#2", "t1", "p1"),
    ]


def test_an_order_of_plans_only_makes_one_invitation_per_plan_unit() -> None:
    assert bought_items([PaidItem("plan", "p1", 2)]) == [
        ("plan:p1#1", None, "p1"),
        ("plan:p1#2", None, "p1"),
    ]


@given(
    st.lists(st.tuples(st.sampled_from(["add", "move", "remove"]), st.integers(0, 9)), max_size=30)
)
def test_events_stay_numbered_in_order_and_within_the_plan(
    steps: list[tuple[str, int]],
) -> None:
    made = invitation(events=4)
    for step, n in steps:
        try:
            if step == "add":
                made.add_event(event(f"e{n}"), at=T0)
            elif made.events:
                chosen = made.events[n % len(made.events)]
                if step == "move":
                    made.revise_event(chosen.id, {"position": n}, at=T0)
                else:
                    made.remove_event(chosen.id, at=T0)
        except RuleViolated:
            pass
        assert [e.position for e in made.events] == list(range(len(made.events)))
        assert len(made.events) <= 4
