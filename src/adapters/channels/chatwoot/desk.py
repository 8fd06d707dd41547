"""Chatwoot as the agents' desk: labels and private notes on a contact's conversation.

``ChatwootConversationApi`` speaks Chatwoot's application API with the bot's
``api_access_token``: ``GET .../conversations/{id}/labels`` answers ``{"payload": [...]}``;
``POST .../labels`` with ``{"labels": [...]}`` *replaces* the conversation's labels (so
adding one is a read, then the list with it written back; an agent's label added between
the two would be lost, which Chatwoot's API gives no way to avoid); a private note is
``POST .../messages`` with ``{"content", "message_type": "outgoing", "private": true}``.
Errors are read as the sender reads them (``conversations``).

``ChatwootAgentsDesk`` finds the contact's latest Chatwoot conversation among those Talia
keeps, and acts on it through the API.
"""

from __future__ import annotations

from typing import Any

from adapters.channels.chatwoot.api import SERVICE
from adapters.channels.chatwoot.conversations import ChatwootConversations, conversation_number
from talia_core.conversations.desk import AgentDesk
from talia_core.conversations.ports import ConversationFilter
from talia_core.conversations.vocabulary import Channel
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.pagination import PageRequest


class ChatwootConversationApi(ChatwootConversations):
    """A conversation's labels and private notes."""

    async def labels(self, thread: str) -> list[str]:
        answer = await self._call(
            "GET", f"{conversation_number(thread)}/labels", None, "reading labels"
        )
        return _labels(answer)

    async def replace_labels(self, thread: str, labels: list[str]) -> list[str]:
        path = f"{conversation_number(thread)}/labels"
        answer = await self._call("POST", path, {"labels": labels}, "labelling")
        return _labels(answer)

    async def add_private_note(self, thread: str, content: str) -> None:
        payload = {"content": content, "message_type": "outgoing", "private": True}
        await self._call("POST", f"{conversation_number(thread)}/messages", payload, "noting")


def _labels(answer: dict[str, Any]) -> list[str]:
    payload = answer.get("payload")
    if not isinstance(payload, list) or not all(isinstance(label, str) for label in payload):
        raise ExternalServiceUnavailable(SERVICE, "labels were answered without their list")
    return list(payload)


class ChatwootAgentsDesk:
    def __init__(self, api: ChatwootConversationApi, conversations: AgentDesk) -> None:
        self._api = api
        self._conversations = conversations

    async def label(self, contact_id: str, label: str) -> bool:
        thread = await self._thread_of(contact_id)
        if thread is None:
            return False
        labels = await self._api.labels(thread)
        if label not in labels:
            await self._api.replace_labels(thread, [*labels, label])
        return True

    async def note(self, contact_id: str, text: str) -> bool:
        thread = await self._thread_of(contact_id)
        if thread is None:
            return False
        await self._api.add_private_note(thread, text)
        return True

    async def _thread_of(self, contact_id: str) -> str | None:
        """The Chatwoot number of the contact's conversation with the latest activity."""
        latest = await self._conversations.list_conversations(
            PageRequest(limit=1),
            ConversationFilter(channel=Channel.CHATWOOT, contact_id=contact_id),
        )
        return next((c.thread for c in latest.items if c.thread is not None), None)
