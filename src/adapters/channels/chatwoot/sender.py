"""Replies and hand-offs out through Chatwoot's application API (errors are read as
``conversations`` says)."""

from __future__ import annotations

import logging

from adapters.channels.chatwoot.api import SERVICE
from adapters.channels.chatwoot.conversations import ChatwootConversations, conversation_number
from talia_core.conversations.errors import DeliveryRefused
from talia_core.conversations.ports import Outbound
from talia_core.conversations.vocabulary import MessageType
from talia_core.shared.errors import ExternalServiceUnavailable

logger = logging.getLogger("talia.chatwoot")

_MAX_ERROR_TEXT = 500
# Answers about our token, account or the bot's access, or about load: worth a retry.
_UNAVAILABLE = frozenset({401, 402, 403, 408, 429})


class ChatwootChannelSender(ChatwootConversations):
    """Replies as ``outgoing`` messages of the conversation, hands off by opening it.

    ``POST {base}/api/v1/accounts/{account}/conversations/{thread}/messages`` with
    ``{"content", "message_type": "outgoing", "private": false}`` answers the message (its
    ``id``); ``POST .../toggle_status`` with ``{"status": "open"}`` moves the conversation
    from the bot (``pending``) to the agents. Chatwoot sends free text: a template (which
    only WhatsApp's window needs, and Chatwoot has none for us) is refused; a media URL goes
    as a link under the text.
    """

    async def send(self, message: Outbound) -> str:
        thread = conversation_number(message.thread)
        content = _content(message)
        payload = {"content": content, "message_type": "outgoing", "private": False}
        answer = await self._call("POST", f"{thread}/messages", payload, "sending")
        raw_id = answer.get("id")
        if not isinstance(raw_id, int | str) or isinstance(raw_id, bool) or not str(raw_id):
            raise ExternalServiceUnavailable(SERVICE, "the send was answered without a message id")
        return str(raw_id)

    async def hand_off(self, thread: str | None) -> None:
        if thread is None:
            logger.warning("a Chatwoot hand-off without a conversation: nothing to open")
            return
        path = f"{conversation_number(thread)}/toggle_status"
        await self._call("POST", path, {"status": "open"}, "handing off")


def _content(message: Outbound) -> str:
    if message.template is not None or message.type is MessageType.TEMPLATE:
        raise DeliveryRefused(SERVICE, None, "Chatwoot takes free text, not a template")
    parts = [p for p in (message.text, message.media_url) if p and p.strip()]
    if not parts:
        raise DeliveryRefused(SERVICE, None, f"a {message.type.value} message without text")
    return "\n".join(parts)
