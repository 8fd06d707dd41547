"""The scheduling tables: appointments, and the local calendar's events and slot claims.

A booked event claims every 5-minute cell of its time, one row per cell under the primary
key ``(calendar_id, cell)``: two events that overlap share a cell, so the second insert
fails on every database. Cancelling deletes the claims, which frees the time without
partial indexes (MariaDB has none).
"""

from __future__ import annotations

import sqlalchemy as sa

from adapters.persistence.metadata import UtcDateTime, id_column, metadata

appointments = sa.Table(
    "appointments",
    metadata,
    id_column(primary_key=True),
    sa.Column("calendar_id", sa.String(64), nullable=False),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    id_column("contact_id", index=True),
    sa.Column("customer_name", sa.String(120)),
    sa.Column("channel", sa.String(32)),
    sa.Column("note", sa.Text),
    sa.Column("booked_by", sa.String(64), nullable=False),
    sa.Column("event_id", sa.String(255)),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("confirmed_at", UtcDateTime),
    sa.Column("cancelled_at", UtcDateTime),
    sa.Column("cancelled_by", sa.String(64)),
    sa.Index("ix_appointments_starts_at", "starts_at"),
)

calendar_events = sa.Table(
    "calendar_events",
    metadata,
    id_column(primary_key=True),
    sa.Column("calendar_id", sa.String(64), nullable=False),
    id_column("appointment_id", unique=True),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=False),
    sa.Column("summary", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("cancelled", sa.Boolean, nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_calendar_events_calendar_id_starts_at", "calendar_id", "starts_at"),
)

calendar_claims = sa.Table(
    "calendar_claims",
    metadata,
    sa.Column("calendar_id", sa.String(64), primary_key=True),
    sa.Column("cell", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column(
        "event_id",
        sa.String(36),
        sa.ForeignKey("calendar_events.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
)
