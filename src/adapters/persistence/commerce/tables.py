"""Tables of the commerce context."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.persistence.mapping import money_columns
from adapters.persistence.metadata import UtcDateTime, id_column, metadata

carts = sa.Table(
    "carts",
    metadata,
    id_column(primary_key=True),
    id_column("customer_id", nullable=False, unique=True),
    sa.Column("updated_at", UtcDateTime),
)

cart_items = sa.Table(
    "cart_items",
    metadata,
    id_column(primary_key=True),
    id_column("cart_id", nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    id_column("product_id", nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("added_at", UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(["cart_id"], ["carts.id"], ondelete="CASCADE"),
    sa.UniqueConstraint("cart_id", "kind", "product_id"),
)

coupons = sa.Table(
    "coupons",
    metadata,
    id_column(primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("percent_off_bp", sa.Integer),
    *money_columns("amount_off", nullable=True),
    *money_columns("minimum_order", nullable=True),
    sa.Column("valid_from", UtcDateTime),
    sa.Column("valid_until", UtcDateTime),
    sa.Column("max_redemptions", sa.Integer),
    sa.Column("max_per_customer", sa.Integer),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("applies_to", sa.JSON, nullable=False),
    sa.Column("redemptions", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False, index=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.CheckConstraint(
        "redemptions >= 0 AND (max_redemptions IS NULL OR redemptions <= max_redemptions)",
        name="redemptions_within_limit",
    ),
)

coupon_redemptions = sa.Table(
    "coupon_redemptions",
    metadata,
    id_column(primary_key=True),
    id_column("coupon_id", nullable=False),
    id_column("customer_id", nullable=False),
    id_column("order_id", nullable=False, unique=True),
    sa.Column("redeemed_at", UtcDateTime, nullable=False),
    sa.Column("released_at", UtcDateTime),
    sa.ForeignKeyConstraint(["coupon_id"], ["coupons.id"]),
    sa.Index("ix_coupon_redemptions_coupon_id_customer_id", "coupon_id", "customer_id"),
)

orders = sa.Table(
    "orders",
    metadata,
    id_column(primary_key=True),
    sa.Column("number", sa.BigInteger, nullable=False, unique=True),
    id_column("customer_id", nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("subtotal_amount", sa.BigInteger, nullable=False),
    sa.Column("discount_amount", sa.BigInteger, nullable=False),
    sa.Column("total_amount", sa.BigInteger, nullable=False),
    id_column("coupon_id"),
    sa.Column("coupon_code", sa.String(32)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("placed_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("paid_at", UtcDateTime, index=True),
    sa.Column("payment_reference", sa.String(64)),
    sa.Column("review_reason", sa.String(500)),
    # A customer's orders newest first; the pending ones oldest first (expiry).
    sa.Index("ix_orders_customer_id_placed_at", "customer_id", "placed_at"),
    sa.Index("ix_orders_status_placed_at", "status", "placed_at"),
)

order_items = sa.Table(
    "order_items",
    metadata,
    id_column("order_id", nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    id_column("product_id", nullable=False),
    sa.Column("name", sa.String(120), nullable=False),
    *money_columns("unit_price"),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("order_id", "position"),
    sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
)

order_transitions = sa.Table(
    "order_transitions",
    metadata,
    id_column(primary_key=True),
    id_column("order_id", nullable=False),
    sa.Column("from_status", sa.String(16)),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("note", sa.String(500)),
    sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
    sa.Index("ix_order_transitions_order_id_at", "order_id", "at"),
)

payment_journal = sa.Table(
    "payment_journal",
    metadata,
    id_column(primary_key=True),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False, index=True),
    sa.Column("detail", sa.Text),
    id_column("order_id", index=True),
    sa.Column("order_reference", sa.String(64)),
    sa.Column("transaction_id", sa.String(64)),
    sa.Column("status", sa.String(32)),
    *money_columns("amount", nullable=True),
    # NULLs are distinct: rejected notifications (no transaction) are all kept.
    sa.UniqueConstraint("provider", "transaction_id", "status"),
)
