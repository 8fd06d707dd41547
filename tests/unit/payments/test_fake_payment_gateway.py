"""The fake payment gateway the commerce tests use passes the payment-gateway contract."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contracts.commerce.payment_gateway import (
    PaymentGatewayContract,
    SignedFields,
    ipn_fields,
)
from tests.unit.commerce.builders import FakePaymentGateway


class FakePaymentGatewayTests(PaymentGatewayContract):
    @pytest.fixture
    def gateway(self) -> FakePaymentGateway:
        return FakePaymentGateway()

    @pytest.fixture
    def public_key(self) -> str:
        return FakePaymentGateway.public_key

    @pytest.fixture
    def signed_fields(self) -> SignedFields:
        def sign(answer: dict[str, Any] | str) -> dict[str, str]:
            return ipn_fields(answer, FakePaymentGateway.secret)

        return sign
