"""The invitations' table: one invitation per unit of an order's item, a slug used once.

The events are part of the invitation (a few, ordered, always read and changed with it):
they are kept as JSON beside its data.
"""

from __future__ import annotations

import sqlalchemy as sa

from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from talia_core.invitations.model import SLUG_MAX

MAX_ORDER_ITEM = 80

invitations = sa.Table(
    "invitations",
    metadata,
    id_column(primary_key=True),
    id_column("owner_id", nullable=False),
    id_column("order_id"),
    sa.Column("order_item", sa.String(MAX_ORDER_ITEM)),
    id_column("template_id"),
    id_column("plan_id"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("allowances", sa.JSON, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("events", sa.JSON, nullable=False),
    sa.Column("slug", sa.String(SLUG_MAX), unique=True),
    sa.Column("published_at", UtcDateTime),
    sa.Column("expires_at", UtcDateTime),
    sa.Column("revoked_at", UtcDateTime),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # A paid order's event delivered twice, or by two workers at once, makes one invitation
    # per unit of each item: the database settles it.
    sa.UniqueConstraint("order_id", "order_item"),
    sa.Index("ix_invitations_owner_id_created_at", "owner_id", "created_at"),
)
