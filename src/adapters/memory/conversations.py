"""In-memory repositories of the conversations context, with the SQL tables' keys.

As in the database: an identity belongs to one contact, a provider message id to one
message per channel, a conversation refers to a stored contact and a message to a stored
conversation (a contact with conversations cannot be removed). Text search folds case with
Python's ``str.lower``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from adapters.memory.database import InMemoryRepositoryBundle, InMemoryTable, State, paginate
from talia_core.conversations.contacts import Contact
from talia_core.conversations.conversation import Conversation
from talia_core.conversations.messages import Message
from talia_core.conversations.ports import ConversationFilter
from talia_core.conversations.tool_uses import ToolUse
from talia_core.conversations.vocabulary import Channel, ChannelIdentity, ConversationStatus
from talia_core.shared.errors import Conflict, NotFound
from talia_core.shared.pagination import Page, PageRequest


def _matches(contact: Contact, text: str) -> bool:
    needle = text.lower()
    fields = [contact.name, contact.phone, contact.email, *(i.value for i in contact.identities)]
    return any(needle in field.lower() for field in fields if field)


class InMemoryContactRepository(InMemoryTable[Contact]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "contacts", "contact")

    async def add(self, contact: Contact) -> None:
        self._refuse_taken_identities(contact)
        await super().add(contact)

    async def update(self, contact: Contact) -> None:
        self._refuse_taken_identities(contact)
        await super().update(contact)

    async def remove(self, contact_id: str) -> None:
        if contact_id not in self.rows:
            raise NotFound("contact", contact_id)
        conversations = self._state().table("conversations").values()
        if any(c.contact_id == contact_id for c in conversations):
            raise Conflict(f"contact {contact_id} still has conversations")
        del self.rows[contact_id]

    async def by_identities(self, identities: Sequence[ChannelIdentity]) -> list[Contact]:
        wanted = set(identities)
        found = self.matching(lambda c: not wanted.isdisjoint(c.identities))
        return sorted(found, key=lambda c: (c.created_at, c.id))

    async def find(self, page: PageRequest, *, text: str | None) -> Page[Contact]:
        found = self.matching(lambda c: not text or _matches(c, text))
        return paginate(found, page, key=lambda c: (c.updated_at, c.id))

    def _refuse_taken_identities(self, contact: Contact) -> None:
        mine = set(contact.identities)
        for other in self.rows.values():
            if other.id != contact.id and not mine.isdisjoint(other.identities):
                raise Conflict(f"an identity of contact {contact.id} belongs to {other.id}")


class InMemoryConversationRepository(InMemoryTable[Conversation]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "conversations", "conversation")

    async def add(self, conversation: Conversation) -> None:
        if conversation.contact_id not in self._state().table("contacts"):
            raise Conflict(f"contact {conversation.contact_id} does not exist")
        await super().add(conversation)

    async def open_for(
        self, contact_id: str, channel: Channel, thread: str | None
    ) -> Conversation | None:
        return self._newest(
            lambda c: (
                c.contact_id == contact_id
                and c.channel is channel
                and c.thread == thread
                and c.status is not ConversationStatus.CLOSED
            )
        )

    async def by_thread(self, channel: Channel, thread: str) -> Conversation | None:
        return self._newest(lambda c: c.channel is channel and c.thread == thread)

    async def move_contact(self, from_contact: str, to_contact: str) -> None:
        for conversation in self.rows.values():
            if conversation.contact_id == from_contact:
                conversation.contact_id = to_contact

    async def find(self, page: PageRequest, criteria: ConversationFilter) -> Page[Conversation]:
        contacts: dict[str, Contact] = self._state().table("contacts")
        text = criteria.text

        def keep(c: Conversation) -> bool:
            return (
                (criteria.status is None or c.status is criteria.status)
                and (criteria.channel is None or c.channel is criteria.channel)
                and (criteria.assignee_id is None or c.assignee_id == criteria.assignee_id)
                and (criteria.contact_id is None or c.contact_id == criteria.contact_id)
                and (not text or _matches(contacts[c.contact_id], text))
            )

        return paginate(self.matching(keep), page, key=lambda c: (c.last_activity_at, c.id))

    def _newest(self, keep: Callable[[Conversation], bool]) -> Conversation | None:
        found = self.matching(keep)
        return max(found, key=lambda c: (c.created_at, c.id)) if found else None


class InMemoryMessageRepository:
    def __init__(self, state: Callable[[], State]) -> None:
        self._state = state
        self._table = InMemoryTable[Message](state, "messages", "message")

    async def add(self, message: Message) -> bool:
        if message.conversation_id not in self._state().table("conversations"):
            raise Conflict(f"conversation {message.conversation_id} does not exist")
        if message.external_id is not None and await self.by_external_id(
            message.channel, message.external_id
        ):
            return False
        await self._table.add(message)
        return True

    async def get(self, message_id: str) -> Message:
        return await self._table.get(message_id)

    async def update(self, message: Message) -> None:
        if message.external_id is not None:
            holder = await self.by_external_id(message.channel, message.external_id)
            if holder is not None and holder.id != message.id:
                raise Conflict(f"{message.channel.value} message {message.external_id} exists")
        await self._table.update(message)

    async def by_external_id(self, channel: Channel, external_id: str) -> Message | None:
        found = self._table.matching(
            lambda m: m.channel is channel and m.external_id == external_id
        )
        return found[0] if found else None

    async def history(self, conversation_id: str, limit: int) -> list[Message]:
        found = self._table.matching(lambda m: m.conversation_id == conversation_id)
        oldest_first = sorted(found, key=lambda m: (m.created_at, m.id))
        return oldest_first[max(0, len(oldest_first) - limit) :]

    async def find(self, conversation_id: str, page: PageRequest) -> Page[Message]:
        found = self._table.matching(lambda m: m.conversation_id == conversation_id)
        return paginate(found, page, key=lambda m: (m.created_at, m.id))


class InMemoryToolUseRepository(InMemoryTable[ToolUse]):
    def __init__(self, state: Callable[[], State]) -> None:
        super().__init__(state, "tool_uses", "tool use")

    async def add(self, use: ToolUse) -> None:
        if use.conversation_id not in self._state().table("conversations"):
            raise Conflict(f"conversation {use.conversation_id} does not exist")
        await super().add(use)

    async def find(self, conversation_id: str, page: PageRequest) -> Page[ToolUse]:
        found = self.matching(lambda u: u.conversation_id == conversation_id)
        return paginate(found, page, key=lambda u: (u.at, u.id))


class InMemoryConversationsRepositories(InMemoryRepositoryBundle):
    contacts: InMemoryContactRepository
    conversations: InMemoryConversationRepository
    messages: InMemoryMessageRepository
    tool_uses: InMemoryToolUseRepository

    def bind(self, state: Callable[[], State]) -> None:
        self.contacts = InMemoryContactRepository(state)
        self.conversations = InMemoryConversationRepository(state)
        self.messages = InMemoryMessageRepository(state)
        self.tool_uses = InMemoryToolUseRepository(state)
        super().bind(state)
