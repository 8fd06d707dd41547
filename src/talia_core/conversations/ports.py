"""What the conversations context needs from storage, channels, files and assistants."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import attrs

from talia_core.conversations.contacts import Contact
from talia_core.conversations.conversation import Conversation
from talia_core.conversations.events import InboxEntry, Location
from talia_core.conversations.messages import Message, Template
from talia_core.conversations.tool_uses import ToolUse
from talia_core.conversations.vocabulary import (
    Channel,
    ChannelIdentity,
    ConversationStatus,
    MessageType,
)
from talia_core.shared.files import Download
from talia_core.shared.jobs import JobsUnitOfWork
from talia_core.shared.pagination import Page, PageRequest

# --- storage ----------------------------------------------------------------------------


class ContactRepository(Protocol):
    async def add(self, contact: Contact) -> None:
        """``Conflict`` when one of its identities already belongs to a contact."""
        ...

    async def get(self, contact_id: str) -> Contact: ...

    async def update(self, contact: Contact) -> None:
        """Stores details and any new identities (``Conflict`` when one is taken)."""
        ...

    async def remove(self, contact_id: str) -> None:
        """Only for a contact merged into another; its conversations must have moved."""
        ...

    async def by_identities(self, identities: Sequence[ChannelIdentity]) -> list[Contact]:
        """Every contact holding one of the identities, oldest first."""
        ...

    async def find(self, page: PageRequest, *, text: str | None) -> Page[Contact]:
        """Most recently updated first; ``text`` matches name, phone, e-mail or identity."""
        ...


@attrs.frozen
class ConversationFilter:
    status: ConversationStatus | None = None
    channel: Channel | None = None
    assignee_id: str | None = None
    contact_id: str | None = None
    text: str | None = None


class ConversationRepository(Protocol):
    async def add(self, conversation: Conversation) -> None: ...

    async def get(self, conversation_id: str) -> Conversation:
        """Locked for update in a writing unit."""
        ...

    async def update(self, conversation: Conversation) -> None: ...

    async def open_for(
        self, contact_id: str, channel: Channel, thread: str | None
    ) -> Conversation | None:
        """The contact's conversation on the channel (and thread) that is not closed."""
        ...

    async def by_thread(self, channel: Channel, thread: str) -> Conversation | None:
        """The newest conversation a channel knows by its own handle."""
        ...

    async def move_contact(self, from_contact: str, to_contact: str) -> None: ...

    async def find(self, page: PageRequest, criteria: ConversationFilter) -> Page[Conversation]:
        """Most recent activity first."""
        ...


class MessageRepository(Protocol):
    async def add(self, message: Message) -> bool:
        """False (and nothing written) when the channel already has its ``external_id``."""
        ...

    async def get(self, message_id: str) -> Message: ...

    async def update(self, message: Message) -> None: ...

    async def by_external_id(self, channel: Channel, external_id: str) -> Message | None: ...

    async def history(self, conversation_id: str, limit: int) -> list[Message]:
        """The last ``limit`` messages, oldest first."""
        ...

    async def find(self, conversation_id: str, page: PageRequest) -> Page[Message]:
        """Newest first."""
        ...


class ToolUseRepository(Protocol):
    async def add(self, use: ToolUse) -> None: ...

    async def find(self, conversation_id: str, page: PageRequest) -> Page[ToolUse]:
        """Newest first."""
        ...


class ConversationsUnitOfWork(JobsUnitOfWork, Protocol):
    @property
    def contacts(self) -> ContactRepository: ...

    @property
    def conversations(self) -> ConversationRepository: ...

    @property
    def messages(self) -> MessageRepository: ...

    @property
    def tool_uses(self) -> ToolUseRepository: ...


class Inbox(Protocol):
    """The durable front door for channel events, built for bursts of webhooks.

    ``accept`` returns once the entries and the job that will process each new one are
    committed together; redelivered entries (same channel and key) are left alone. The
    answer says, per entry, whether it was new.
    """

    async def accept(self, entries: Sequence[InboxEntry]) -> list[bool]: ...


# --- channels ---------------------------------------------------------------------------


@attrs.frozen
class Outbound:
    """A message to send: ``to`` is the contact's identity on the channel."""

    message_id: str
    channel: Channel
    to: ChannelIdentity
    type: MessageType
    thread: str | None = None
    text: str | None = None
    template: Template | None = None
    media_url: str | None = None
    media_mime_type: str | None = None
    location: Location | None = None
    media_content: bytes | None = attrs.field(default=None, repr=False)
    """Our own file (a voice reply), for channels that upload it rather than link to it;
    ``media_url`` is then its public link."""


class ChannelSender(Protocol):
    """Sends through one channel; raises ``DeliveryRefused`` for a permanent refusal and
    ``ExternalServiceUnavailable`` for anything worth retrying."""

    async def send(self, message: Outbound) -> str:
        """The provider's id of the sent message."""
        ...

    async def hand_off(self, thread: str | None) -> None:
        """Tell the channel humans take over (Chatwoot opens the conversation); channels
        without such a notion do nothing."""
        ...


class MediaDownloader(Protocol):
    """Fetches an attachment a channel announced (a WhatsApp media id, a Twilio URL)."""

    async def download(self, reference: str) -> Download: ...


class MediaLinks(Protocol):
    """Public, unguessable links to files of ours a channel's provider fetches (a voice
    reply Twilio sends, a web chat visitor plays)."""

    def link(self, file_key: str) -> str: ...

    def file_key(self, token: str) -> str | None:
        """The file a link's token names; None for a token we did not make."""
        ...


class LiveFeed(Protocol):
    """Pushes committed messages to whoever watches a web chat session (its socket)."""

    async def publish(self, thread: str, message: Message) -> None:
        """``thread`` is the web chat session the conversation belongs to."""
        ...

    async def draft(self, thread: str, text: str) -> None:
        """A piece of the answer the assistant is writing, shown until the answer arrives;
        drafts are not kept: a watcher that missed one sees the whole answer anyway."""
        ...

    def subscribe(self, thread: str) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]:
        """The session's messages from now on, as JSON frames, while the block lasts; the
        iterator ends when the feed drops a subscriber that cannot keep up."""
        ...


# --- assistants -------------------------------------------------------------------------


@attrs.frozen
class TurnMessage:
    author: str  # "contact", "bot" or "agent"
    type: str
    text: str | None


@attrs.frozen
class AssistantTurn:
    """What an assistant sees: the conversation so far and the messages it has to answer."""

    conversation_id: str
    contact_id: str
    channel: str
    contact_name: str | None
    history: tuple[TurnMessage, ...]
    unanswered: tuple[TurnMessage, ...]
    assistant: str | None = None
    """The conversation's current assistant (its name), if one answered it before."""

    @property
    def is_first(self) -> bool:
        return not any(m.author == "bot" for m in self.history)


@attrs.frozen
class ToolCall:
    """A tool the assistant called; ``output`` is what the tool answered, when it ran."""

    name: str
    arguments: dict[str, Any] = attrs.field(factory=dict)
    output: str | None = None


HAND_OFF = "handoff_to_human"
"""The tool every assistant may call: the conversation goes to a human."""


@attrs.frozen
class Speaker:
    """The assistant, at its version, that answered; ``voice_replies``: it answers a voice
    note with one, spoken by the engine's ``voice`` (its default when None)."""

    id: str
    name: str
    version: int
    voice_replies: bool = False
    voice: str | None = None


@attrs.frozen
class AssistantReply:
    messages: tuple[str, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    speaker: Speaker | None = None
    hand_off: bool = False
    """A person takes the conversation over: the bot stops answering it."""


Drafting = Callable[[str], Awaitable[None]]
"""Takes each piece of an answer as the assistant writes it (shown to a web chat visitor)."""


class AwaitedAnswers(Protocol):
    """Another context waiting for the contact's answer (a reminder's «sí» or «no»)."""

    async def answer(self, contact_id: str, text: str) -> str | None:
        """The acknowledgement to send when ``text`` settled what waited for it; None: it
        did not, and the assistant answers as usual."""
        ...


class Assistant(Protocol):
    async def respond(
        self, turn: AssistantTurn, *, drafting: Drafting | None = None
    ) -> AssistantReply:
        """The reply to ``turn``; an assistant that writes as it goes passes each piece to
        ``drafting`` first, one that answers at once does not."""
        ...
