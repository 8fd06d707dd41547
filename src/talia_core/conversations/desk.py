"""The agents' desk: conversations, their messages and tool uses, human replies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from talia_core.conversations.conversation import Conversation
from talia_core.conversations.errors import OutsideServiceWindow
from talia_core.conversations.jobs import channel_hand_off, delivery
from talia_core.conversations.messages import Message, Template
from talia_core.conversations.ports import ConversationFilter, ConversationsUnitOfWork
from talia_core.conversations.tool_uses import ToolUse
from talia_core.conversations.vocabulary import Author, Channel, ConversationStatus
from talia_core.shared.clock import Clock
from talia_core.shared.errors import RuleViolated
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWorkFactory

TEMPLATE_CHANNELS = (Channel.WHATSAPP, Channel.TWILIO)
SPOKEN_CHANNELS = (Channel.VOICE,)
"""A phone call's conversation is its transcript: nothing an agent writes can reach the caller."""


class AgentDesk:
    """What agents do with conversations; the bot stays quiet where they act."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[ConversationsUnitOfWork],
        clock: Clock,
        *,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._wake = wake

    async def list_conversations(
        self, page: PageRequest, criteria: ConversationFilter
    ) -> Page[Conversation]:
        async with self._uow(read_only=True) as uow:
            return await uow.conversations.find(page, criteria)

    async def conversation(self, conversation_id: str) -> Conversation:
        async with self._uow(read_only=True) as uow:
            return await uow.conversations.get(conversation_id)

    async def messages(self, conversation_id: str, page: PageRequest) -> Page[Message]:
        async with self._uow(read_only=True) as uow:
            await uow.conversations.get(conversation_id)
            return await uow.messages.find(conversation_id, page)

    async def tool_uses(self, conversation_id: str, page: PageRequest) -> Page[ToolUse]:
        """The tools the assistant called in the conversation, newest first: why the bot
        did what it did."""
        async with self._uow(read_only=True) as uow:
            await uow.conversations.get(conversation_id)
            return await uow.tool_uses.find(conversation_id, page)

    async def send_human_reply(
        self,
        conversation_id: str,
        *,
        agent_id: str,
        text: str | None = None,
        template: Template | None = None,
    ) -> Message:
        """An agent answers; the conversation is theirs from now on (the bot stays quiet).

        On WhatsApp, free text more than 24 hours after the customer's last message is
        refused here; a template can still be sent. A phone call's conversation takes no
        written reply.
        """
        now = self._clock.now()
        async with self._uow() as uow:
            conversation = await uow.conversations.get(conversation_id)
            if conversation.channel in SPOKEN_CHANNELS:
                raise RuleViolated(
                    f"a {conversation.channel.value} conversation takes no written reply",
                    {"text": "the caller cannot read it: call them back"},
                )
            if template is not None and conversation.channel not in TEMPLATE_CHANNELS:
                raise RuleViolated(
                    f"{conversation.channel.value} does not send templates",
                    {"template": "not supported on this channel"},
                )
            if text is not None and not conversation.within_service_window(now):
                raise OutsideServiceWindow()
            message = Message.reply(
                conversation,
                author=Author.AGENT,
                at=now,
                text=text,
                template=template,
                author_id=agent_id,
            )
            if conversation.status is ConversationStatus.BOT:
                conversation.hand_off(agent_id, now)
            conversation.record_reply(now)
            conversation.mark_read()
            await uow.messages.add(message)
            await uow.conversations.update(conversation)
            await uow.jobs.add(delivery([message.id], now))
            await uow.commit()
        self._wake()
        return message

    async def hand_off(self, conversation_id: str, *, assignee_id: str | None) -> Conversation:
        now = self._clock.now()
        async with self._uow() as uow:
            conversation = await uow.conversations.get(conversation_id)
            conversation.hand_off(assignee_id, now)
            await uow.conversations.update(conversation)
            await uow.jobs.add(channel_hand_off(conversation.id, now))
            await uow.commit()
        self._wake()
        return conversation

    async def release(self, conversation_id: str) -> Conversation:
        return await self._change(conversation_id, lambda c, at: c.release(at))

    async def close(self, conversation_id: str) -> Conversation:
        return await self._change(conversation_id, lambda c, at: c.close(at))

    async def mark_read(self, conversation_id: str) -> Conversation:
        return await self._change(conversation_id, lambda c, _: c.mark_read())

    async def _change(
        self, conversation_id: str, change: Callable[[Conversation, datetime], None]
    ) -> Conversation:
        async with self._uow() as uow:
            conversation = await uow.conversations.get(conversation_id)
            change(conversation, self._clock.now())
            await uow.conversations.update(conversation)
            await uow.commit()
        return conversation
