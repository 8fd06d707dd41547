"""A payment gateway that needs no account: the embedded default, and the fake of the port.

Its form token is the payment itself, signed: ``base64url(JSON).hex(HMAC-SHA256)``, so any
worker holding the secret can open it and nothing is kept in a process. Completing it gives
the very form fields Izipay would post as an IPN (Krypton V4, ``kr-hash-key=password``),
signed with the same secret; the app reads them on its one IPN route like Izipay's. A
refund of any named transaction is granted at once and leaves nothing behind either: its
id is derived from the order, so a refund asked again answers the same receipt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

import attrs

from adapters.payments import krypton
from talia_core.commerce.payment import (
    PAID,
    PaymentForm,
    PaymentNotification,
    PaymentRequest,
    RefundReceipt,
    RefundRequest,
)
from talia_core.shared.clock import Clock, SystemClock
from talia_core.shared.errors import Forbidden, Malformed, RuleViolated
from talia_core.shared.money import Money

PROVIDER = "sandbox"
PUBLIC_KEY = "sandbox"
UNPAID = "UNPAID"
SHOP_ID = "sandbox"

MAX_TOKEN_CHARS = 4096
_TOKEN = re.compile(r"([A-Za-z0-9_-]+)\.([0-9a-f]{64})")
# Form tokens are signed with a key of their own, so no token is ever a valid IPN hash.
_TOKEN_KEY_LABEL = b"talia sandbox form token v1"
_REFUND_IDS = uuid.UUID("2b0c8f4e-7d1a-4c55-9e3b-5a6f0d2c7e19")


@attrs.frozen
class SandboxPayment:
    """What a sandbox form token says: the payment the payer is asked to make."""

    order_id: str
    order_reference: str
    amount: Money
    customer_id: str
    customer_email: str | None


class SandboxPaymentGateway:
    def __init__(self, *, secret: str, pay_url: str, clock: Clock | None = None) -> None:
        if len(secret) < 16:
            raise ValueError("the sandbox payment secret must be at least 16 characters")
        self._secret = secret
        self._token_key = hmac.new(secret.encode(), _TOKEN_KEY_LABEL, hashlib.sha256).digest()
        self._pay_url = pay_url
        self._clock = clock or SystemClock()

    @property
    def provider(self) -> str:
        return PROVIDER

    @property
    def pay_url(self) -> str:
        return self._pay_url

    def page_for(self, form_token: str) -> str:
        """Where the payer completes the payment ``form_token`` stands for."""
        return self._pay_url + form_token

    async def create_payment(self, request: PaymentRequest) -> PaymentForm:
        if request.amount.amount <= 0:
            raise RuleViolated("a payment must be for more than zero", {"amount": "not positive"})
        payload = {
            "order_id": request.order_id,
            "order_reference": request.order_reference,
            "amount": request.amount.amount,
            "currency": request.amount.currency,
            "customer": {"id": request.customer_id, "email": request.customer_email},
        }
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        body = base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
        return PaymentForm(PROVIDER, f"{body}.{self._sign_token(body)}", PUBLIC_KEY)

    def open(self, form_token: str) -> SandboxPayment:
        """The payment a token stands for: ``Forbidden`` if it was altered, ``Malformed`` if
        it is not a sandbox token at all."""
        match = _TOKEN.fullmatch(form_token) if len(form_token) <= MAX_TOKEN_CHARS else None
        if match is None:
            raise Malformed("not a sandbox form token")
        body, signature = match.groups()
        if not hmac.compare_digest(self._sign_token(body).encode(), signature.encode()):
            raise Forbidden("the sandbox form token was not issued here or was altered")
        return _payment_of(body)

    def complete(self, form_token: str, *, paid: bool) -> dict[str, str]:
        """The IPN fields Izipay would post once the payer paid (or failed to pay)."""
        payment = self.open(form_token)
        return krypton.notification_fields(self._answer(payment, paid=paid), self._secret)

    async def refund(self, request: RefundRequest) -> RefundReceipt:
        """Every refund of a named transaction succeeds at once, as a paid credit whose id
        the order's reference decides: asked again for one order, the same receipt."""
        if not request.transaction_id:
            raise RuleViolated(
                "a refund needs the transaction it gives back", {"transaction_id": "missing"}
            )
        if request.amount.amount <= 0:
            raise RuleViolated("a refund must be for more than zero", {"amount": "not positive"})
        credit = uuid.uuid5(_REFUND_IDS, f"{request.order_reference}:{request.transaction_id}")
        return RefundReceipt(PROVIDER, credit.hex, PAID)

    def read_notification(self, fields: Mapping[str, str]) -> PaymentNotification:
        return krypton.read_notification(fields, provider=PROVIDER, key=self._secret)

    async def check(self) -> None:
        return None

    def _sign_token(self, body: str) -> str:
        return hmac.new(self._token_key, body.encode(), hashlib.sha256).hexdigest()

    def _answer(self, payment: SandboxPayment, *, paid: bool) -> dict[str, Any]:
        """A Krypton V4/Payment answer, with the fields Izipay fills for a card payment."""
        now = self._clock.now().replace(microsecond=0).isoformat()
        status = PAID if paid else UNPAID
        amount, currency = payment.amount.amount, payment.amount.currency
        metadata = {"order_id": payment.order_id}
        return {
            "shopId": SHOP_ID,
            "orderCycle": "CLOSED",
            "orderStatus": status,
            "serverDate": now,
            "orderDetails": {
                "orderTotalAmount": amount,
                "orderEffectiveAmount": amount,
                "orderCurrency": currency,
                "mode": "TEST",
                "orderId": payment.order_reference,
                "metadata": metadata,
                "_type": "V4/OrderDetails",
            },
            "customer": {
                "email": payment.customer_email,
                "reference": payment.customer_id,
                "_type": "V4/Customer/Customer",
            },
            "transactions": [
                {
                    "shopId": SHOP_ID,
                    "uuid": uuid.uuid4().hex,
                    "amount": amount,
                    "currency": currency,
                    "paymentMethodType": "CARD",
                    "status": status,
                    "detailedStatus": "AUTHORISED" if paid else "REFUSED",
                    "operationType": "DEBIT",
                    "creationDate": now,
                    "errorCode": None if paid else "ACQ_001",
                    "errorMessage": None if paid else "payment refused",
                    "metadata": metadata,
                    "_type": "V4/PaymentTransaction",
                }
            ],
            "_type": krypton.ANSWER_TYPE,
        }


def _payment_of(body: str) -> SandboxPayment:
    try:
        text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        payload = json.loads(text)
        customer = payload["customer"]
        email = customer["email"]
        payment = SandboxPayment(
            order_id=_str(payload["order_id"]),
            order_reference=_str(payload["order_reference"]),
            amount=Money(payload["amount"], payload["currency"]),
            customer_id=_str(customer["id"]),
            customer_email=None if email is None else _str(email),
        )
    except (binascii.Error, ValueError, TypeError, KeyError, RuleViolated) as error:
        raise Malformed(
            f"the sandbox form token cannot be read ({type(error).__name__})"
        ) from error
    return payment


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value
