"""``POST /api/voice/twilio``: Twilio's voice webhook, signed, answered with the TwiML that
connects the call to our stream with its token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from xml.etree import ElementTree

import pytest

from tests.api import Api, assert_problem, open_api, settings_for_tests
from tests.channels import CHANNELS, TWILIO_SID, twilio_signature

PATH = "/api/voice/twilio"
CALL = {
    "CallSid": "CA0123",
    "AccountSid": TWILIO_SID,
    "From": "+51987654321",
    "To": "+5114000000",
    "CallStatus": "ringing",
}


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    settings = settings_for_tests("sqlite+aiosqlite:///:memory:", channels=CHANNELS)
    async with open_api(settings, in_memory=True) as opened:
        yield opened


async def test_a_signed_call_is_connected_to_the_stream_with_a_token_for_it(api: Api) -> None:
    response = await api.client.post(PATH, data=CALL, headers=twilio_signature(PATH, CALL))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    stream = ElementTree.fromstring(response.text).find("./Connect/Stream")
    assert stream is not None
    assert stream.get("url") == "wss://talia.example.com/api/voice/stream"
    parameters = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    assert parameters["caller"] == "+51987654321"
    tokens = api.container.gateways.stream_tokens()
    assert tokens.valid(parameters["token"], "CA0123", "+51987654321")


async def test_calls_coming_faster_than_anonymous_writes_are_limited_are_all_connected() -> None:
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:", channels=CHANNELS, http={"public_writes_per_minute": 2}
    )
    async with open_api(settings, in_memory=True) as api:
        answers = [
            await api.client.post(PATH, data=call, headers=twilio_signature(PATH, call))
            for call in ({**CALL, "CallSid": f"CA{n:04d}"} for n in range(5))
        ]

    assert [a.status_code for a in answers] == [200] * 5


async def test_an_unsigned_call_is_refused(api: Api) -> None:
    assert_problem(await api.client.post(PATH, data=CALL), 401)


async def test_a_call_signed_for_other_fields_is_refused(api: Api) -> None:
    headers = twilio_signature(PATH, {**CALL, "From": "+51900000000"})

    assert_problem(await api.client.post(PATH, data=CALL, headers=headers), 403)


@pytest.mark.parametrize("missing", ["CallSid", "From"])
async def test_a_call_without_its_sid_or_caller_is_malformed(api: Api, missing: str) -> None:
    form = {k: v for k, v in CALL.items() if k != missing}

    response = await api.client.post(PATH, data=form, headers=twilio_signature(PATH, form))

    assert_problem(response, 400)


async def test_a_body_that_is_not_a_form_is_refused(api: Api) -> None:
    response = await api.client.post(PATH, json=CALL, headers=twilio_signature(PATH, {}))

    assert_problem(response, 415)


async def test_without_twilio_credentials_there_is_no_voice_webhook() -> None:
    async with open_api(settings_for_tests("sqlite+aiosqlite:///:memory:"), in_memory=True) as api:
        response = await api.client.post(PATH, data=CALL, headers=twilio_signature(PATH, CALL))

    assert_problem(response, 404)
