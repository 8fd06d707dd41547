"""Guests and their answers (RSVP): a link per family, one answer per guest or contact, and
never more people confirmed than the invitation's plan allows.

A guest's token is an unguessable id (128 random bits) kept as it is, not hashed: the owner
reads the guest list again to send each family its link.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs

from talia_core.invitations.model import Invitation, InvitationStatus
from talia_core.shared.errors import Conflict, NotFound, RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.text import email_address, optional_text, required_text

TOKEN_BYTES = 16
TOKEN_MAX = 43
MAX_GUEST_NAME = 120
MAX_NAME = 80
MAX_NAMES = 30
MAX_DIETARY = 500
MAX_MESSAGE = 2000
MAX_CONTACT = 254
DEADLINE_FIELD = "rsvp_deadline"
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")


class RsvpClosed(Conflict):
    """The invitation's RSVP deadline has passed."""


class NoSeatsLeft(Conflict):
    """Confirming these people would pass the number of guests the invitation allows."""


@attrs.define
class Guest:
    """A family or group on the owner's list, answering through its own link."""

    invitation_id: str
    name: str
    allowance: int
    token: str
    created_at: datetime
    id: str = attrs.field(factory=new_id)

    @classmethod
    def invite(cls, invitation: Invitation, *, name: str, allowance: int, at: datetime) -> Guest:
        """A guest for up to ``allowance`` people: at most the invitation's own allowance. The
        list may hold more seats than the invitation (not everyone comes); the confirmed
        total is what is capped."""
        if not 1 <= allowance <= invitation.allowances.guests:
            raise RuleViolated(
                f"a guest brings 1 to {invitation.allowances.guests} people",
                {"allowance": "out of range"},
            )
        return cls(
            invitation_id=invitation.id,
            name=required_text("name", name, MAX_GUEST_NAME),
            allowance=allowance,
            token=secrets.token_urlsafe(TOKEN_BYTES),
            created_at=at,
        )


@attrs.frozen
class Reply:
    """What a guest sends."""

    attending: bool
    party_size: int
    names: Sequence[str] = ()
    dietary: str | None = None
    message: str | None = None
    contact: str | None = None
    guest_token: str | None = None


@attrs.define
class Answer:
    """The one answer of a guest (``guest_id``) or, without a guest list, of a contact
    (``contact_key``); answering again changes it."""

    invitation_id: str
    guest_id: str | None
    contact_key: str | None
    attending: bool
    party_size: int
    names: list[str]
    dietary: str | None
    message: str | None
    contact: str | None
    created_at: datetime
    updated_at: datetime
    id: str = attrs.field(factory=new_id)

    @property
    def confirmed(self) -> int:
        return self.party_size if self.attending else 0


def contact_key(contact: str) -> str:
    """Who answers without a guest link: ``email:`` and the address lower-cased, or ``tel:``
    and the phone number's digits (a leading ``+`` kept; spaces, dots, dashes and
    parentheses dropped), so one person writing it two ways still answers once."""
    cleaned = contact.strip()
    if "@" in cleaned:
        return "email:" + email_address("contact", cleaned)
    phone = _PHONE_SEPARATORS.sub("", cleaned)
    if not _PHONE.match(phone):
        raise RuleViolated("contact is an e-mail address or a phone number", {"contact": "invalid"})
    return "tel:" + phone


def deadline_of(invitation: Invitation) -> datetime | None:
    """The end of the day in the invitation's ``rsvp_deadline`` field (a date), in its first
    event's time zone (UTC without events); ``None`` when the field holds no date."""
    value = invitation.data.get(DEADLINE_FIELD)
    try:
        day = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None  # a template of its own may hold the field as free text: not a deadline
    if day is None:
        return None
    zone = ZoneInfo(invitation.events[0].time_zone) if invitation.events else UTC
    next_day = day + timedelta(days=1)
    return datetime.combine(next_day, time(), zone).astimezone(UTC)


def check_open(invitation: Invitation, at: datetime) -> None:
    """Answers are taken while the invitation is on the web and before its deadline."""
    published = invitation.status is InvitationStatus.PUBLISHED
    if not published or (invitation.expires_at is not None and at >= invitation.expires_at):
        raise NotFound("invitation", invitation.slug or invitation.id)
    deadline = deadline_of(invitation)
    if deadline is not None and at >= deadline:
        raise RsvpClosed(f"answers closed on {invitation.data[DEADLINE_FIELD]}")


def check_seats(party_size: int, *, confirmed_by_others: int, allowance: int) -> None:
    """The invariant: every answer's confirmed people together stay within ``allowance``."""
    if confirmed_by_others + party_size > allowance:
        left = max(allowance - confirmed_by_others, 0)
        raise NoSeatsLeft(f"{left} of the invitation's {allowance} places are left")


def answer(
    invitation: Invitation,
    guest: Guest | None,
    reply: Reply,
    *,
    previous: Answer | None,
    confirmed_by_others: int,
    at: datetime,
) -> Answer:
    """The guest's (or contact's) answer, new or replacing ``previous``; ``confirmed_by_others``
    counts everyone else's confirmed people."""
    check_open(invitation, at)
    limit = guest.allowance if guest is not None else invitation.allowances.guests
    if reply.attending and not 1 <= reply.party_size <= limit:
        reason = "over allowance" if reply.party_size > limit else "out of range"
        raise RuleViolated(f"party_size is 1 to {limit}", {"party_size": reason})
    party_size = reply.party_size if reply.attending else 0
    if len(reply.names) > max(party_size, 1) or len(reply.names) > MAX_NAMES:
        raise RuleViolated("a name for each person at most", {"names": "too many"})
    names = [required_text("names", name, MAX_NAME) for name in reply.names]
    contact = optional_text("contact", reply.contact, MAX_CONTACT)
    key = None
    if guest is None:
        if contact is None:
            raise RuleViolated("an e-mail address or phone number is needed", {"contact": "blank"})
        key = contact_key(contact)
    check_seats(
        party_size,
        confirmed_by_others=confirmed_by_others,
        allowance=invitation.allowances.guests,
    )
    return Answer(
        invitation_id=invitation.id,
        guest_id=guest.id if guest is not None else None,
        contact_key=key,
        attending=reply.attending,
        party_size=party_size,
        names=names,
        dietary=optional_text("dietary", reply.dietary, MAX_DIETARY),
        message=optional_text("message", reply.message, MAX_MESSAGE),
        contact=contact,
        created_at=previous.created_at if previous is not None else at,
        updated_at=at,
        id=previous.id if previous is not None else new_id(),
    )
