"""An invitation: bought with an order, filled in by its owner, published under a slug."""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import available_timezones

import attrs

from talia_core.invitations.fields import FieldSchema
from talia_core.shared.errors import Conflict, NotFound, RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.text import optional_text, required_text

SLUG_MIN, SLUG_MAX = 3, 60
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_SLUGS = frozenset(
    {
        "admin", "api", "app", "assets", "auth", "health", "i", "invitacion", "invitation",
        "login", "logout", "media", "metrics", "new", "public", "r", "rsvp", "schema",
        "static", "talia", "www",
    }
)  # fmt: skip


class InvitationStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"


@attrs.frozen
class Allowances:
    """What the plan bought: copied onto the invitation when it is made, so a later change
    of the plan does not change what was paid for."""

    guests: int = 100
    media_count: int = 10
    media_bytes: int = 5_000_000
    events: int = 5
    custom_slug: bool = False
    published_days: int = 365


@attrs.define
class Event:
    """One moment of the day: ceremony, reception, after-party…"""

    type: str
    starts_at: datetime
    time_zone: str
    venue: str | None = None
    address: str | None = None
    map_url: str | None = None
    ends_at: datetime | None = None
    position: int = 0
    id: str = attrs.field(factory=new_id)

    def _ordered(self) -> Event:
        if self.ends_at is not None and self.ends_at < self.starts_at:
            raise RuleViolated("an event ends after it starts", {"ends_at": "before start"})
        return self


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(name: str) -> str:
    # Looked up among the known names, never opened: "America" is a directory of zones.
    if name not in _zones():
        raise RuleViolated(f"{name!r} is not a time zone", {"time_zone": "unknown"})
    return name


def _map_url(url: str | None) -> str | None:
    cleaned = optional_text("map_url", url, 500)
    if cleaned is not None and not cleaned.startswith("https://"):
        raise RuleViolated("map_url must be an https URL", {"map_url": "invalid"})
    return cleaned


def _aware(field: str, at: datetime | None) -> datetime | None:
    if at is not None and at.utcoffset() is None:
        raise RuleViolated(f"{field} needs a time zone offset", {field: "naive"})
    return at


def slug_from(text: str) -> str:
    """Lower-case ASCII words joined by hyphens (accents dropped)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text.lower()))[:40].strip("-")


def custom_slug(value: str, *, longest: int = SLUG_MAX) -> str:
    """An owner's choice of name (a slug, a short URL's code): ``longest`` characters at most."""
    cleaned = value.strip().lower()
    if not SLUG_MIN <= len(cleaned) <= longest or not _SLUG.match(cleaned):
        raise RuleViolated(
            f"a slug is {SLUG_MIN} to {longest} lower-case letters and digits joined by hyphens",
            {"slug": "invalid"},
        )
    if cleaned in RESERVED_SLUGS:
        raise Conflict(f"the slug {cleaned!r} is reserved")
    return cleaned


@attrs.define
class Invitation:
    owner_id: str
    order_id: str | None
    order_item: str | None
    template_id: str | None
    plan_id: str | None
    allowances: Allowances
    created_at: datetime
    updated_at: datetime
    status: InvitationStatus = InvitationStatus.DRAFT
    data: dict[str, Any] = attrs.field(factory=dict)
    events: list[Event] = attrs.field(factory=list)
    slug: str | None = None
    published_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    id: str = attrs.field(factory=new_id)

    @classmethod
    def bought(
        cls,
        *,
        owner_id: str,
        order_id: str | None,
        order_item: str | None,
        template_id: str | None,
        plan_id: str | None,
        allowances: Allowances,
        at: datetime,
    ) -> Invitation:
        return cls(
            owner_id=owner_id,
            order_id=order_id,
            order_item=order_item,
            template_id=template_id,
            plan_id=plan_id,
            allowances=allowances,
            created_at=at,
            updated_at=at,
        )

    def save_data(
        self, data: Mapping[str, Any], schema: FieldSchema, *, at: datetime, merge: bool
    ) -> None:
        """Replace (or, ``merge``, update) the data; a draft may lack required fields, a
        published invitation must keep them."""
        merged = {**self.data, **data} if merge else dict(data)
        schema.check(data, complete=False)
        cleaned = {name: value for name, value in merged.items() if value is not None}
        if self.status is InvitationStatus.PUBLISHED:
            schema.check(cleaned, complete=True)
        self.data = cleaned
        self.updated_at = at

    def add_event(self, event: Event, *, at: datetime) -> Event:
        if len(self.events) >= self.allowances.events:
            raise RuleViolated(
                f"the plan allows {self.allowances.events} events", {"events": "over allowance"}
            )
        checked = self._checked(event)
        checked.position = len(self.events)
        self.events.append(checked)
        self.updated_at = at
        return checked

    def revise_event(self, event_id: str, changes: Mapping[str, Any], *, at: datetime) -> Event:
        current = self.event(event_id)
        position = changes.get("position", current.position)
        revised = self._checked(attrs.evolve(current, **{**changes, "position": current.position}))
        self.events[self.events.index(current)] = revised
        self._move(revised, position)
        self.updated_at = at
        return revised

    def remove_event(self, event_id: str, *, at: datetime) -> None:
        self.events.remove(self.event(event_id))
        self._renumber()
        self.updated_at = at

    def event(self, event_id: str) -> Event:
        found = next((e for e in self.events if e.id == event_id), None)
        if found is None:
            raise NotFound("event", event_id)
        return found

    def publish(self, schema: FieldSchema, *, slug: str | None, at: datetime) -> None:
        """Publish under ``slug`` (only when the plan allows one of the owner's choosing) or
        one made from the data; the template's required fields must be filled in."""
        if self.revoked_at is not None:
            raise Conflict("the invitation's order was refunded; it cannot be published")
        if self.status is InvitationStatus.PUBLISHED:
            raise Conflict("the invitation is already published")
        schema.check(self.data, complete=True)
        if slug is not None:
            if not self.allowances.custom_slug:
                raise RuleViolated("the plan does not allow choosing the slug", {"slug": "plan"})
            self.slug = custom_slug(slug)
        elif self.slug is None:
            self.slug = self._generated_slug()
        self.status = InvitationStatus.PUBLISHED
        self.published_at = at
        self.expires_at = at + timedelta(days=self.allowances.published_days)
        self.updated_at = at

    def unpublish(self, *, at: datetime) -> None:
        if self.status is not InvitationStatus.PUBLISHED:
            raise Conflict(f"the invitation is {self.status.value}, not published")
        self.status = InvitationStatus.UNPUBLISHED
        self.updated_at = at

    def revoke(self, *, at: datetime) -> bool:
        """The order was given back: off the web for good. False when it already was."""
        if self.revoked_at is not None:
            return False
        self.revoked_at = at
        if self.status is InvitationStatus.PUBLISHED:
            self.status = InvitationStatus.UNPUBLISHED
        self.updated_at = at
        return True

    def _generated_slug(self) -> str:
        names = [str(self.data.get(k, "")) for k in ("partner_one", "partner_two")]
        stem = slug_from(" ".join(n for n in names if n)) or "evento"
        return f"{stem}-{self.id.replace('-', '')[:8]}"

    def _checked(self, event: Event) -> Event:
        return Event(
            type=required_text("type", event.type, 40),
            starts_at=_aware("starts_at", event.starts_at) or event.starts_at,
            ends_at=_aware("ends_at", event.ends_at),
            time_zone=_zone(event.time_zone),
            venue=optional_text("venue", event.venue, 160),
            address=optional_text("address", event.address, 300),
            map_url=_map_url(event.map_url),
            position=event.position,
            id=event.id,
        )._ordered()

    def _move(self, event: Event, position: int) -> None:
        if not 0 <= position < len(self.events):
            raise RuleViolated(
                f"position is 0 to {len(self.events) - 1}", {"position": "out of range"}
            )
        self.events.remove(event)
        self.events.insert(position, event)
        self._renumber()

    def _renumber(self) -> None:
        for position, event in enumerate(self.events):
            event.position = position
