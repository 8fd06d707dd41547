"""Payment routes: opening a payment, the provider's signed notification (IPN), the
gateway's health, the admin's journal, and the sandbox's local payment page."""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Annotated, Any, cast
from urllib.parse import parse_qsl

import httpx
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import JSONBody, PathParameter, QueryParameter
from pydantic import Field

from adapters.payments.sandbox import SandboxPaymentGateway
from entrypoints.http.auth import admin_only, customer_or_admin, public
from entrypoints.http.errors import problems
from entrypoints.http.public_writes import NOT_LIMITED
from entrypoints.http.schemas import (
    PRINTABLE,
    Limit,
    MoneyOut,
    Offset,
    Out,
    PageOut,
    Schema,
    page_out,
    page_request,
)
from talia_core.commerce.actor import Actor
from talia_core.commerce.payment_journal import NotificationOutcome
from talia_core.commerce.payment_service import PaymentService
from talia_core.shared.errors import ExternalServiceUnavailable, Malformed, TaliaError

logger = logging.getLogger("talia.payments")

IPN_PATH = "/api/payments/izipay/ipn"
FORM = "application/x-www-form-urlencoded"


class FormTokenIn(Schema):
    order_id: str = Field(min_length=1, max_length=36, pattern=PRINTABLE)


class FormTokenOut(Schema):
    provider: str
    form_token: str
    public_key: str
    sandbox_url: str | None = Field(
        None, description="With the sandbox provider: the local page where the payment is made."
    )


class IpnOut(Schema):
    outcome: NotificationOutcome
    order_id: str | None


class GatewayHealthOut(Schema):
    provider: str
    status: str


class PaymentEntryOut(Out):
    id: str
    provider: str
    outcome: NotificationOutcome
    received_at: datetime
    detail: str | None
    order_id: str | None
    order_reference: str | None
    transaction_id: str | None
    status: str | None
    amount: MoneyOut | None


def read_form(body: bytes) -> dict[str, str]:
    """The form fields exactly as sent: the signature covers the raw ``kr-answer`` text."""
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=True, max_num_fields=20
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise Malformed(f"the notification is not a readable form: {error}") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise Malformed("the notification repeats a field")
    return fields


class PaymentController(Controller):
    tags = ["payments"]

    @post(
        "/api/payments/izipay/form-token",
        guards=[customer_or_admin],
        status_code=200,
        responses=problems(400, 401, 403, 404, 422, 503),
    )
    async def form_token(
        self,
        data: JSONBody[FormTokenIn],
        payments: NamedDependency[PaymentService],
        actor: NamedDependency[Actor],
        sandbox_pay_path: NamedDependency[str],
    ) -> FormTokenOut:
        """Open a payment for the caller's pending order; the token feeds the embedded form."""
        form = await payments.start_payment(actor, data.order_id)
        return FormTokenOut(
            provider=form.provider,
            form_token=form.form_token,
            public_key=form.public_key,
            sandbox_url=sandbox_pay_path + form.form_token if form.provider == "sandbox" else None,
        )

    @post(
        IPN_PATH,
        guards=[public],
        opt=NOT_LIMITED,
        status_code=200,
        responses=problems(400, 403, 413, 415, 422),
    )
    async def ipn(
        self, request: Request[Any, Any, Any], payments: NamedDependency[PaymentService]
    ) -> IpnOut:
        """The provider's notification, form-encoded and signed (``kr-hash`` over
        ``kr-answer``). A redelivery answers 200 and changes nothing; a forged or unreadable
        one is journaled and refused (403/400); one that does not fit its order is journaled,
        flags the order for review and is refused (422)."""
        if request.content_type[0] != FORM:
            raise HTTPException(status_code=415, detail=f"the notification must be {FORM}")
        try:
            fields = read_form(await request.body())
        except Malformed as unreadable:
            await payments.journal_rejection(unreadable)
            logger.warning("payment notification refused: %s", unreadable.detail)
            raise
        try:
            result = await payments.receive_notification(fields)
        except TaliaError as refused:
            logger.warning("payment notification refused: %s", refused.detail)
            raise
        logger.info(
            "payment notification", extra={"outcome": result.outcome, "order_id": result.order_id}
        )
        return IpnOut(outcome=result.outcome, order_id=result.order_id)

    @get("/api/payments/health", guards=[public], responses=problems(503))
    async def health(self, payments: NamedDependency[PaymentService]) -> GatewayHealthOut:
        """Whether the payment provider answers, through its resilience runner."""
        await payments.check_gateway()
        return GatewayHealthOut(provider=payments.provider, status="up")

    @get("/api/admin/payments/journal", guards=[admin_only], responses=problems(400, 401, 403))
    async def journal(
        self,
        payments: NamedDependency[PaymentService],
        actor: NamedDependency[Actor],
        limit: Limit = 50,
        offset: Offset = 0,
        order_id: Annotated[
            str | None,
            QueryParameter(max_length=36, pattern=PRINTABLE, description="Only this order."),
        ] = None,
    ) -> PageOut[PaymentEntryOut]:
        """Every notification received, applied or not, newest first."""
        page = await payments.journal(actor, page_request(limit, offset), order_id=order_id)
        return page_out(page, PaymentEntryOut.model_validate)


SANDBOX_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox payment</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.6rem 1.2rem;margin-right:.5rem}}</style></head>
<body><h1>Sandbox payment</h1>
<p>Nobody is charged: this page stands in for the card form while no provider is set up.</p>
<p>Order <strong>{reference}</strong>: <strong>{amount}</strong></p>
<form method="post"><button name="outcome" value="paid">Pay</button>
<button name="outcome" value="unpaid">Decline</button></form></body></html>
"""

SANDBOX_DONE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox payment</title></head>
<body style="font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto">
<h1>{title}</h1><p>{detail}</p></body></html>
"""


FormToken = Annotated[str, PathParameter(max_length=4096, description="The sandbox form token.")]


class SandboxController(Controller):
    """Only mounted with the sandbox provider."""

    path = "/sandbox/payments"
    tags = ["payments"]

    @get("/{form_token:str}", guards=[public], media_type="text/html", responses=problems(400, 403))
    async def page(
        self, form_token: FormToken, sandbox: NamedDependency[SandboxPaymentGateway]
    ) -> str:
        payment = sandbox.open(form_token)
        amount = f"{payment.amount.amount / 100:.2f} {payment.amount.currency}"
        return SANDBOX_PAGE.format(
            reference=html.escape(payment.order_reference), amount=html.escape(amount)
        )

    @post(
        "/{form_token:str}",
        guards=[public],
        media_type="text/html",
        status_code=200,
        responses=problems(400, 403),
    )
    async def complete(
        self,
        form_token: FormToken,
        request: Request[Any, Any, Any],
        sandbox: NamedDependency[SandboxPaymentGateway],
    ) -> str:
        """Post the notification Izipay would send to the app's own IPN route."""
        outcome = read_form(await request.body()).get("outcome")
        fields = sandbox.complete(form_token, paid=outcome == "paid")
        transport = httpx.ASGITransport(app=cast(Any, request.app))
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            answer = await client.post(IPN_PATH, data=fields)
        if answer.status_code != 200:
            raise ExternalServiceUnavailable(
                "sandbox", f"the IPN route answered {answer.status_code}"
            )
        result = answer.json()["outcome"]
        title = "Paid" if result == NotificationOutcome.APPLIED else "Not paid"
        return SANDBOX_DONE.format(title=title, detail=html.escape(f"Notification: {result}"))


CONTROLLERS = [PaymentController]
