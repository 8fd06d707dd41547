"""The Lyra Krypton V4 notification: five form fields, the answer signed with HMAC-SHA256.

Izipay posts an IPN (server to server) as form fields::

    kr-answer          the payment as a JSON string (``_type`` V4/Payment)
    kr-hash            lowercase hex HMAC-SHA256 of kr-answer's exact UTF-8 bytes
    kr-hash-algorithm  sha256_hmac
    kr-hash-key        password (the IPN, keyed with the REST password)
    kr-answer-type     V4/Payment

The browser is handed a copy too, keyed with the shop's HMAC key and marked
``kr-hash-key=sha256_hmac``. That copy is for the page, never for the ledger: only a
``password``-keyed answer is believed here. ``kr-answer`` is verified as received, never
re-serialised; it is parsed only after its signature holds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from talia_core.commerce.payment import (
    MAX_ORDER_REFERENCE,
    MAX_STATUS,
    MAX_TRANSACTION_ID,
    PaymentNotification,
)
from talia_core.shared.errors import Forbidden, Malformed
from talia_core.shared.money import Money

ALGORITHM = "sha256_hmac"
IPN_KEY = "password"
ANSWER_TYPE = "V4/Payment"

MAX_ANSWER_CHARS = 256 * 1024  # a real IPN is ~10 KB; a whole shopping cart fits easily
MAX_AMOUNT = 10**12

# Lyra's orderId is at most 64 characters and a transaction uuid 32 hex digits: both within
# the core's rules, which are checked here so that an answer breaking them is Malformed.
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_STATUS = re.compile(rf"[A-Z0-9_]{{1,{MAX_STATUS}}}")


def sign(answer: str, key: str) -> str:
    """The lowercase hex HMAC-SHA256 of ``answer``'s UTF-8 bytes keyed with ``key``."""
    return hmac.new(key.encode(), answer.encode(), hashlib.sha256).hexdigest()


def notification_fields(answer: Mapping[str, Any], key: str) -> dict[str, str]:
    """The form fields of an IPN carrying ``answer``, signed with ``key`` as the password."""
    kr_answer = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    return {
        "kr-answer": kr_answer,
        "kr-hash": sign(kr_answer, key),
        "kr-hash-algorithm": ALGORITHM,
        "kr-hash-key": IPN_KEY,
        "kr-answer-type": ANSWER_TYPE,
    }


def read_notification(fields: Mapping[str, str], *, provider: str, key: str) -> PaymentNotification:
    """Verify an IPN's fields with ``key`` and read the payment it states.

    ``Forbidden``: not signed with the password key by HMAC-SHA256, or the hash does not
    match. ``Malformed``: the fields or the signed answer cannot be read as a payment.
    """
    if _text(fields, "kr-hash-algorithm") != ALGORITHM:
        raise Forbidden("the notification is not signed with sha256_hmac")
    if _text(fields, "kr-hash-key") != IPN_KEY:
        raise Forbidden("the notification is not signed with the password key")
    answer = _text(fields, "kr-answer")
    if not answer:
        raise Malformed("the notification has no kr-answer")
    if len(answer) > MAX_ANSWER_CHARS:
        raise Malformed(f"kr-answer is longer than {MAX_ANSWER_CHARS} characters")
    if not _verifies(answer, _text(fields, "kr-hash"), key):
        raise Forbidden("the notification's kr-hash does not match its kr-answer")
    if _text(fields, "kr-answer-type") != ANSWER_TYPE:
        raise Malformed(f"kr-answer-type is not {ANSWER_TYPE}")
    return _payment(_parse(answer), provider)


def _text(fields: Mapping[str, str], name: str) -> str | None:
    value = fields.get(name)
    return value if isinstance(value, str) else None


def _verifies(answer: str, received: str | None, key: str) -> bool:
    if received is None or not _HEX_DIGEST.fullmatch(received):
        return False
    try:
        expected = sign(answer, key)
    except UnicodeEncodeError:  # lone surrogates: these are not the bytes that were signed
        return False
    return hmac.compare_digest(expected.encode(), received.encode())


def _parse(answer: str) -> dict[str, Any]:
    try:
        parsed = json.loads(answer)
    except (ValueError, RecursionError) as error:
        raise Malformed(f"kr-answer is not JSON ({type(error).__name__})") from error
    if not isinstance(parsed, dict):
        raise Malformed("kr-answer is not a JSON object")
    return parsed


def _payment(answer: dict[str, Any], provider: str) -> PaymentNotification:
    details = _object(answer.get("orderDetails"), "orderDetails")
    transactions = answer.get("transactions")
    if not isinstance(transactions, list) or not transactions:
        raise Malformed("kr-answer has no transactions")
    transaction = _object(transactions[0], "transactions[0]")

    reference = _string(details.get("orderId"), "orderDetails.orderId", MAX_ORDER_REFERENCE)
    transaction_id = _string(transaction.get("uuid"), "transactions[0].uuid", MAX_TRANSACTION_ID)
    status = transaction.get("status")
    status_field = "transactions[0].status"
    if status is None:
        status, status_field = answer.get("orderStatus"), "orderStatus"
    if not isinstance(status, str) or not _STATUS.fullmatch(status):
        raise Malformed(f"{status_field} is not a payment status")

    if transaction.get("amount") is not None:
        amount = _money(transaction.get("amount"), transaction.get("currency"), "transactions[0]")
    else:
        amount = _money(
            details.get("orderTotalAmount"), details.get("orderCurrency"), "orderDetails"
        )
    return PaymentNotification(
        provider=provider,
        order_reference=reference,
        transaction_id=transaction_id,
        status=status,
        amount=amount,
    )


def _object(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"kr-answer has no {name} object")
    return value


def _string(value: object, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value:
        raise Malformed(f"{name} is missing")
    if len(value) > limit or not value.isprintable():
        raise Malformed(f"{name} is not a printable string of at most {limit} characters")
    return value


def _money(amount: object, currency: object, where: str) -> Money:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise Malformed(f"{where} amount is not a whole number of minor units")
    if not 0 <= amount <= MAX_AMOUNT:
        raise Malformed(f"{where} amount is out of range")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise Malformed(f"{where} currency is not a three-letter ISO 4217 code")
    return Money(amount, currency)
