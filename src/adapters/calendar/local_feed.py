"""The local calendar as an iCalendar feed (RFC 5545) a calendar app subscribes to.

The URL carries a token, an HMAC of the calendar id, so an app can fetch it without a login;
changing the secret revokes every subscribed URL. Cancelled appointments stay in the feed
as ``STATUS:CANCELLED`` with a higher ``SEQUENCE``, so subscribers drop them. icalendar is
imported by the first feed rendered.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from adapters.persistence.scheduling.calendar import SqlAlchemyCalendar
from talia_core.shared.clock import Clock
from talia_core.shared.errors import NotFound

HISTORY = timedelta(days=30)
"""How far back the feed reaches: recent appointments stay visible after they happen."""


class LocalCalendarFeed:
    def __init__(
        self, calendar: SqlAlchemyCalendar, clock: Clock, *, secret: str, calendar_id: str
    ) -> None:
        self._calendar = calendar
        self._clock = clock
        self._secret = secret.encode()
        self._calendar_id = calendar_id

    def token(self, calendar_id: str) -> str:
        return hmac.new(self._secret, calendar_id.encode(), hashlib.sha256).hexdigest()[:32]

    async def render(self, calendar_id: str, token: str) -> bytes:
        """The feed, or ``NotFound`` for a wrong calendar or token (nothing says which)."""
        if calendar_id != self._calendar_id or not hmac.compare_digest(
            token.encode(), self.token(calendar_id).encode()
        ):
            raise NotFound("calendar", calendar_id)
        import icalendar

        now = self._clock.now()
        feed = icalendar.Calendar()
        feed.add("prodid", "-//Talia//Appointments//ES")
        feed.add("version", "2.0")
        feed.add("calscale", "GREGORIAN")
        feed.add("x-wr-calname", f"Talia: {calendar_id}")
        for event in await self._calendar.events(calendar_id, now - HISTORY):
            item = icalendar.Event()
            item.add("uid", f"{event.id}@talia")
            item.add("dtstamp", event.updated_at)
            item.add("last-modified", event.updated_at)
            item.add("dtstart", event.starts_at)
            item.add("dtend", event.ends_at)
            item.add("summary", event.summary)
            if event.description:
                item.add("description", event.description)
            item.add("sequence", event.sequence)
            item.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
            item.add("transp", "TRANSPARENT" if event.cancelled else "OPAQUE")
            feed.add_component(item)
        return bytes(feed.to_ical())
