"""``order_status``: the orders of the customer the conversation is with, and no one else's.

The link from a contact to a customer account is the contact's e-mail, which only a person
of the team records (the contact book: channels never set it, the model cannot), equal to
the e-mail of an active account. Only that account's orders are read, as its holder would
read them; a number of another customer's order is answered word for word like a number
that does not exist. A contact without an e-mail, or whose e-mail is no active account's,
gets no order data: the customer is to give the e-mail of their account to a person of
the team. A contact's phone is no link: accounts have none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from adapters.tools.money import money_json
from talia_core.assistants.language import ToolSpec
from talia_core.assistants.tools import ToolContext, ToolOutcome
from talia_core.commerce.actor import Actor
from talia_core.commerce.order import Order
from talia_core.commerce.order_service import OrderService
from talia_core.conversations.contact_book import ContactBook
from talia_core.identity.user_admin_service import UserAdminService
from talia_core.shared.pagination import PageRequest

LATEST = 5
"""Without a number, the answer is the customer's five latest orders."""
ITEMS_SHOWN = 5
"""An order is summed up by its first five items, and how many more it has."""
_NUMBER = re.compile(r"(?:TA-?|#)?\s*(\d{1,9})", re.IGNORECASE)

NO_ACCOUNT = {
    "account": "unknown",
    "instruction": "No order can be read for this customer: their account is not known. "
    "Ask them to give the e-mail of their account to a person of the team.",
}


def _order(order: Order) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "number": order.reference,
        "status": order.status.value,
        "total": money_json(order.total),
        "placed_on": order.placed_at.date().isoformat(),
        "items": [
            {"name": item.name, "quantity": item.quantity} for item in order.items[:ITEMS_SHOWN]
        ],
    }
    if len(order.items) > ITEMS_SHOWN:
        summary["more_items"] = len(order.items) - ITEMS_SHOWN
    return summary


class OwnOrderStatus:
    spec = ToolSpec(
        name="order_status",
        description="The status of the customer's own orders: the latest ones, or the one "
        "whose number they give (like TA-000123). Only orders of the account whose e-mail "
        "the team recorded for this customer are ever seen.",
        parameters={
            "type": "object",
            "properties": {"number": {"type": "string", "minLength": 1, "maxLength": 20}},
            "additionalProperties": False,
        },
    )
    acts = False

    def __init__(
        self,
        contacts: ContactBook,
        users: UserAdminService,
        orders: OrderService,
        *,
        latest: int = LATEST,
    ) -> None:
        self._contacts = contacts
        self._users = users
        self._orders = orders
        self._latest = latest

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        customer = await self._customer(context.contact_id)
        if customer is None:
            return ToolOutcome.of(NO_ACCOUNT)
        if "number" in arguments:
            number = _NUMBER.fullmatch(arguments["number"].strip())
            if number is None:
                return ToolOutcome.error("an order number looks like TA-000123")
            order = await self._orders.get_by_number(customer, int(number[1]))
            return ToolOutcome.of({"order": _order(order)})
        page = await self._orders.list_own(customer, PageRequest(limit=self._latest))
        answer: dict[str, Any] = {"orders": [_order(order) for order in page.items]}
        if page.total > len(page.items):
            answer["note"] = f"the latest {len(page.items)} of {page.total} orders"
        return ToolOutcome.of(answer)

    async def _customer(self, contact_id: str) -> Actor | None:
        """The account the contact's e-mail names, acting as its holder; ``None`` when none."""
        contact = await self._contacts.contact(contact_id)
        account = await self._users.account_by_email(contact.email) if contact.email else None
        return None if account is None else Actor(account.id, email=account.email)
