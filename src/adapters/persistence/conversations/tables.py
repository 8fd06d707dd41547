"""Tables of the conversations context, and the inbox table."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from adapters.persistence.metadata import UtcDateTime, id_column, metadata


def _exact_string(length: int) -> sa.types.TypeEngine[str]:
    """A string compared byte for byte on every dialect."""
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb"
    )


# A message's text is kept whole: past TEXT's 64 KiB on MySQL and MariaDB.
_LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")

contacts = sa.Table(
    "contacts",
    metadata,
    id_column(primary_key=True),
    sa.Column("name", sa.String(200)),
    sa.Column("phone", sa.String(64)),
    sa.Column("email", sa.String(254)),
    sa.Column("notes", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False, index=True),
)

contact_identities = sa.Table(
    "contact_identities",
    metadata,
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("value", _exact_string(200), nullable=False),
    id_column("contact_id", nullable=False, index=True),
    # A contact's identities keep their order: the first of a kind is the address used.
    sa.Column("position", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("kind", "value"),
    sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
)

conversations = sa.Table(
    "conversations",
    metadata,
    id_column(primary_key=True),
    id_column("contact_id", nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("thread", _exact_string(200)),
    sa.Column("status", sa.String(16), nullable=False),
    id_column("assignee_id"),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("last_activity_at", UtcDateTime, nullable=False),
    sa.Column("last_inbound_at", UtcDateTime),
    sa.Column("unread_count", sa.Integer, nullable=False),
    sa.Column("closed_at", UtcDateTime),
    sa.Column("assistant", sa.String(64)),
    sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"]),
    # open_for and a contact's conversations; by_thread; the agents' listing, newest
    # activity first, unfiltered, by status or by assignee.
    sa.Index("ix_conversations_contact_id_channel_status", "contact_id", "channel", "status"),
    sa.Index("ix_conversations_channel_thread", "channel", "thread"),
    sa.Index("ix_conversations_last_activity_at", "last_activity_at"),
    sa.Index("ix_conversations_status_last_activity_at", "status", "last_activity_at"),
    sa.Index("ix_conversations_assignee_id_last_activity_at", "assignee_id", "last_activity_at"),
)

messages = sa.Table(
    "messages",
    metadata,
    id_column(primary_key=True),
    id_column("conversation_id", nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("author", sa.String(16), nullable=False),
    id_column("author_id"),
    sa.Column("author_version", sa.Integer),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("text", _LONG_TEXT),
    sa.Column("media_source", sa.String(1000)),
    sa.Column("media_file_key", sa.String(500)),
    sa.Column("media_mime_type", sa.String(255)),
    sa.Column("media_filename", sa.String(500)),
    sa.Column("media_size", sa.BigInteger),
    sa.Column("location_latitude", sa.Double),
    sa.Column("location_longitude", sa.Double),
    sa.Column("location_name", sa.String(500)),
    sa.Column("location_address", sa.String(1000)),
    # {"name", "language", "parameters": [...]}; SQL NULL when there is no template.
    sa.Column("template", sa.JSON(none_as_null=True)),
    sa.Column("external_id", _exact_string(200)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_at", UtcDateTime),
    sa.Column("error_code", sa.String(50)),
    sa.Column("error_title", sa.String(500)),
    sa.Column("raw_type", sa.String(100)),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("transcript", sa.Text),
    sa.Column("understanding", sa.String(16)),
    sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
    sa.UniqueConstraint("channel", "external_id"),
    sa.Index("ix_messages_conversation_id_created_at", "conversation_id", "created_at"),
)

tool_uses = sa.Table(
    "tool_uses",
    metadata,
    id_column(primary_key=True),
    id_column("conversation_id", nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("assistant", sa.String(64), nullable=False),
    sa.Column("assistant_version", sa.Integer, nullable=False),
    sa.Column("tool", sa.String(64), nullable=False),
    sa.Column("arguments", sa.Text, nullable=False),
    sa.Column("output", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
    sa.Index("ix_tool_uses_conversation_id_at", "conversation_id", "at"),
)

inbox = sa.Table(
    "inbox",
    metadata,
    id_column(primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("key", _exact_string(255), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("channel", "key"),
)


def contacts_matching(text: str) -> sa.ColumnElement[bool]:
    """Contacts whose name, phone, e-mail or an identity value contains ``text``."""
    needle = text.lower()
    identity = sa.select(contact_identities.c.contact_id).where(
        contact_identities.c.contact_id == contacts.c.id,
        sa.func.lower(contact_identities.c.value).contains(needle, autoescape=True),
    )
    return sa.or_(
        *(
            sa.func.lower(column).contains(needle, autoescape=True)
            for column in (contacts.c.name, contacts.c.phone, contacts.c.email)
        ),
        identity.exists(),
    )
