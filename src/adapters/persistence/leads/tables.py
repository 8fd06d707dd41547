"""The leads' tables: one lead per contact and business line, and every change of each."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.persistence.metadata import UtcDateTime, id_column, metadata
from talia_core.leads.criteria import MAX_NAME_LENGTH
from talia_core.leads.model import (
    MAX_BY_LENGTH,
    MAX_CHANNEL_LENGTH,
    MAX_REASON_LENGTH,
)

leads = sa.Table(
    "leads",
    metadata,
    id_column(primary_key=True),
    id_column("contact_id", nullable=False),
    sa.Column("business_line", sa.String(MAX_NAME_LENGTH), nullable=False),
    sa.Column("channel", sa.String(MAX_CHANNEL_LENGTH), nullable=False),
    sa.Column("first_contact_at", UtcDateTime, nullable=False),
    sa.Column("last_contact_at", UtcDateTime, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("facts", sa.JSON, nullable=False),
    id_column("owner_id"),
    sa.Column("notes", sa.Text),
    # One lead per contact and business line, whatever concurrent writers do.
    sa.UniqueConstraint("contact_id", "business_line"),
    sa.Index("ix_leads_stage_last_contact_at", "stage", "last_contact_at"),
    sa.Index("ix_leads_last_contact_at", "last_contact_at"),
    sa.Index("ix_leads_score", "score"),
    sa.Index("ix_leads_owner_id", "owner_id"),
)

lead_events = sa.Table(
    "lead_events",
    metadata,
    # The events (messages received) already applied to leads: each is applied once.
    id_column("event_id", primary_key=True),
    sa.Column("applied_at", UtcDateTime, nullable=False),
)

lead_history = sa.Table(
    "lead_history",
    metadata,
    # The order changes were made in: several share one instant.
    sa.Column(
        "position",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    id_column("id", nullable=False, unique=True),
    sa.Column("lead_id", sa.String(36), sa.ForeignKey("leads.id"), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("cause", sa.String(16), nullable=False),
    sa.Column("by", sa.String(MAX_BY_LENGTH)),
    sa.Column("field", sa.String(MAX_NAME_LENGTH)),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
    sa.Column("reason", sa.String(MAX_REASON_LENGTH)),
    sa.Index("ix_lead_history_lead_id_position", "lead_id", "position"),
)
