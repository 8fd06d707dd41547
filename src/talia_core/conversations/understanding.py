"""Voice notes and photos put into words before the assistant answers them.

A customer's voice note is transcribed and a photo described once its file is stored
(``ConversationPipeline.fetch_media``); only then is the assistant's turn scheduled, so the
turn reads the words. An engine that is down or not configured never holds the customer
up: the turn runs at once with a placeholder the assistant understands, the agents still
have the file, and a job tries again later, filling in the words when it succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from talia_core.conversations.jobs import UNDERSTAND_JOB, assistant_turn, understanding_retry
from talia_core.conversations.messages import Message, Understanding
from talia_core.conversations.ports import ConversationsUnitOfWork, TurnMessage
from talia_core.conversations.vocabulary import MessageType
from talia_core.shared.clock import Clock
from talia_core.shared.errors import CapabilityNotConfigured, ExternalServiceUnavailable
from talia_core.shared.files import FileStore
from talia_core.shared.jobs import JobHandler, PermanentFailure
from talia_core.shared.media import NotMedia
from talia_core.shared.ports import UnitOfWorkFactory
from talia_core.shared.speech import Audio, SpeechToText
from talia_core.shared.vision import Image, ImageUnderstanding

logger = logging.getLogger("talia.conversations")

NOT_HEARD = "[audio no entendido]"
"""What the assistant reads for a voice note it could not hear (the offline assistant and
the customers speak Spanish)."""
NOT_SEEN = "[imagen no entendida]"
RETRY_AFTER = timedelta(minutes=1)
"""The first try again; the job runner's backoff spaces the next ones, up to its limit."""

_CANNOT_NOW = (ExternalServiceUnavailable, CapabilityNotConfigured)


def turn_message(message: Message) -> TurnMessage:
    """A message as the assistant reads it: a voice note by its words, a photo by what it
    shows followed by the customer's caption ("[imagen: una torta de bodas] ¿cuánto?")."""
    text = message.text
    if message.understanding is not None:
        if message.type is MessageType.AUDIO:
            text = message.transcript or NOT_HEARD
        else:
            seen = f"[imagen: {message.transcript}]" if message.transcript else NOT_SEEN
            text = f"{seen} {text}" if text else seen
    return TurnMessage(author=message.author.value, type=message.type.value, text=text)


def awaits_words(messages: list[Message]) -> bool:
    """Whether one of ``messages`` is a voice note or photo not tried yet: its turn waits."""
    return any(m.understanding is Understanding.PENDING for m in messages)


class MediaUnderstanding:
    """Transcribes voice notes and describes photos; ``language`` (ISO 639-1) is the hint
    given to the engines."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[ConversationsUnitOfWork],
        clock: Clock,
        *,
        files: FileStore,
        hearing: SpeechToText,
        seeing: ImageUnderstanding,
        language: str | None = None,
        debounce: timedelta = timedelta(seconds=2),
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._files = files
        self._hearing = hearing
        self._seeing = seeing
        self._language = language
        self._debounce = debounce
        self._wake = wake

    def job_handlers(self) -> dict[str, JobHandler]:
        async def retry(payload: Mapping[str, Any]) -> None:
            await self.try_again(payload["message_id"])

        return {UNDERSTAND_JOB: retry}

    async def understand(self, message_id: str) -> Message:
        """Put a stored voice note or photo into words, then let the assistant answer."""
        async with self._uow(read_only=True) as uow:
            message = await uow.messages.get(message_id)
        if message.understanding in (None, Understanding.UNDERSTOOD):
            return message
        try:
            words = await self._words(message)
        except _CANNOT_NOW as error:
            logger.warning("message %s stays without its words for now: %s", message_id, error)
            return await self._record(message, None, retry=True)
        except NotMedia as error:
            logger.info("message %s holds no readable media: %s", message_id, error)
            return await self._record(message, None, retry=False)
        return await self._record(message, words, retry=False)

    async def not_fetched(self, message: Message) -> Message:
        """The file could not be fetched (its job tries again): the assistant answers now."""
        return await self._record(message, None, retry=False)

    async def try_again(self, message_id: str) -> Message:
        """The retry job: raises while the engine is still down, so the runner tries again
        with backoff; an engine not configured leaves the job dead, for an admin to retry
        once one is."""
        async with self._uow(read_only=True) as uow:
            message = await uow.messages.get(message_id)
        if message.understanding is not Understanding.NOT_UNDERSTOOD:
            return message
        try:
            words = await self._words(message)
        except CapabilityNotConfigured as error:
            raise PermanentFailure(str(error)) from error
        except NotMedia:
            return message
        async with self._uow() as uow:
            message = await uow.messages.get(message_id)
            message.understood(words)
            await uow.messages.update(message)
            await uow.commit()
        return message

    async def _words(self, message: Message) -> str:
        media = message.media
        if media is None or media.file_key is None:
            raise NotMedia("the file was never fetched")
        stored = await self._files.get(media.file_key)
        mime_type = media.mime_type or stored.mime_type
        if message.type is MessageType.AUDIO:
            audio = Audio(stored.content, mime_type)
            return (await self._hearing.transcribe(audio, language=self._language)).text
        image = Image(stored.content, mime_type)
        return await self._seeing.caption(image, language=self._language)

    async def _record(self, read: Message, words: str | None, *, retry: bool) -> Message:
        """Store the words (or that there are none yet) and schedule the assistant's turn;
        the conversation is locked first, as the turn does."""
        now = self._clock.now()
        async with self._uow() as uow:
            conversation = await uow.conversations.get(read.conversation_id)
            message = await uow.messages.get(read.id)
            if words is None:
                message.not_understood()
            else:
                message.understood(words)
            await uow.messages.update(message)
            if conversation.bot_may_reply:
                await uow.jobs.schedule(assistant_turn(conversation.id, now, self._debounce))
            if retry:
                await uow.jobs.add(understanding_retry(message.id, now, RETRY_AFTER))
            await uow.commit()
        self._wake()
        return message
