"""What passes between the shop and a payment provider: payments opened, refunds given,
and the provider's signed word about a transaction.

The provider's values have lengths the core states below. A provider's statement breaking
them cannot be read: it raises ``Malformed``, the error a gateway's reading raises for any
unreadable notification, so such a notification is refused and journaled like the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from talia_core.shared.errors import Malformed
from talia_core.shared.money import Money

MAX_PROVIDER = 32
"""A payment provider's name is at most 32 characters."""
MAX_ORDER_REFERENCE = 64
"""A provider knows an order by a reference of at most 64 characters."""
MAX_TRANSACTION_ID = 64
"""A provider's id for a transaction (a payment or a refund) is at most 64 characters."""
MAX_STATUS = 32
"""A provider's status of a transaction is at most 32 characters."""

PAID = "PAID"


def _at_most(limit: int) -> Callable[[Any, attrs.Attribute[str], str], None]:
    def check(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
        if len(value) > limit:
            raise Malformed(f"the provider's {attribute.name} is longer than {limit} characters")

    return check


@attrs.frozen
class PaymentRequest:
    order_id: str
    order_reference: str
    amount: Money
    customer_id: str
    customer_email: str | None


@attrs.frozen
class PaymentForm:
    """What the payer's browser needs to show the provider's embedded form."""

    provider: str
    form_token: str
    public_key: str


@attrs.frozen
class RefundRequest:
    """Give back ``amount`` of the payment the provider knows as ``transaction_id``."""

    order_reference: str
    transaction_id: str
    amount: Money
    comment: str | None = None


@attrs.frozen
class RefundReceipt:
    """The provider's word that it gave the money back: its id for the refund, and its status."""

    provider: str = attrs.field(validator=_at_most(MAX_PROVIDER))
    refund_id: str = attrs.field(validator=_at_most(MAX_TRANSACTION_ID))
    status: str = attrs.field(validator=_at_most(MAX_STATUS))


@attrs.frozen
class PaymentNotification:
    """A provider's authenticated statement about one transaction of one order."""

    provider: str = attrs.field(validator=_at_most(MAX_PROVIDER))
    order_reference: str = attrs.field(validator=_at_most(MAX_ORDER_REFERENCE))
    transaction_id: str = attrs.field(validator=_at_most(MAX_TRANSACTION_ID))
    status: str = attrs.field(validator=_at_most(MAX_STATUS))
    amount: Money

    @property
    def paid(self) -> bool:
        return self.status == PAID
