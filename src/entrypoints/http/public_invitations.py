"""What guests open: the invitation page ``/i/{slug}`` (Jinja2, autoescaped, cached per
version with an ETag), its calendar, its JSON for custom frontends, short URLs ``/r/{code}``
and their QR code for printed cards."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

import attrs
from jinja2 import Environment, PackageLoader, select_autoescape
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter, QueryParameter
from litestar.response import Response
from litestar.response.base import ASGIResponse
from pydantic import Field

from entrypoints.http.auth import public
from entrypoints.http.errors import problems
from entrypoints.http.etags import IfNoneMatch, etag_matches
from entrypoints.http.invitation_media import media_url
from entrypoints.http.invitations import EventOut, event_out
from entrypoints.http.schemas import PRINTABLE, Out
from talia_core.invitations.media import Gallery, MediaItem
from talia_core.invitations.media_service import InvitationMediaService
from talia_core.invitations.model import SLUG_MAX, Event, Invitation
from talia_core.invitations.public import InvitationExpired, PublicInvitations
from talia_core.shared.clock import Clock
from talia_core.shared.errors import NotFound

HTML = "text/html; charset=utf-8"
CALENDAR = "text/calendar; charset=utf-8"
PAGE_CACHE_CONTROL = "public, max-age=60"
MAX_PAGES = 512


def _html(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=str, media_type=HTML, description=description, generate_examples=False
    )


PAGE_RESPONSES = {
    200: _html("The invitation's page"),
    304: ResponseSpec(data_container=None, description="The client holds this version"),
    404: _html("Not published: a friendly page"),
    410: _html("Past its time: a friendly page"),
    **problems(400),
}

Slug = Annotated[str, PathParameter(max_length=SLUG_MAX, pattern=PRINTABLE)]
RsvpState = Annotated[
    str | None,
    QueryParameter(
        name="rsvp",
        max_length=40,
        pattern="^[a-z_]+$",
        description="ok after an answer, or why it was refused (set by the RSVP route).",
    ),
]
GuestToken = Annotated[
    str | None,
    QueryParameter(max_length=64, pattern="^[A-Za-z0-9_-]+$", description="A guest's token."),
]

TEXTS: dict[str, dict[str, str]] = {
    "es": {
        "events": "Programa", "map": "Ver mapa", "calendar": "Añadir al calendario",
        "dress_code": "Código de vestimenta", "rsvp": "Confirma tu asistencia",
        "thanks": "¡Gracias! Recibimos tu respuesta.", "attending": "¿Asistirás?",
        "yes": "Sí", "no": "No", "party_size": "Personas", "names": "Nombre",
        "contact": "Correo o teléfono", "dietary": "Restricciones alimentarias",
        "note": "Mensaje", "send": "Enviar respuesta",
        "refused": "No pudimos registrar tu respuesta.",
        "rsvp_closed": "La confirmación de asistencia ya cerró.",
        "no_seats_left": "Ya no quedan lugares disponibles.",
        "invalid": "Revisa los datos del formulario.",
        "invalid_guest": "El enlace de invitado no es válido.",
    },
    "en": {
        "events": "Schedule", "map": "Open map", "calendar": "Add to calendar",
        "dress_code": "Dress code", "rsvp": "RSVP", "thanks": "Thank you! We got your answer.",
        "attending": "Will you attend?", "yes": "Yes", "no": "No", "party_size": "People",
        "names": "Name", "contact": "E-mail or phone", "dietary": "Dietary needs",
        "note": "Message", "send": "Send answer", "refused": "Your answer was not recorded.",
        "rsvp_closed": "RSVP is closed.", "no_seats_left": "There are no seats left.",
        "invalid": "Please check the form.", "invalid_guest": "The guest link is not valid.",
    },
}  # fmt: skip
MISSING = {
    404: ("Invitación no encontrada", "Esta invitación no existe o ya no está publicada."),
    410: ("Invitación finalizada", "Esta invitación ya no está disponible. ¡Gracias por venir!"),
}


class PublicInvitationOut(Out):
    slug: str
    title: str
    data: dict[str, Any]
    events: list[EventOut]
    published_at: datetime | None
    expires_at: datetime | None
    page_url: str
    ics_url: str
    rsvp_url: str
    cover: dict[str, str | None] = Field(description="The cover's display WebP and JPEG, thumb.")
    photos: list[dict[str, str | None]]
    audio: str | None


def base_of(request: Request[Any, Any, Any]) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def title_of(invitation: Invitation) -> str:
    names = [str(invitation.data.get(k) or "") for k in ("partner_one", "partner_two")]
    return " & ".join(n for n in names if n) or str(invitation.data.get("headline") or "")


def map_link(event: Event) -> str | None:
    if event.map_url:
        return event.map_url
    place = ", ".join(p for p in (event.venue, event.address) if p)
    return f"https://www.google.com/maps/search/?api=1&query={quote_plus(place)}" if place else None


def _file(item: MediaItem | None, name: str, format: str | None = None) -> str | None:
    """The path of ``item``'s rendition ``name`` (in ``format``), when it has one."""
    found = next(
        (
            r
            for r in (item.renditions if item else ())
            if r.name == name and format in (None, r.format)
        ),
        None,
    )
    return media_url(found.file_name) if found else None


@attrs.frozen
class Media:
    """The paths of what a page shows of its gallery; ``files`` tells one gallery from
    another (a rendition's name is unique to its bytes)."""

    cover: dict[str, str | None]
    photos: list[dict[str, str | None]]
    audio: str | None
    files: tuple[str, ...]

    @classmethod
    def of(cls, gallery: Gallery) -> Media:
        def image(item: MediaItem | None) -> dict[str, str | None]:
            return {
                "webp": _file(item, "display", "webp"),
                "jpeg": _file(item, "display", "jpeg"),
                "thumb": _file(item, "thumb", "jpeg"),
            }

        items = [gallery.cover, *gallery.photos, gallery.audio]
        return cls(
            cover=image(gallery.cover),
            photos=[image(photo) for photo in gallery.photos],
            audio=_file(gallery.audio, "audio"),
            files=tuple(r.file_name for item in items if item for r in item.renditions),
        )


@attrs.frozen
class _Page:
    """A rendered page and its two answers, built once (an ASGI response only reads its body
    and headers when sent, so one instance serves every request)."""

    version: tuple[str, datetime, tuple[str, ...]]
    checked: float
    expires_at: datetime | None
    etag: str
    ok: ASGIResponse
    not_modified: ASGIResponse

    def over(self, now: datetime) -> bool:
        """Past the invitation's time on the web."""
        return self.expires_at is not None and self.expires_at <= now

    def answer(self, if_none_match: str | None) -> ASGIResponse:
        if if_none_match is not None and etag_matches(if_none_match, self.etag):
            return self.not_modified
        return self.ok


Read = Callable[[str], Awaitable[tuple[Invitation, "Media"]]]
PageKey = tuple[str, str, str | None, str | None]
"""(slug, scheme and host, RSVP state, guest token): what the page shows besides the
invitation."""


def page_reader(
    public_invitations: Callable[[], PublicInvitations],
    invitation_media: Callable[[], InvitationMediaService],
) -> Read:
    """What a page shows, read by its slug through the use cases (each built on first use)."""

    async def read(slug: str) -> tuple[Invitation, Media]:
        invitation = await public_invitations().page(slug)
        return invitation, Media.of(await invitation_media().gallery(invitation.id))

    return read


class InvitationPages:
    """Renders the page and the friendly 404/410 pages, keeping the last ``max_pages``.

    A kept page is answered without reading the invitation for ``ttl`` seconds (a link
    shared in a group is opened by many guests at once); then the next request reads it
    again in the background, and it is rendered again only when its version (``updated_at``,
    its media) changed. While that read runs the kept page is still answered, for another
    ``ttl`` at most. So an edit or unpublishing reaches guests within ``ttl`` plus one read,
    never later than ``2 * ttl``; at the end of its time (``expires_at``, by ``clock``) the
    kept page is dropped at once.
    """

    def __init__(
        self,
        ttl: float,
        read: Read,
        clock: Clock,
        *,
        max_pages: int = MAX_PAGES,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._env = Environment(
            loader=PackageLoader("entrypoints", "templates"),
            autoescape=select_autoescape(["html"], default=True),
        )
        self._ttl = ttl
        self._read = read
        self._clock = clock
        self._max = max_pages
        self._now = now
        self._pages: OrderedDict[PageKey, _Page] = OrderedDict()
        self._loading: dict[PageKey, asyncio.Future[_Page]] = {}

    async def read(self, slug: str) -> tuple[Invitation, Media]:
        """The invitation and its media as they are now, read past the kept pages."""
        return await self._read(slug)

    async def get(self, key: PageKey) -> _Page:
        """The page for ``key``, made current once it was checked ``ttl`` seconds ago. One
        read runs per page at a time: requests for a page not kept (or kept too long) wait
        for it."""
        page = self._pages.get(key)
        if page is not None and page.over(self._clock.now()):
            del self._pages[key]  # its read answers 410 from now on
            page = None
        age = self._now() - page.checked if page is not None else 0.0
        if page is not None and age < self._ttl:
            return page
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._load(key))
            self._loading[key] = loading
            loading.add_done_callback(lambda done: self._loaded(key, done))
        if page is not None and age < 2 * self._ttl:
            return page
        # Shielded: a guest who leaves does not cancel the read the others wait for.
        return await asyncio.shield(loading)

    async def _load(self, key: PageKey) -> _Page:
        try:
            invitation, media = await self._read(key[0])
        except Exception:
            self._pages.pop(key, None)  # unpublished or ended: the next request finds out
            raise
        return self.page(key, invitation, media)

    def _loaded(self, key: PageKey, done: asyncio.Future[_Page]) -> None:
        self._loading.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved: a load nobody waited for fails quietly

    def page(self, key: PageKey, invitation: Invitation, media: Media) -> _Page:
        """The page of ``invitation`` as it is now, rendered again only when it changed."""
        version = (invitation.id, invitation.updated_at, media.files)
        kept = self._pages.get(key)
        if kept is not None and kept.version == version:
            page = attrs.evolve(kept, checked=self._now(), expires_at=invitation.expires_at)
        else:
            page = self._render(key, invitation, media)
        self._pages[key] = page
        self._pages.move_to_end(key)
        if len(self._pages) > self._max:
            self._pages.popitem(last=False)
        return page

    def missing(self, status: int) -> ASGIResponse:
        heading, explanation = MISSING[status]
        body = self._env.get_template("invitation_missing.html").render(
            heading=heading, explanation=explanation
        )
        return ASGIResponse(body=body.encode(), status_code=status, media_type=HTML)

    def _render(self, key: PageKey, invitation: Invitation, media: Media) -> _Page:
        _, base, rsvp, guest_token = key
        data = invitation.data
        language = data.get("language") if data.get("language") in TEXTS else "es"
        text = TEXTS[str(language)]
        slug = str(invitation.slug)
        title = title_of(invitation)
        events = [
            {**attrs.asdict(event), "when": _when(event), "map": map_link(event)}
            for event in invitation.events
        ]
        body = (
            self._env.get_template("invitation.html")
            .render(
                language=language,
                text=text,
                title=title,
                description=data.get("headline") or data.get("message", "")[:200] or title,
                headline=data.get("headline"),
                date=data.get("date"),
                message=data.get("message"),
                dress_code=data.get("dress_code"),
                cover=media.cover,
                cover_url=f"{base}{media.cover['jpeg']}" if media.cover["jpeg"] else None,
                photos=media.photos,
                audio=media.audio,
                page_url=f"{base}/i/{slug}",
                ics_url=f"/i/{slug}/events.ics",
                rsvp_url=f"/api/public/invitations/{slug}/rsvp",
                events=events,
                rsvp=rsvp,
                refusal=text.get(rsvp or "", text["refused"]),
                guest_token=guest_token,
                seats=invitation.allowances.guests,
            )
            .encode()
        )
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        headers = {"ETag": etag, "Cache-Control": PAGE_CACHE_CONTROL}
        return _Page(
            version=(invitation.id, invitation.updated_at, media.files),
            checked=self._now(),
            expires_at=invitation.expires_at,
            etag=etag,
            ok=ASGIResponse(body=body, media_type=HTML, headers=headers),
            not_modified=ASGIResponse(status_code=304, headers=headers),
        )


def _when(event: Event) -> str:
    local = event.starts_at.astimezone(ZoneInfo(event.time_zone))
    return local.strftime("%d/%m/%Y %H:%M")


def events_ics(invitation: Invitation, base: str) -> bytes:
    import icalendar  # 3 MB once imported: by the first calendar asked for

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Talia//Invitations//ES")
    calendar.add("version", "2.0")
    title = title_of(invitation)
    for event in invitation.events:
        entry = icalendar.Event()
        entry.add("uid", f"{event.id}@talia")
        entry.add("dtstamp", invitation.updated_at)
        zone = ZoneInfo(event.time_zone)
        entry.add("dtstart", event.starts_at.astimezone(zone))
        if event.ends_at is not None:
            entry.add("dtend", event.ends_at.astimezone(zone))
        entry.add("summary", f"{event.type} · {title}" if title else event.type)
        place = ", ".join(p for p in (event.venue, event.address) if p)
        if place:
            entry.add("location", place)
        entry.add("url", f"{base}/i/{invitation.slug}")
        calendar.add_component(entry)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical


class PublicInvitationController(Controller):
    """Each route names its guard itself: only a handler's own ``public`` is dropped from
    the guards run on each request (see ``_document_public_routes`` in ``app.py``)."""

    tags = ["invitations"]

    @get(
        "/i/{slug:str}",
        guards=[public],
        media_type=HTML,
        include_in_schema=True,
        responses=PAGE_RESPONSES,
    )
    async def page(
        self,
        request: Request[Any, Any, Any],
        slug: Slug,
        invitation_pages: NamedDependency[InvitationPages],
        if_none_match: IfNoneMatch = None,
        rsvp_state: RsvpState = None,
        g: GuestToken = None,
    ) -> ASGIResponse:
        """The invitation's page with its RSVP form (``g`` carries a guest's token); a
        friendly page answered 404 when it is not published, 410 past its time."""
        # One dependency: with several, Litestar resolves them in a task group of their own,
        # which cost more than the rest of a kept page's answer.
        try:
            page = await invitation_pages.get((slug, base_of(request), rsvp_state, g))
        except NotFound:
            return invitation_pages.missing(404)
        except InvitationExpired:
            return invitation_pages.missing(410)
        return page.answer(if_none_match)

    @get(
        "/i/{slug:str}/events.ics",
        guards=[public],
        media_type=CALENDAR,
        responses=problems(400, 404, 410),
    )
    async def calendar(
        self,
        request: Request[Any, Any, Any],
        slug: Slug,
        public_invitations: NamedDependency[PublicInvitations],
    ) -> Response[bytes]:
        """The invitation's events as iCalendar, for "add to calendar"."""
        invitation = await public_invitations.page(slug)
        return Response(
            events_ics(invitation, base_of(request)),
            media_type=CALENDAR,
            headers={"Cache-Control": PAGE_CACHE_CONTROL},
        )

    @get("/api/public/invitations/{slug:str}", guards=[public], responses=problems(400, 404, 410))
    async def as_json(
        self,
        request: Request[Any, Any, Any],
        slug: Slug,
        invitation_pages: NamedDependency[InvitationPages],
    ) -> PublicInvitationOut:
        """What the page shows, for a custom frontend (media paths relative to the host)."""
        invitation, media = await invitation_pages.read(slug)
        base = base_of(request)
        return PublicInvitationOut(
            slug=slug,
            title=title_of(invitation),
            data=invitation.data,
            events=[event_out(event) for event in invitation.events],
            published_at=invitation.published_at,
            expires_at=invitation.expires_at,
            page_url=f"{base}/i/{slug}",
            ics_url=f"{base}/i/{slug}/events.ics",
            rsvp_url=f"{base}/api/public/invitations/{slug}/rsvp",
            cover=media.cover,
            photos=media.photos,
            audio=media.audio,
        )


CONTROLLERS = [PublicInvitationController]
