"""The ``CallTransfers`` contract on Twilio's call-update API (against ``FakeTwilioCalls``)
and on the fake; Twilio's refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from adapters.channels.twilio_voice.transfers import TwilioCallTransfers
from adapters.memory.voice import FakeCallTransfers
from talia_core.shared.errors import CapabilityNotConfigured, ExternalServiceUnavailable
from tests.contracts.voice.call_transfers import CallTransfersContract
from tests.fakeserver import refusing_port
from tests.integration.voice.calls_server import FakeTwilioCalls

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "f" * 32
DESK = "+5114567890"


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilioCalls]:
    server = FakeTwilioCalls(ACCOUNT_SID, AUTH_TOKEN)
    server.live.update({"CA0001", "CA0002"})
    await server.start()
    yield server
    await server.close()


def twilio_transfers(
    client: httpx.AsyncClient, base_url: str, *, number: str = DESK, token: str = AUTH_TOKEN
) -> TwilioCallTransfers:
    return TwilioCallTransfers(
        client, account_sid=ACCOUNT_SID, auth_token=token, number=number, base_url=base_url
    )


class TwilioCallTransfersTests(CallTransfersContract):
    @pytest.fixture
    def transfers(self, client: httpx.AsyncClient, twilio: FakeTwilioCalls) -> TwilioCallTransfers:
        return twilio_transfers(client, twilio.base_url)

    @pytest.fixture
    def transferred(self, twilio: FakeTwilioCalls) -> Callable[[], list[str]]:
        return lambda: [call for call, _ in twilio.updated]


class FakeCallTransfersTests(CallTransfersContract):
    @pytest.fixture
    def transfers(self) -> FakeCallTransfers:
        return FakeCallTransfers()

    @pytest.fixture
    def transferred(self, transfers: FakeCallTransfers) -> Callable[[], list[str]]:
        return lambda: transfers.transferred


async def test_the_call_is_dialled_to_the_configured_number(
    client: httpx.AsyncClient, twilio: FakeTwilioCalls
) -> None:
    await twilio_transfers(client, twilio.base_url).transfer("CA0001")

    assert twilio.updated == [("CA0001", f"<Response><Dial>{DESK}</Dial></Response>")]


async def test_without_a_number_no_call_is_put_through(
    client: httpx.AsyncClient, twilio: FakeTwilioCalls
) -> None:
    with pytest.raises(CapabilityNotConfigured, match="call transfer"):
        await twilio_transfers(client, twilio.base_url, number="").transfer("CA0001")

    assert twilio.requests == []


@pytest.mark.parametrize(("call", "token"), [("CA0404", AUTH_TOKEN), ("CA0001", "wrong")])
async def test_a_call_twilio_refuses_to_update_is_unavailable(
    client: httpx.AsyncClient, twilio: FakeTwilioCalls, call: str, token: str
) -> None:
    with pytest.raises(ExternalServiceUnavailable, match="HTTP 40"):
        await twilio_transfers(client, twilio.base_url, token=token).transfer(call)

    assert twilio.updated == []


async def test_twilio_unreachable_is_unavailable(client: httpx.AsyncClient) -> None:
    with refusing_port() as port, pytest.raises(ExternalServiceUnavailable):
        await twilio_transfers(client, f"http://127.0.0.1:{port}").transfer("CA0001")
