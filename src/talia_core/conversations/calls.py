"""Phone calls as conversations on the voice channel: the caller (by number) is a contact,
the call is a conversation whose thread is the call's id, what the caller says and what the
caller heard of the assistant are its messages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import attrs

from talia_core.conversations.call_ports import CallGreetings, CallTransfers
from talia_core.conversations.contacts import Contact
from talia_core.conversations.conversation import Conversation
from talia_core.conversations.events import InboundMessage, Sender
from talia_core.conversations.messages import Message
from talia_core.conversations.ports import (
    Assistant,
    AssistantTurn,
    ConversationsUnitOfWork,
    Speaker,
)
from talia_core.conversations.received import message_received
from talia_core.conversations.understanding import turn_message
from talia_core.conversations.vocabulary import (
    Author,
    Channel,
    ChannelIdentity,
    ConversationStatus,
    Direction,
    IdentityKind,
    MessageType,
)
from talia_core.shared.clock import Clock
from talia_core.shared.ids import new_id
from talia_core.shared.ports import UnitOfWorkFactory

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@attrs.frozen
class ConnectedCall:
    call_id: str
    caller: str
    conversation_id: str
    contact_id: str
    greeting: str


@attrs.frozen
class CallReply:
    """The assistant's answer in the sentences it is spoken in."""

    sentences: tuple[str, ...] = ()
    speaker: Speaker | None = None
    hand_off: bool = False


def sentences(texts: tuple[str, ...]) -> Iterator[str]:
    """Each message's sentences in order: each is spoken and marked on its own, so what the
    caller heard is known sentence by sentence."""
    for text in texts:
        for sentence in _SENTENCE_END.split(text.strip()):
            if sentence.strip():
                yield sentence.strip()


class VoiceCalls:
    def __init__(
        self,
        uow: UnitOfWorkFactory[ConversationsUnitOfWork],
        clock: Clock,
        *,
        assistant: Assistant,
        transfers: CallTransfers,
        greetings: CallGreetings,
        history_limit: int = 30,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._assistant = assistant
        self._transfers = transfers
        self._greetings = greetings
        self._history_limit = history_limit

    async def connect(self, call_id: str, caller: str) -> ConnectedCall:
        """The call's conversation, opened for the caller's number."""
        now = self._clock.now()
        sender = Sender((ChannelIdentity.of(IdentityKind.PHONE, caller),), phone=caller)
        async with self._uow() as uow:
            known = await uow.contacts.by_identities(sender.identities)
            if known:
                contact = await uow.contacts.get(known[0].id)
            else:
                contact = Contact.first_seen(sender, now)
                await uow.contacts.add(contact)
            conversation = await uow.conversations.by_thread(Channel.VOICE, call_id)
            if conversation is None or conversation.status is ConversationStatus.CLOSED:
                conversation = Conversation.start(contact.id, Channel.VOICE, call_id, now)
                await uow.conversations.add(conversation)
            await uow.commit()
        greeting = await self._greetings.greeting()
        return ConnectedCall(call_id, caller, conversation.id, contact.id, greeting)

    async def answer(self, call: ConnectedCall, words: str) -> CallReply:
        """Store what the caller said and have the assistant answer it; nothing is stored
        of the answer until the caller has heard it (``heard``)."""
        now = self._clock.now()
        said = InboundMessage(
            channel=Channel.VOICE,
            external_id=new_id(),
            sender=Sender((ChannelIdentity(IdentityKind.PHONE, call.caller),)),
            type=MessageType.TEXT,
            sent_at=now,
            text=words,
            thread=call.call_id,
        )
        async with self._uow() as uow:
            conversation = await uow.conversations.get(call.conversation_id)
            message = Message.inbound(conversation.id, said, now)
            await uow.messages.add(message)
            conversation.receive(now)
            await uow.conversations.update(conversation)
            history = await uow.messages.history(conversation.id, self._history_limit)
            contact = await uow.contacts.get(conversation.contact_id)
            await uow.outbox.add(message_received(contact, message, now))
            await uow.commit()
        if not conversation.bot_may_reply:
            return CallReply()
        answered = len(history)
        while answered and history[answered - 1].direction is Direction.INBOUND:
            answered -= 1
        reply = await self._assistant.respond(
            AssistantTurn(
                conversation_id=conversation.id,
                contact_id=contact.id,
                channel=Channel.VOICE.value,
                contact_name=contact.name,
                history=tuple(turn_message(m) for m in history[:answered]),
                unanswered=tuple(turn_message(m) for m in history[answered:]),
                assistant=conversation.assistant,
            )
        )
        return CallReply(tuple(sentences(reply.messages)), reply.speaker, reply.hand_off)

    async def heard(self, call: ConnectedCall, text: str, speaker: Speaker | None) -> None:
        """Keep what the caller heard of an answer (nothing when nothing was heard)."""
        if not text.strip():
            return
        now = self._clock.now()
        async with self._uow() as uow:
            conversation = await uow.conversations.get(call.conversation_id)
            message = Message.reply(
                conversation,
                author=Author.BOT,
                at=now,
                text=text,
                author_id=speaker.id if speaker else None,
                author_version=speaker.version if speaker else None,
            )
            message.accepted(new_id(), now)
            await uow.messages.add(message)
            if speaker is not None:
                conversation.assistant = speaker.name
            conversation.record_reply(now)
            await uow.conversations.update(conversation)
            await uow.commit()

    async def transfer(self, call: ConnectedCall) -> None:
        """A person takes the call: the conversation is handed off, the call put through."""
        now = self._clock.now()
        async with self._uow() as uow:
            conversation = await uow.conversations.get(call.conversation_id)
            if conversation.status is not ConversationStatus.CLOSED:
                conversation.hand_off(None, now)
                await uow.conversations.update(conversation)
            await uow.commit()
        await self._transfers.transfer(call.call_id)

    async def hang_up(self, call: ConnectedCall) -> None:
        """The call ended: its conversation is closed, unless a person has it."""
        now = self._clock.now()
        async with self._uow() as uow:
            conversation = await uow.conversations.get(call.conversation_id)
            if conversation.status is ConversationStatus.BOT:
                conversation.close(now)
                await uow.conversations.update(conversation)
            await uow.commit()
