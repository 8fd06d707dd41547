"""The channels' side of conversations: what the worker does with their events and replies.

Channel events reach ``handle_event`` through a job (the durable inbox committed it); the
assistant's turn, each delivery and each media download are jobs of their own, so a
provider that is down delays a reply without ever losing the customer's message.
"""

from __future__ import annotations

import json
import logging
import mimetypes
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from talia_core.conversations.contacts import Contact
from talia_core.conversations.conversation import Conversation
from talia_core.conversations.errors import DeliveryRefused
from talia_core.conversations.events import (
    InboundMessage,
    Sender,
    StatusUpdate,
    ThreadUpdate,
    event_from_data,
)
from talia_core.conversations.jobs import (
    DELIVER_JOB,
    HAND_OFF_JOB,
    INBOX_JOB,
    MEDIA_JOB,
    TURN_JOB,
    assistant_turn,
    channel_hand_off,
    delivery,
)
from talia_core.conversations.merging import absorb
from talia_core.conversations.messages import MAX_TEXT, Media, Message, Understanding
from talia_core.conversations.outgoing import sendable_parts
from talia_core.conversations.ports import (
    Assistant,
    AssistantReply,
    AssistantTurn,
    AwaitedAnswers,
    ChannelSender,
    ConversationsUnitOfWork,
    Drafting,
    LiveFeed,
    MediaDownloader,
    Outbound,
    Speaker,
    ToolCall,
)
from talia_core.conversations.received import message_received
from talia_core.conversations.tool_uses import ToolUse
from talia_core.conversations.understanding import MediaUnderstanding, awaits_words, turn_message
from talia_core.conversations.vocabulary import (
    Author,
    Channel,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    MessageType,
)
from talia_core.conversations.voicing import VoiceReplies
from talia_core.shared.clock import Clock
from talia_core.shared.errors import ExternalServiceUnavailable, NotFound, TaliaError
from talia_core.shared.files import Download, FileStore
from talia_core.shared.jobs import Job, JobHandler
from talia_core.shared.ports import UnitOfWorkFactory

logger = logging.getLogger("talia.conversations")

# A status for a message we never recorded sending: retried while our own record of the
# send may still be on its way, dropped once it is clearly about someone else's message.
UNKNOWN_STATUS_PATIENCE = timedelta(minutes=10)


class ConversationPipeline:
    """Ingests what channels deliver, has the assistant answer, delivers every reply; and
    reads a channel's own thread back to it (the web chat's history)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[ConversationsUnitOfWork],
        clock: Clock,
        *,
        senders: Mapping[Channel, ChannelSender],
        downloaders: Mapping[Channel, MediaDownloader],
        files: FileStore,
        assistant: Assistant,
        live: LiveFeed,
        debounce: timedelta = timedelta(seconds=2),
        history_limit: int = 30,
        wake: Callable[[], None] = lambda: None,
        answers: AwaitedAnswers | None = None,
        understanding: MediaUnderstanding | None = None,
        voice: VoiceReplies | None = None,
    ) -> None:
        """``answers``: asked first whether the customer's message answers something
        another context awaits (a reminder), which then replies instead of the assistant.
        ``understanding``: voice notes and photos are put into words before the assistant
        answers them; ``voice``: assistants that answer voice with voice can."""
        self._uow = uow
        self._clock = clock
        self._senders = dict(senders)
        self._downloaders = dict(downloaders)
        self._files = files
        self._assistant = assistant
        self._live = live
        self._debounce = debounce
        self._history_limit = history_limit
        self._wake = wake
        self._answers = answers
        self._understanding = understanding
        self._voice = voice

    def job_handlers(self) -> dict[str, JobHandler]:
        """What the job runner calls for each kind of job this context records."""

        async def turn(payload: Mapping[str, Any]) -> None:
            await self.take_assistant_turn(payload["conversation_id"])

        async def deliver(payload: Mapping[str, Any]) -> None:
            # One message id: a job recorded before replies were delivered in one job.
            await self.deliver_all(payload.get("message_ids") or [payload["message_id"]])

        async def media(payload: Mapping[str, Any]) -> None:
            await self.fetch_media(payload["message_id"])

        async def hand_off(payload: Mapping[str, Any]) -> None:
            await self.tell_channel_of_hand_off(payload["conversation_id"])

        understanding = self._understanding
        return {
            **(understanding.job_handlers() if understanding is not None else {}),
            INBOX_JOB: self.handle_event,
            TURN_JOB: turn,
            DELIVER_JOB: deliver,
            MEDIA_JOB: media,
            HAND_OFF_JOB: hand_off,
        }

    async def handle_event(self, data: Mapping[str, Any]) -> None:
        event = event_from_data(data)
        if isinstance(event, InboundMessage):
            received = data.get("received_at")
            await self.ingest(event, datetime.fromisoformat(received) if received else None)
        elif isinstance(event, StatusUpdate):
            await self.record_status(event)
        else:
            await self.apply_thread_update(event)

    async def ingest(
        self, event: InboundMessage, received_at: datetime | None = None
    ) -> Message | None:
        """Store an inbound message once; None when it was already stored."""
        now = self._clock.now()
        async with self._uow() as uow:
            contact = await self._contact_for(uow, event.sender, now)
            conversation = await uow.conversations.open_for(contact.id, event.channel, event.thread)
            if conversation is None:
                conversation = Conversation.start(contact.id, event.channel, event.thread, now)
                await uow.conversations.add(conversation)
            message = Message.inbound(conversation.id, event, received_at or now)
            if not await uow.messages.add(message):
                return None
            conversation.receive(event.sent_at)
            await uow.conversations.update(conversation)
            await uow.outbox.add(message_received(contact, message, now))
            if message.media is not None:
                await uow.jobs.add(Job.new(MEDIA_JOB, {"message_id": message.id}, at=now))
            if conversation.bot_may_reply and not self._waits_for_words(message):
                turn = assistant_turn(conversation.id, now, self._debounce)
                await uow.jobs.schedule(turn.in_line_from(message.created_at))
            await uow.commit()
        self._wake()
        await self._show(conversation, message)
        return message

    async def _contact_for(
        self, uow: ConversationsUnitOfWork, sender: Sender, now: datetime
    ) -> Contact:
        """The contact behind these identities; a sender that links two contacts merges them.

        Two workers creating the same new contact collide on the identity's unique key; the
        loser's job is retried and finds the contact.
        """
        known = await uow.contacts.by_identities(sender.identities)
        if not known:
            contact = Contact.first_seen(sender, now)
            await uow.contacts.add(contact)
            return contact
        keep = await uow.contacts.get(known[0].id)  # locks the contact in a writing unit
        for other in known[1:]:
            await absorb(uow, keep, other.id, now)
        if keep.learn(sender, now):
            await uow.contacts.update(keep)
        return keep

    async def take_assistant_turn(self, conversation_id: str) -> list[Message]:
        """Answer every message the bot has not answered yet, in one turn."""
        async with self._uow(read_only=True) as uow:
            conversation = await uow.conversations.get(conversation_id)
            if not conversation.bot_may_reply:
                return []
            history = await uow.messages.history(conversation_id, self._history_limit)
            contact = await uow.contacts.get(conversation.contact_id)
        unanswered = _unanswered(history)
        if not unanswered or (self._understanding is not None and awaits_words(unanswered)):
            return []  # a voice note or photo is being put into words: that schedules it
        turn = AssistantTurn(
            conversation_id=conversation_id,
            channel=conversation.channel.value,
            contact_name=contact.name,
            history=tuple(turn_message(m) for m in history[: len(history) - len(unanswered)]),
            unanswered=tuple(turn_message(m) for m in unanswered),
            contact_id=contact.id,
            assistant=conversation.assistant,
        )
        reply = await self._awaited(turn) or await self._assistant.respond(
            turn, drafting=self._drafting(conversation)
        )
        now = self._clock.now()
        speaker = reply.speaker
        spoken = speaker is not None and VoiceReplies.wanted(
            conversation.channel, unanswered, speaker.voice_replies
        )
        replies = [
            Message.reply(
                conversation,
                author=Author.BOT,
                at=now,
                text=part,
                author_id=speaker.id if speaker else None,
                author_version=speaker.version if speaker else None,
                spoken=spoken and self._voice is not None,
            )
            for text in reply.messages
            for part in sendable_parts(text, MAX_TEXT)
        ]
        if self._voice is not None:
            for message in replies:
                await self._voice.speak(message, speaker.voice if speaker else None)
        async with self._uow() as uow:
            conversation = await uow.conversations.get(conversation_id)
            if not conversation.bot_may_reply:
                return []  # a human took over while the assistant was thinking
            for message in replies:
                await uow.messages.add(message)
            if replies:
                sending = delivery([message.id for message in replies], now)
                await uow.jobs.add(sending.in_line_from(unanswered[0].created_at))
            if speaker is not None:
                conversation.assistant = speaker.name
                for call in reply.tool_calls:
                    await uow.tool_uses.add(_tool_use(conversation_id, speaker, call, now))
            if reply.hand_off:
                conversation.hand_off(None, now)
                await uow.jobs.add(channel_hand_off(conversation.id, now))
            conversation.record_reply(now)
            await uow.conversations.update(conversation)
            await uow.commit()
        self._wake()
        return replies

    async def deliver_all(self, message_ids: Sequence[str]) -> list[Message]:
        """Send outbound messages through their channel in this order, each recorded as sent
        (or refused) as soon as the channel answers; a channel that is down stops the rest,
        and the delivery job retries them. The parts of a reply share their conversation and
        contact: they are read once."""
        async with self._uow(read_only=True) as uow:
            messages = [await uow.messages.get(message_id) for message_id in message_ids]
            recipients: dict[str, tuple[Conversation, Contact]] = {}
            for message in messages:
                if _unsent(message) and message.conversation_id not in recipients:
                    conversation = await uow.conversations.get(message.conversation_id)
                    contact = await uow.contacts.get(conversation.contact_id)
                    recipients[conversation.id] = (conversation, contact)
        delivered = []
        for message in messages:
            if _unsent(message):
                message = await self._send(message, *recipients[message.conversation_id])
            delivered.append(message)
        return delivered

    async def _send(
        self, message: Message, conversation: Conversation, contact: Contact
    ) -> Message:
        address = contact.identity_for(conversation.channel)
        media = message.media
        voice_note = None
        if message.type is MessageType.AUDIO and media is not None and media.file_key:
            voice_note = await self._files.get(media.file_key)
        try:
            if address is None:
                raise DeliveryRefused(conversation.channel.value, None, "no address on channel")
            external_id = await self._senders[conversation.channel].send(
                Outbound(
                    message_id=message.id,
                    channel=conversation.channel,
                    to=address,
                    type=message.type,
                    thread=conversation.thread,
                    text=message.text,
                    template=message.template,
                    media_url=None if voice_note is None or media is None else media.source,
                    media_mime_type=None if voice_note is None else voice_note.mime_type,
                    media_content=None if voice_note is None else voice_note.content,
                )
            )
        except DeliveryRefused as refusal:
            code, title = refusal.code, refusal.title
            return await self._settle(message.id, lambda m, at: m.refused(code, title, at))
        sent = await self._settle(message.id, lambda m, at: m.accepted(external_id, at))
        await self._show(conversation, sent)
        return sent

    async def _settle(
        self, message_id: str, change: Callable[[Message, datetime], None]
    ) -> Message:
        async with self._uow() as uow:
            message = await uow.messages.get(message_id)
            change(message, self._clock.now())
            await uow.messages.update(message)
            await uow.commit()
        return message

    async def fetch_media(self, message_id: str) -> Message:
        """Copy an inbound attachment from the channel into the file store."""
        async with self._uow(read_only=True) as uow:
            message = await uow.messages.get(message_id)
        media = message.media
        if media is None or media.source is None:
            return message
        if media.file_key is not None:
            return await self._understand(message)
        try:
            download = await self._downloaders[message.channel].download(media.source)
        except TaliaError:
            if self._understanding is not None and self._waits_for_words(message):
                await self._understanding.not_fetched(message)  # the answer does not wait
            raise
        mime_type = media.mime_type or download.mime_type
        extension = mimetypes.guess_extension(mime_type.split(";")[0].strip()) or ""
        created = message.created_at
        key = f"media/{created:%Y/%m}/{message.id}{extension}"
        await self._files.put(key, download.content, mime_type)
        stored = Media(
            source=media.source,
            file_key=key,
            mime_type=mime_type,
            filename=media.filename,
            size=len(download.content),
        )
        return await self._understand(await self._settle(message_id, lambda m, _: m.attach(stored)))

    async def _understand(self, message: Message) -> Message:
        if self._understanding is None or message.understanding is None:
            return message
        return await self._understanding.understand(message.id)

    def _waits_for_words(self, message: Message) -> bool:
        return self._understanding is not None and message.understanding is Understanding.PENDING

    async def record_status(self, update: StatusUpdate) -> Message | None:
        async with self._uow() as uow:
            message = await uow.messages.by_external_id(update.channel, update.external_id)
            adopted = False
            if message is None:
                message = await self._sent_unrecorded(uow, update)
                adopted = message is not None
            if message is None:
                if self._clock.now() - update.at > UNKNOWN_STATUS_PATIENCE:
                    return None
                raise NotFound("message", f"{update.channel.value}:{update.external_id}")
            if message.record_status(update) or adopted:
                await uow.messages.update(message)
                await uow.commit()
            elif update.status is DeliveryStatus.FAILED:
                logger.info(
                    "failure %s of message %s ignored: it was already %s",
                    update.error_code,
                    message.id,
                    message.status.value,
                )
        return message

    @staticmethod
    async def _sent_unrecorded(
        uow: ConversationsUnitOfWork, update: StatusUpdate
    ) -> Message | None:
        """Our message a status names by our id, taken by the provider but never recorded as
        sent (the worker stopped between the two): it takes the provider's id now, so its
        delivery job, run again, does not send it twice."""
        if update.message_id is None:
            return None
        try:
            message = await uow.messages.get(update.message_id)
        except NotFound:
            return None
        if message.channel is not update.channel or message.external_id is not None:
            return None
        message.accepted(update.external_id, update.at)
        return message

    async def apply_thread_update(self, update: ThreadUpdate) -> Conversation | None:
        """The channel moved its conversation (an agent opened or resolved it in Chatwoot)."""
        async with self._uow() as uow:
            conversation = await uow.conversations.by_thread(update.channel, update.thread)
            if conversation is None or conversation.status is ConversationStatus.CLOSED:
                return None
            conversation = await uow.conversations.get(conversation.id)
            if update.status is ConversationStatus.HUMAN:
                conversation.hand_off(update.assignee, update.at)
            elif update.status is ConversationStatus.BOT:
                conversation.release(update.at)
            else:
                conversation.close(update.at)
            await uow.conversations.update(conversation)
            await uow.commit()
        return conversation

    async def tell_channel_of_hand_off(self, conversation_id: str) -> None:
        async with self._uow(read_only=True) as uow:
            conversation = await uow.conversations.get(conversation_id)
        await self._senders[conversation.channel].hand_off(conversation.thread)

    async def thread_history(self, channel: Channel, thread: str, limit: int) -> list[Message]:
        """The latest messages of a channel's own conversation (a web chat session)."""
        async with self._uow(read_only=True) as uow:
            conversation = await uow.conversations.by_thread(channel, thread)
            if conversation is None:
                return []
            return await uow.messages.history(conversation.id, limit)

    async def voice_note(self, token: str) -> Download:
        """A voice reply by its public link's token (Twilio and web chat visitors fetch it)."""
        if self._voice is None:
            raise NotFound("voice note", token[:40])
        return await self._voice.shared_file(token)

    async def _awaited(self, turn: AssistantTurn) -> AssistantReply | None:
        """The acknowledgement when the customer's last message was an awaited answer."""
        text = turn.unanswered[-1].text
        if self._answers is None or text is None:
            return None
        acknowledgement = await self._answers.answer(turn.contact_id, text)
        return AssistantReply(messages=(acknowledgement,)) if acknowledgement else None

    def _drafting(self, conversation: Conversation) -> Drafting | None:
        """A web chat visitor sees the answer as it is written; a draft that cannot be shown
        is skipped: the whole answer follows anyway."""
        thread = conversation.thread
        if conversation.channel is not Channel.WEBCHAT or not thread:
            return None

        async def draft(text: str) -> None:
            try:
                await self._live.draft(thread, text)
            except ExternalServiceUnavailable as error:
                logger.info("a draft of conversation %s was not shown: %s", conversation.id, error)

        return draft

    async def _show(self, conversation: Conversation, message: Message) -> None:
        if conversation.channel is Channel.WEBCHAT and conversation.thread:
            await self._live.publish(conversation.thread, message)


def _unsent(message: Message) -> bool:
    return message.status is DeliveryStatus.PENDING and not message.external_id


def _unanswered(history: list[Message]) -> list[Message]:
    """The customer's messages after the last one we sent."""
    tail: list[Message] = []
    for message in reversed(history):
        if message.direction is Direction.OUTBOUND:
            break
        tail.append(message)
    return list(reversed(tail))


def _tool_use(conversation_id: str, speaker: Speaker, call: ToolCall, at: datetime) -> ToolUse:
    return ToolUse(
        conversation_id=conversation_id,
        at=at,
        assistant=speaker.name,
        assistant_version=speaker.version,
        tool=call.name,
        arguments=json.dumps(call.arguments, ensure_ascii=False),
        output=call.output or "",
    )
