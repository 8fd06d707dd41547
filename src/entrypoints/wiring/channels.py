"""Each channel's provider adapters, every outbound one behind its own resilience runner."""

from __future__ import annotations

import hashlib
import hmac

import httpx

from adapters.channels.chatwoot.media import ChatwootMediaDownloader
from adapters.channels.chatwoot.sender import ChatwootChannelSender
from adapters.channels.media_links import SignedMediaLinks
from adapters.channels.twilio.media import TwilioMediaDownloader
from adapters.channels.twilio.sender import TwilioChannelSender
from adapters.channels.webchat import WebChatChannelSender
from adapters.channels.whatsapp.media import WhatsAppCloudMediaDownloader
from adapters.channels.whatsapp.sender import WhatsAppCloudChannelSender
from adapters.resilience import BreakerBoard, resilient
from entrypoints.settings import Settings
from entrypoints.wiring.policies import runner
from talia_core.conversations.ports import ChannelSender, MediaDownloader
from talia_core.conversations.vocabulary import Channel


def channel_senders(
    settings: Settings, client: httpx.AsyncClient, board: BreakerBoard
) -> dict[Channel, ChannelSender]:
    """One sender per channel, each behind its own runner; a send is never repeated by the
    runner (the provider may have sent it): the delivery job retries it later instead."""
    channels = settings.channels
    callback = f"{channels.public_base_url}/api/twilio/status" if channels.public_base_url else None
    raw: dict[Channel, ChannelSender] = {
        Channel.WHATSAPP: WhatsAppCloudChannelSender(
            client,
            phone_number_id=channels.whatsapp_phone_number_id,
            access_token=channels.whatsapp_access_token.get_secret_value(),
            base_url=channels.whatsapp_api_url,
            api_version=channels.whatsapp_api_version,
        ),
        Channel.TWILIO: TwilioChannelSender(
            client,
            account_sid=channels.twilio_account_sid,
            auth_token=channels.twilio_auth_token.get_secret_value(),
            from_address=channels.twilio_whatsapp_from,
            status_callback_url=callback,
            base_url=channels.twilio_api_url,
        ),
        Channel.CHATWOOT: ChatwootChannelSender(
            client,
            base_url=channels.chatwoot_url,
            account_id=channels.chatwoot_account_id,
            api_access_token=channels.chatwoot_api_token.get_secret_value(),
        ),
    }
    senders: dict[Channel, ChannelSender] = {
        channel: resilient(sender, runner(channel.value, board, settings), non_idempotent={"send"})
        for channel, sender in raw.items()
    }
    senders[Channel.WEBCHAT] = WebChatChannelSender()
    return senders


def media_downloaders(
    settings: Settings, client: httpx.AsyncClient, board: BreakerBoard
) -> dict[Channel, MediaDownloader]:
    channels = settings.channels
    raw: dict[Channel, MediaDownloader] = {
        Channel.WHATSAPP: WhatsAppCloudMediaDownloader(
            client,
            access_token=channels.whatsapp_access_token.get_secret_value(),
            base_url=channels.whatsapp_api_url,
            api_version=channels.whatsapp_api_version,
        ),
        Channel.TWILIO: TwilioMediaDownloader(
            client,
            account_sid=channels.twilio_account_sid,
            auth_token=channels.twilio_auth_token.get_secret_value(),
        ),
        Channel.CHATWOOT: ChatwootMediaDownloader(client, base_url=channels.chatwoot_url),
    }
    return {
        channel: resilient(downloader, runner(f"{channel.value}-media", board, settings))
        for channel, downloader in raw.items()
    }


def media_links(settings: Settings) -> SignedMediaLinks:
    """Links to our voice replies, keyed by a key of their own derived from the JWT secret."""
    secret = settings.auth.jwt_secret.get_secret_value().encode()
    key = hmac.new(secret, b"talia conversations media links", hashlib.sha256).digest()
    return SignedMediaLinks(key, base_url=settings.channels.public_base_url)
