"""The conversations context's tables and repositories, bound by one bundle.

Uniqueness is the database's. A channel identity is the primary key of
``contact_identities``: adding or updating a contact with an identity another contact
holds is a ``Conflict``. A message's provider id is unique per channel (NULLs, messages not
yet sent, never collide): ``MessageRepository.add`` inserts and does nothing on a
duplicate (``ON CONFLICT DO NOTHING``). MySQL and MariaDB take an upsert that changes
nothing instead (``INSERT IGNORE`` would hide every other error); since their connections
count a row found as a row changed (``CLIENT_FOUND_ROWS``), the message asks whether the
row with its own id is the one stored.

Locks. In a writing unit of work the rows read to be changed are locked (``FOR UPDATE``)
until the transaction ends: a contact by ``get`` (not its identities), a conversation by
``get`` and ``open_for``, a message by ``get`` and ``by_external_id``. SQLite, which
serialises writers anyway, ignores the clause; reading units lock nothing.

Text search is a case-insensitive substring match over a contact's name, phone, e-mail and
identity values; a conversation matches when its contact does (message text is not
searched: it would read every message). Case folding is the database's: SQLite folds ASCII
letters only, and MySQL's and MariaDB's default collations also ignore accents.

Identity values, provider ids, threads and inbox keys compare byte for byte on MySQL and
MariaDB too, as on the other databases (their default collations ignore case and accents).
"""

from __future__ import annotations

from adapters.persistence.bundle import RepositoryBundle, bound
from adapters.persistence.conversations.contacts import SqlAlchemyContactRepository
from adapters.persistence.conversations.messages import SqlAlchemyMessageRepository
from adapters.persistence.conversations.threads import SqlAlchemyConversationRepository
from adapters.persistence.conversations.tool_uses import SqlAlchemyToolUseRepository


class ConversationsRepositories(RepositoryBundle):
    contacts = bound(SqlAlchemyContactRepository, locks=True)
    conversations = bound(SqlAlchemyConversationRepository, locks=True)
    messages = bound(SqlAlchemyMessageRepository, locks=True)
    tool_uses = bound(SqlAlchemyToolUseRepository)
