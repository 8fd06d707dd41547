"""Voice notes answered with voice notes, when the assistant's definition says so.

The reply's text is spoken (``TextToSpeech``), encoded as Ogg/Opus (what WhatsApp plays as
a voice note) by the ``AudioConverter``, stored in the ``FileStore`` and given a public
link (``MediaLinks``) for providers that fetch it and for the web chat to play. Anything
in the way (no speech engine, no encoder, an engine that is down) sends the text instead:
the reply's text is kept either way.
"""

from __future__ import annotations

import logging

from talia_core.conversations.messages import Media, Message
from talia_core.conversations.ports import MediaLinks
from talia_core.conversations.vocabulary import Channel, MessageType
from talia_core.shared.errors import NotFound, TaliaError
from talia_core.shared.files import Download, FileStore
from talia_core.shared.speech import AudioConverter, AudioFormat, TextToSpeech

logger = logging.getLogger("talia.conversations")

_FOLDER = "voice/"
SPEAKING_CHANNELS = frozenset({Channel.WHATSAPP, Channel.TWILIO, Channel.WEBCHAT})
"""Channels that take a voice note from us (Chatwoot's agents read text)."""


class VoiceReplies:
    """``language`` (ISO 639-1) is asked of the speech engine."""

    def __init__(
        self,
        *,
        speech: TextToSpeech,
        converter: AudioConverter,
        files: FileStore,
        links: MediaLinks,
        language: str | None = None,
    ) -> None:
        self._speech = speech
        self._converter = converter
        self._files = files
        self._links = links
        self._language = language

    @staticmethod
    def wanted(channel: Channel, answering: list[Message], voice_replies: bool) -> bool:
        """Whether a reply to ``answering`` is spoken: the assistant answers voice with
        voice, the customer sent a voice note and the channel takes one."""
        return (
            voice_replies
            and channel in SPEAKING_CHANNELS
            and any(m.type is MessageType.AUDIO for m in answering)
        )

    async def speak(self, message: Message, voice: str | None) -> None:
        """Attach the spoken reply to ``message`` (a ``spoken`` reply, not yet stored), or
        turn it back into text when it cannot be spoken."""
        if message.type is not MessageType.AUDIO or not message.text:
            return
        try:
            said = await self._speech.synthesize(message.text, language=self._language, voice=voice)
            note = await self._converter.convert(said, AudioFormat.OGG_OPUS)
            key = f"{_FOLDER}{message.created_at:%Y/%m}/{message.id}.ogg"
            await self._files.put(key, note.content, note.mime_type)
        except TaliaError as error:
            logger.warning("reply %s goes out as text: %s", message.id, error)
            message.spoken_as_text()
            return
        link = self._links.link(key)
        if message.channel is Channel.TWILIO and not link.startswith(("https://", "http://")):
            # Twilio fetches the file itself: only from an absolute URL of ours.
            logger.warning("reply %s goes out as text: no public base URL is set", message.id)
            message.spoken_as_text()
            return
        size = len(note.content)
        message.attach(Media(source=link, file_key=key, mime_type=note.mime_type, size=size))

    async def shared_file(self, token: str) -> Download:
        """The voice reply a public link names; ``NotFound`` for any other token."""
        key = self._links.file_key(token)
        if key is None or not key.startswith(_FOLDER):
            raise NotFound("voice note", token[:40])
        return await self._files.get(key)
