"""The invitations context's wiring: its consumer among the outbox relay's."""

from __future__ import annotations

from collections.abc import Sequence

from talia_core.invitations.consumers import order_consumer
from talia_core.invitations.services import InvitationService
from talia_core.shared.outbox_relay import Consumer


def with_invitations(
    invitations: InvitationService, consumers: Sequence[Consumer]
) -> list[Consumer]:
    """The one that makes a paid order's invitations, after the relay's other consumers."""
    return [*consumers, order_consumer(invitations)]
