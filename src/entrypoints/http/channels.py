"""Inbound channel webhooks: verify over the raw bytes, store once, acknowledge.

Each route checks the provider's signature against the exact bytes received, parses the
provider's format into channel events and hands them to the durable inbox; it answers
only after they are committed. Nothing else happens on the request path.

What is refused and what is acknowledged and ignored:
- no signature: 401; a wrong one: 403 (nothing stored, logged);
- a body that is not the provider's format at all: 400 (nothing stored);
- well-formed parts we do not handle (a WhatsApp ``account_update``, a Chatwoot
  ``conversation_updated``, a Twilio ``queued`` status): 200 with the reasons under
  ``ignored``, because the providers retry every non-2xx answer for hours or days;
- a body over ``TALIA_HTTP__MAX_BODY_BYTES``: 413; a channel without credentials: 404;
- what a customer wrote that no database stores as it came (NUL characters, unpaired
  surrogates, ids and references past their columns) is never refused: the channel events
  take a storable form when they are made (``talia_core.conversations.events``), so what is
  acknowledged is what the jobs store.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import attrs
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter
from pydantic import BaseModel, Field

from adapters.channels.chatwoot import webhook as chatwoot
from adapters.channels.twilio import webhook as twilio
from adapters.channels.whatsapp import webhook as whatsapp
from entrypoints.http.auth import public
from entrypoints.http.errors import problem_response, problems
from entrypoints.http.public_writes import NOT_LIMITED
from entrypoints.settings import ChannelSettings
from talia_core.conversations.events import ChannelEvent
from talia_core.conversations.inbox import InboxService
from talia_core.shared.errors import Forbidden, NotFound, Unauthorized

logger = logging.getLogger("talia.channels")

FORM = "application/x-www-form-urlencoded"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@attrs.frozen
class Webhooks:
    """The secrets the webhooks are checked with, read once from the settings, and the
    inbox they store into (one dependency: Litestar resolves two in a task group)."""

    settings: ChannelSettings
    inbox: InboxService

    async def store(
        self, channel: str, events: Sequence[ChannelEvent], ignored: Sequence[str]
    ) -> WebhookOut:
        receipt = await self.inbox.receive(events)
        if ignored:
            logger.info("%s webhook parts ignored: %s", channel, "; ".join(ignored))
        return WebhookOut(
            accepted=receipt.accepted, duplicates=receipt.duplicates, ignored=list(ignored)
        )

    def whatsapp_secret(self) -> bytes:
        if not self.settings.whatsapp_enabled:
            raise NotFound("channel", "whatsapp")
        return self.settings.whatsapp_app_secret.get_secret_value().encode()

    def twilio_token(self) -> str:
        if not self.settings.twilio_enabled:
            raise NotFound("channel", "twilio")
        return self.settings.twilio_auth_token.get_secret_value()

    def check_chatwoot(self, body: bytes, headers: Mapping[str, str], token: str | None) -> None:
        """A signed delivery when the bot's secret is set; the URL's token otherwise."""
        if not self.settings.chatwoot_enabled:
            raise NotFound("channel", "chatwoot")
        secret = self.settings.chatwoot_webhook_secret.get_secret_value()
        if secret:
            signature = headers.get(chatwoot.SIGNATURE_HEADER.lower())
            if not chatwoot.signature_valid(secret.encode(), body, headers):
                _refuse_unsigned("Chatwoot", signature)
            return
        expected = self.settings.chatwoot_webhook_token.get_secret_value()
        if not chatwoot.token_valid(expected, token):
            _refuse_unsigned("Chatwoot", token)

    def public_url(self, request: Request[Any, Any, Any]) -> str:
        """The URL the provider called, as it saw it (behind a proxy: the configured base)."""
        base = self.settings.public_base_url or f"{request.url.scheme}://{request.url.netloc}"
        return twilio.public_url(base, request.url.path, request.url.query)


class WebhookOut(BaseModel):
    accepted: int = Field(description="Events stored now.")
    duplicates: int = Field(description="Events already stored by an earlier delivery.")
    ignored: list[str] = Field(description="Parts of the delivery not handled, and why.")


def _refuse_unsigned(channel: str, signature: str | None) -> None:
    if not signature:
        logger.warning("unsigned %s webhook refused", channel)
        raise Unauthorized(f"the {channel} webhook must be signed")
    logger.warning("%s webhook with a wrong signature refused", channel)
    raise Forbidden(f"the {channel} webhook signature does not match")


class WhatsAppController(Controller):
    path = "/api/whatsapp/webhook"
    tags = ["channels"]

    @get(guards=[public], media_type="text/plain", responses=problems(400, 403, 404))
    async def verify(
        self,
        webhooks: NamedDependency[Webhooks],
        mode: Annotated[str | None, QueryParameter(name="hub.mode", max_length=50)] = None,
        token: Annotated[
            str | None, QueryParameter(name="hub.verify_token", max_length=500)
        ] = None,
        challenge: Annotated[
            str | None, QueryParameter(name="hub.challenge", max_length=500)
        ] = None,
    ) -> str:
        """Meta's subscription handshake: echo ``hub.challenge`` when the token matches."""
        webhooks.whatsapp_secret()
        expected = webhooks.settings.whatsapp_verify_token.get_secret_value()
        echoed = whatsapp.subscription_challenge(mode, token, challenge, expected)
        if echoed is None:
            logger.warning("WhatsApp webhook verification refused")
            raise Forbidden("the verification token does not match")
        return echoed

    @post(
        guards=[public],
        opt=NOT_LIMITED,
        status_code=200,
        responses=problems(400, 401, 403, 404, 413),
    )
    async def notify(
        self,
        request: Request[Any, Any, Any],
        webhooks: NamedDependency[Webhooks],
    ) -> WebhookOut:
        """Meta's notifications (messages and statuses), signed ``X-Hub-Signature-256``."""
        secret = webhooks.whatsapp_secret()
        body = await request.body()
        signature = request.headers.get("x-hub-signature-256")
        if not whatsapp.signature_valid(secret, body, signature):
            _refuse_unsigned("WhatsApp", signature)
        notification = whatsapp.parse_notification(body)
        return await webhooks.store("WhatsApp", notification.events, notification.ignored)


class TwilioController(Controller):
    path = "/api/twilio"
    tags = ["channels"]

    @post(
        "/whatsapp",
        guards=[public],
        opt=NOT_LIMITED,
        status_code=200,
        media_type="text/xml",
        responses={
            200: ResponseSpec(
                data_container=str,
                media_type="text/xml",
                description="Empty TwiML",
                generate_examples=False,
            ),
            **problems(400, 401, 403, 404, 413, 415),
        },
    )
    async def inbound(
        self,
        request: Request[Any, Any, Any],
        webhooks: NamedDependency[Webhooks],
    ) -> Response[Any]:
        """An incoming WhatsApp message through Twilio; the answer is empty TwiML (the reply
        goes out later through the Messages API)."""
        params = await signed_twilio_form(request, webhooks)
        if params is None:
            return problem_response(request, 415, f"Twilio webhooks are {FORM}")
        message = twilio.parse_message(params, received_at=datetime.now(UTC))
        await webhooks.store("Twilio", [message], [])
        return Response(EMPTY_TWIML, media_type="text/xml")

    @post(
        "/status",
        guards=[public],
        opt=NOT_LIMITED,
        status_code=200,
        responses={
            200: ResponseSpec(data_container=WebhookOut, description="What the inbox stored"),
            **problems(400, 401, 403, 404, 413, 415),
        },
    )
    async def status(
        self,
        request: Request[Any, Any, Any],
        webhooks: NamedDependency[Webhooks],
    ) -> Response[Any]:
        """Twilio's status callback for a message we sent."""
        params = await signed_twilio_form(request, webhooks)
        if params is None:
            return problem_response(request, 415, f"Twilio webhooks are {FORM}")
        update = twilio.parse_status(params, received_at=datetime.now(UTC))
        if update is None:
            reason = f"status {dict(params).get('MessageStatus')!r} is not tracked"
            return Response(await webhooks.store("Twilio", [], [reason]))
        return Response(await webhooks.store("Twilio", [update], []))


async def signed_twilio_form(
    request: Request[Any, Any, Any], webhooks: Webhooks
) -> list[tuple[str, str]] | None:
    """The form Twilio posted, its signature checked; None when the body is not a form."""
    token = webhooks.twilio_token()
    if request.content_type[0] != FORM:
        return None
    body = await request.body()
    params = twilio.parse_form(body)
    signature = request.headers.get("x-twilio-signature")
    if not twilio.signature_valid(webhooks.public_url(request), params, signature, token):
        _refuse_unsigned("Twilio", signature)
    return params


class ChatwootController(Controller):
    path = "/api/chatwoot/webhook"
    tags = ["channels"]

    @post(
        guards=[public],
        opt=NOT_LIMITED,
        status_code=200,
        responses=problems(400, 401, 403, 404, 413),
    )
    async def event(
        self,
        request: Request[Any, Any, Any],
        webhooks: NamedDependency[Webhooks],
        token: Annotated[str | None, QueryParameter(max_length=500)] = None,
    ) -> WebhookOut:
        """Chatwoot's agent-bot events, signed ``X-Chatwoot-Signature`` (Chatwoot 4.13+, when
        ``TALIA_CHANNELS__CHATWOOT_WEBHOOK_SECRET`` is set) or carrying ``?token=`` in the
        bot's URL (compared in constant time) for versions that do not sign."""
        body = await request.body()
        webhooks.check_chatwoot(body, request.headers, token)
        notification = chatwoot.parse_event(body)
        return await webhooks.store("Chatwoot", notification.events, notification.ignored)


CONTROLLERS = [WhatsAppController, TwilioController, ChatwootController]
