"""Izipay, Peru's Lyra platform, through the Krypton REST API V4.

1. SERVER  POST {base}/api-payment/V4/Charge/CreatePayment, HTTP Basic shopId:REST-password,
           {"amount": <minor units>, "currency": "PEN", "orderId": ..., "customer": {...}}
           -> {"status": "SUCCESS", "answer": {"formToken": ...}}
           or {"status": "ERROR", "answer": {"errorCode": "INT_902", "errorMessage": ...}}
2. BROWSER the Krypton client draws the form with the public key and the formToken; the card
           never reaches this backend.
3. SERVER  Izipay posts the IPN, read by ``krypton.read_notification`` with the REST password.
4. SERVER  an admin's refund: POST {base}/api-payment/V4/Transaction/CancelOrRefund, same auth,
           {"uuid": <the payment's transaction>, "amount": <minor units>, "currency": "PEN",
            "resolutionMode": "AUTO", "comment": ...}: a payment not captured yet is cancelled
           (the same transaction comes back UNPAID / CANCELLED), a captured one is refunded (a
           new CREDIT transaction with its own uuid comes back). PSP_104 / PSP_105 and the
           like come as an ERROR. CancelOrRefund takes no idempotency key, so the order's
           reference is the key: POST {base}/api-payment/V4/Order/Get {"orderId": ...} first,
           and a refund the order already has (a CREDIT not refused, or the payment itself
           cancelled) is answered instead of asking again. An attempt whose answer was lost
           may then be repeated without giving the money back twice.

``Charge/SDKTest`` echoes a value back: it proves the credentials work and is the health check.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from adapters.payments import krypton
from talia_core.commerce.payment import (
    MAX_STATUS,
    MAX_TRANSACTION_ID,
    PaymentForm,
    PaymentNotification,
    PaymentRequest,
    RefundReceipt,
    RefundRequest,
)
from talia_core.shared.errors import ExternalServiceUnavailable, RuleViolated

logger = logging.getLogger("talia.payments")

SERVICE = "izipay"
_API = "/api-payment/V4/"
_PING = "ping"
_MAX_ERROR_TEXT = 127  # Lyra's own limit for errorMessage and detailedErrorMessage
_MAX_RETRY_AFTER = 24 * 3600
# Lyra's limit for a refund's comment: the admin's note is sent shortened to it on purpose,
# the whole note stays in the order's history.
_MAX_COMMENT = 255
# Cancel what is not captured yet, refund what is.
RESOLUTION_MODE = "AUTO"
_UNPAID = "UNPAID"
_CANCELLED = "CANCELLED"
_CREDIT = "CREDIT"


class IzipayPaymentGateway:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        shop_id: str,
        password: str,
        public_key: str,
        ipn_url: str | None = None,
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("the Izipay base URL must start with https://")
        if not shop_id or not password or not public_key:
            raise ValueError("Izipay needs a shop id, a REST password and a public key")
        self._client = client
        self._api = base_url.rstrip("/") + _API
        self._auth = httpx.BasicAuth(shop_id, password)
        self._password = password
        self._public_key = public_key
        self._ipn_url = ipn_url

    @property
    def provider(self) -> str:
        return SERVICE

    async def create_payment(self, request: PaymentRequest) -> PaymentForm:
        if request.amount.amount <= 0:
            raise RuleViolated("a payment must be for more than zero", {"amount": "not positive"})
        customer: dict[str, str] = {"reference": request.customer_id}
        if request.customer_email:
            customer["email"] = request.customer_email
        body: dict[str, Any] = {
            "amount": request.amount.amount,
            "currency": request.amount.currency,
            "orderId": request.order_reference,
            "customer": customer,
            "metadata": {"order_id": request.order_id},
        }
        if self._ipn_url:
            body["ipnTargetUrl"] = self._ipn_url
        answer = await self._call("Charge/CreatePayment", body)
        token = answer.get("formToken")
        if not isinstance(token, str) or not token:
            raise ExternalServiceUnavailable(SERVICE, "CreatePayment answered without a formToken")
        return PaymentForm(SERVICE, token, self._public_key)

    async def refund(self, request: RefundRequest) -> RefundReceipt:
        if request.amount.amount <= 0:
            raise RuleViolated("a refund must be for more than zero", {"amount": "not positive"})
        if not request.transaction_id:
            raise RuleViolated(
                "a refund needs the transaction it gives back", {"transaction_id": "missing"}
            )
        given = await self._refund_given(request)
        if given is not None:
            return given
        comment = request.comment or f"refund of {request.order_reference}"
        body: dict[str, Any] = {
            "uuid": request.transaction_id,
            "amount": request.amount.amount,
            "currency": request.amount.currency,
            "resolutionMode": RESOLUTION_MODE,
            "comment": comment[:_MAX_COMMENT],
        }
        answer = await self._call("Transaction/CancelOrRefund", body)
        refund_id, status = answer.get("uuid"), answer.get("status")
        if (
            not isinstance(refund_id, str)
            or not 0 < len(refund_id) <= MAX_TRANSACTION_ID
            or not isinstance(status, str)
            or len(status) > MAX_STATUS
        ):
            raise ExternalServiceUnavailable(
                SERVICE, "CancelOrRefund answered without a readable transaction uuid and status"
            )
        detailed = answer.get("detailedStatus")
        if status == _UNPAID and detailed != _CANCELLED:
            # A refund the acquirer turned down comes back as a SUCCESS carrying an unpaid
            # credit; only an unpaid *cancelled* transaction means the money stays home.
            reason = _clip(answer.get("errorCode")) or _clip(detailed) or status
            raise RuleViolated(
                f"Izipay refused the refund of {request.transaction_id}: {reason}",
                {"payment": reason},
            )
        return RefundReceipt(SERVICE, refund_id, status)

    async def _refund_given(self, request: RefundRequest) -> RefundReceipt | None:
        """The refund Izipay already holds for the order, if any. An order Izipay does not
        know (an ERROR) has none: CancelOrRefund then gives the real answer."""
        try:
            answer = await self._call("Order/Get", {"orderId": request.order_reference})
        except RuleViolated:
            return None
        transactions = answer.get("transactions")
        for given in transactions if isinstance(transactions, list) else []:
            if not isinstance(given, dict):
                continue
            uuid, status = given.get("uuid"), given.get("status")
            if not isinstance(uuid, str) or not isinstance(status, str):
                continue
            operation, detailed = given.get("operationType"), given.get("detailedStatus")
            credited = operation == _CREDIT and status != _UNPAID
            cancelled = uuid == request.transaction_id and detailed == _CANCELLED
            if credited or cancelled:
                return RefundReceipt(SERVICE, uuid, status)
        return None

    def read_notification(self, fields: Mapping[str, str]) -> PaymentNotification:
        return krypton.read_notification(fields, provider=SERVICE, key=self._password)

    async def check(self) -> None:
        try:
            answer = await self._call("Charge/SDKTest", {"value": _PING})
        except RuleViolated as error:
            raise ExternalServiceUnavailable(SERVICE, f"SDKTest refused: {error.detail}") from error
        if answer.get("value") != _PING:
            raise ExternalServiceUnavailable(SERVICE, "SDKTest did not echo its value")

    async def _call(self, web_service: str, body: dict[str, Any]) -> dict[str, Any]:
        """The ``answer`` of a SUCCESS; ``RuleViolated`` for an ERROR; unavailable otherwise."""
        try:
            response = await self._client.post(self._api + web_service, json=body, auth=self._auth)
        except httpx.TimeoutException as error:
            raise ExternalServiceUnavailable(SERVICE, f"{web_service} timed out") from error
        except httpx.RequestError as error:
            raise ExternalServiceUnavailable(
                SERVICE, f"{web_service} failed: {type(error).__name__}"
            ) from error

        if response.status_code == 401:
            logger.error(
                "Izipay refused the shop's credentials (HTTP 401 on %s): check the shop id "
                "and the REST password",
                web_service,
            )
            raise ExternalServiceUnavailable(SERVICE, "the shop's credentials were refused")
        if response.status_code in (429, 503) or response.status_code >= 500:
            raise ExternalServiceUnavailable(
                SERVICE,
                f"{web_service} answered HTTP {response.status_code}",
                retry_after_seconds=_retry_after(response),
            )

        envelope = _json_object(response)
        status = envelope.get("status") if envelope is not None else None
        answer = envelope.get("answer") if envelope is not None else None
        if status == "ERROR" and isinstance(answer, dict):
            raise _refusal(web_service, answer)
        if response.status_code != 200 or status != "SUCCESS" or not isinstance(answer, dict):
            if response.status_code != 200:
                logger.error("Izipay answered HTTP %s on %s", response.status_code, web_service)
            raise ExternalServiceUnavailable(
                SERVICE, f"{web_service} gave an unreadable answer (HTTP {response.status_code})"
            )
        return answer


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        parsed = response.json()
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _refusal(web_service: str, answer: Mapping[str, Any]) -> RuleViolated:
    code = _clip(answer.get("errorCode")) or "unknown"
    message = _clip(answer.get("errorMessage")) or "no message"
    detail = _clip(answer.get("detailedErrorMessage"))
    text = f"Izipay refused {web_service}: {code} {message}"
    return RuleViolated(f"{text} ({detail})" if detail else text, {"payment": code})


def _clip(value: object) -> str | None:
    """Izipay's error text, only kept for diagnosis: shortened to Lyra's limit on purpose."""
    return value[:_MAX_ERROR_TEXT] if isinstance(value, str) and value else None


def _retry_after(response: httpx.Response) -> int | None:
    """``Retry-After`` as whole seconds (delta-seconds or an HTTP date), at least 1."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return max(1, min(int(value), _MAX_RETRY_AFTER))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = math.ceil((when - datetime.now(UTC)).total_seconds())
    return max(1, min(seconds, _MAX_RETRY_AFTER))
