"""Short URLs of invitations: made and listed by their owner, followed by guests
(``/r/{code}``, a 302 to the page), and their QR code for printed cards.

Guests open a shared link in bursts; with ``flush_seconds`` the clicks are tallied in the
worker and added to the database together (``clicks = clicks + n``) at that interval and
when the app stops, so a redirect costs a read of a cached target, not a write. A worker
that dies loses at most that interval's clicks. Without it, each click is written in its
request.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from typing import Annotated, Any, Literal

import segno
from litestar import Controller, Litestar, Request, get, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.response import Redirect, Response
from pydantic import Field

from entrypoints.http.auth import customer_or_admin, public
from entrypoints.http.errors import problems
from entrypoints.http.etags import IfNoneMatch, etag_matches
from entrypoints.http.invitations import caller_of
from entrypoints.http.public_invitations import base_of
from entrypoints.http.schemas import Id, Out, Schema
from talia_core.identity.model import Principal
from talia_core.invitations.public import CODE_MAX, PublicInvitations, ShortUrl
from talia_core.shared.errors import Conflict

logger = logging.getLogger("talia.invitations")
Code = Annotated[str, PathParameter(max_length=CODE_MAX, pattern="^[0-9A-Za-z-]+$")]
MAX_TARGETS = 10_000
QR_KINDS = {"svg": "image/svg+xml", "png": "image/png"}
QR_CACHE_CONTROL = "private, no-cache"
"""The owner's browser keeps the image and asks again with its ETag: a newer short URL
changes the code at once."""


class ClickTally:
    """Where codes lead (kept ``ttl`` seconds) and the clicks not yet written."""

    def __init__(
        self,
        public_invitations: Callable[[], PublicInvitations],
        *,
        flush_seconds: float,
        ttl: float,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._public = public_invitations
        self._flush_seconds = flush_seconds
        self._ttl = ttl
        self._now = now
        self._targets: dict[str, tuple[float, str]] = {}
        self._reading: dict[str, asyncio.Future[str]] = {}
        self._clicks: Counter[str] = Counter()

    async def follow(self, code: str) -> str:
        """The slug ``code`` leads to (``NotFound`` for an unknown code), its click counted."""
        if self._flush_seconds <= 0:
            return await self._public().follow(code)
        kept = self._targets.get(code)
        if kept is not None and self._now() - kept[0] < self._ttl:
            slug = kept[1]
        else:
            slug = await self._target(code)
            if len(self._targets) >= MAX_TARGETS:
                self._targets.clear()
            self._targets[code] = (self._now(), slug)
        self._clicks[code] += 1
        return slug

    async def _target(self, code: str) -> str:
        """Where ``code`` leads, read once for all the guests who ask meanwhile: when a kept
        target's time is up, a burst of them would otherwise each read it, and open a
        database connection past the pool's."""
        reading = self._reading.get(code)
        if reading is None:
            reading = asyncio.ensure_future(self._public().target(code))
            self._reading[code] = reading
            reading.add_done_callback(lambda done: self._read(code, done))
        # Shielded: a guest who leaves does not cancel the read the others wait for.
        return await asyncio.shield(reading)

    def _read(self, code: str, done: asyncio.Future[str]) -> None:
        self._reading.pop(code, None)
        if not done.cancelled():
            done.exception()  # retrieved: a read nobody waited for fails quietly

    async def flush(self) -> None:
        """Write the clicks tallied so far; kept for the next time when the write fails."""
        clicks, self._clicks = self._clicks, Counter()
        if not clicks:
            return
        try:
            await self._public().count_clicks(clicks)
        except Exception:
            logger.exception("clicks of short URLs not written; kept for the next flush")
            self._clicks.update(clicks)

    @asynccontextmanager
    async def running(self, _: Litestar) -> AsyncIterator[None]:
        """The app's lifespan: flush every ``flush_seconds``, and once more at the end."""
        if self._flush_seconds <= 0:
            yield
            return

        async def flushing() -> None:
            while True:
                await asyncio.sleep(self._flush_seconds)
                await self.flush()

        task = asyncio.create_task(flushing())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            await self.flush()


class ShortUrlIn(Schema):
    slug: str | None = Field(
        None,
        max_length=CODE_MAX,
        description="The code of the owner's choosing (lower-case letters and digits joined by "
        "hyphens, reserved words refused), when the plan allows choosing names; a random one "
        "without it.",
    )


class ShortUrlOut(Out):
    code: str
    url: str
    clicks: int
    created_at: datetime


def short_url_out(short_url: ShortUrl, base: str) -> ShortUrlOut:
    return ShortUrlOut(
        code=short_url.code,
        url=f"{base}/r/{short_url.code}",
        clicks=short_url.clicks,
        created_at=short_url.created_at,
    )


QrKind = Annotated[
    Literal["svg", "png"] | None,
    QueryParameter(name="format", description="svg (the default) or png; before Accept."),
]
QR_HEADERS = [
    ResponseHeader(name="ETag", documentation_only=True, description="Of the code and format."),
    ResponseHeader(name="Cache-Control", documentation_only=True, description=QR_CACHE_CONTROL),
]
QR_SPEC = {
    200: ResponseSpec(
        data_container=bytes,
        media_type="image/svg+xml",
        description="The QR code as SVG, or as PNG (image/png) when asked.",
    ),
    304: ResponseSpec(data_container=None, description="The client holds this image"),
}


class ShortLinkController(Controller):
    guards = [public]
    tags = ["invitations"]

    @get("/r/{code:str}", status_code=302, responses=problems(400, 404))
    async def follow(self, code: Code, click_tally: NamedDependency[ClickTally]) -> Redirect:
        """302 to the invitation's page; the click is counted, the visitor not recorded."""
        slug = await click_tally.follow(code)
        return Redirect(f"/i/{slug}", status_code=302, headers={"Cache-Control": "no-store"})


class ShortUrlController(Controller):
    path = "/api/invitations/{invitation_id:str}"
    guards = [customer_or_admin]
    tags = ["invitations"]

    @post("/urls", status_code=201, responses=problems(400, 401, 403, 404, 409, 422))
    async def shorten(
        self,
        request: Request[Any, Any, Any],
        invitation_id: Id,
        public_invitations: NamedDependency[PublicInvitations],
        principal: NamedDependency[Principal],
        data: JSONBody[ShortUrlIn | None] = None,
    ) -> ShortUrlOut:
        """A new short URL of a published invitation, under the code sent as ``slug`` (422
        when it is not a valid slug or the plan does not allow choosing it) or a random one;
        409 when the invitation is not published, or the code is taken or reserved."""
        code = data.slug if data else None
        short_url = await public_invitations.shorten(caller_of(principal), invitation_id, code=code)
        return short_url_out(short_url, base_of(request))

    @get("/urls", responses=problems(400, 401, 403, 404))
    async def list_urls(
        self,
        request: Request[Any, Any, Any],
        invitation_id: Id,
        public_invitations: NamedDependency[PublicInvitations],
        principal: NamedDependency[Principal],
    ) -> list[ShortUrlOut]:
        """Newest first, each with its clicks (those of the last flush interval may not be
        in yet)."""
        found = await public_invitations.short_urls(caller_of(principal), invitation_id)
        return [short_url_out(s, base_of(request)) for s in found]

    @get(
        ["/qr", "/qr.svg"],
        response_headers=QR_HEADERS,
        responses={**QR_SPEC, **problems(400, 401, 403, 404, 409)},
    )
    async def qr(
        self,
        request: Request[Any, Any, Any],
        invitation_id: Id,
        public_invitations: NamedDependency[PublicInvitations],
        principal: NamedDependency[Principal],
        kind: QrKind = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[bytes]:
        """The QR code of the invitation's newest short URL, for printed cards (409 when it
        has none yet): SVG, or PNG with ``format=png`` or ``Accept: image/png``."""
        found = await public_invitations.short_urls(caller_of(principal), invitation_id)
        if not found:
            raise Conflict("the invitation has no short URL yet: POST .../urls makes one")
        chosen = kind or _by_accept(request)
        url = f"{base_of(request)}/r/{found[0].code}"
        etag = '"' + hashlib.sha256(f"{chosen} {url}".encode()).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": QR_CACHE_CONTROL, "Vary": "Accept"}
        if if_none_match is not None and etag_matches(if_none_match, etag):
            return Response(b"", status_code=304, headers=headers)
        return Response(qr_image(url, chosen), media_type=QR_KINDS[chosen], headers=headers)


def _by_accept(request: Request[Any, Any, Any]) -> str:
    best = request.accept.best_match(list(QR_KINDS.values()), default=QR_KINDS["svg"])
    return next(kind for kind, media_type in QR_KINDS.items() if media_type == best)


def qr_image(url: str, kind: str) -> bytes:
    """Error correction M; 8 pixels a module and the standard 4-module quiet zone."""
    image = io.BytesIO()
    qr = segno.make(url, error="m")
    if kind == "png":
        qr.save(image, kind="png", scale=8, border=4)
    else:
        qr.save(image, kind="svg", scale=8, border=4, xmldecl=False)
    return image.getvalue()


CONTROLLERS = [ShortLinkController, ShortUrlController]
