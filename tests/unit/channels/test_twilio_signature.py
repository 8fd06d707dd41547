"""``X-Twilio-Signature`` against Twilio's own ``RequestValidator``, the independent reference."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from adapters.channels.twilio.webhook import (
    parse_form,
    public_url,
    request_signature,
    signature_valid,
)

TOKEN = "12345678901234567890123456789012"
URL = "https://talia.example.com/api/twilio/whatsapp"
INBOUND = [
    ("SmsMessageSid", "SM1f0e8ba3c2d54e7f9a6b1c0d2e3f4a5b"),
    ("NumMedia", "0"),
    ("ProfileName", "Ana María"),
    ("MessageType", "text"),
    ("SmsSid", "SM1f0e8ba3c2d54e7f9a6b1c0d2e3f4a5b"),
    ("WaId", "51987654321"),
    ("SmsStatus", "received"),
    ("Body", "¿Tienen invitaciones para boda? 100% digitales + envío & todo"),
    ("To", "whatsapp:+14155238886"),
    ("NumSegments", "1"),
    ("ReferralNumMedia", "0"),
    ("MessageSid", "SM1f0e8ba3c2d54e7f9a6b1c0d2e3f4a5b"),
    ("AccountSid", "AC00000000000000000000000000000000"),
    ("From", "whatsapp:+51987654321"),
    ("ApiVersion", "2010-04-01"),
]


class MultiDict:
    """Form fields with repeated names, as Flask's MultiDict shows them to the validator."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._pairs = list(pairs)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self._pairs))

    def __len__(self) -> int:
        return len(self._pairs)

    def getall(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]


def twilio_signs(url: str, params: Sequence[tuple[str, str]], token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, MultiDict(params))


def twilio_accepts(url: str, params: Sequence[tuple[str, str]], signature: str) -> bool:
    return RequestValidator(TOKEN).validate(url, MultiDict(params), signature)


def test_a_webhook_twilio_signed_is_valid() -> None:
    params = parse_form(urlencode(INBOUND).encode())

    assert signature_valid(URL, params, twilio_signs(URL, INBOUND), TOKEN)


def test_our_signature_is_the_one_twilio_computes() -> None:
    signature = request_signature(URL, INBOUND, TOKEN)

    assert signature == twilio_signs(URL, INBOUND)
    assert twilio_accepts(URL, INBOUND, signature)


def test_a_name_sent_several_times_is_signed_with_its_values_sorted() -> None:
    params = [("MediaUrl", "https://b.example/2.jpg"), ("To", "x"), ("MediaUrl", "https://a/1")]

    assert request_signature(URL, params, TOKEN) == twilio_signs(URL, params)
    assert signature_valid(URL, list(reversed(params)), twilio_signs(URL, params), TOKEN)


@given(
    params=st.lists(st.tuples(st.text(max_size=12), st.text(max_size=30)), max_size=8),
    query=st.text(alphabet="abcXYZ019=&%+", max_size=20),
)
def test_any_form_is_signed_as_twilio_signs_it(params: list[tuple[str, str]], query: str) -> None:
    url = f"{URL}?{query}" if query else URL

    assert request_signature(url, params, TOKEN) == twilio_signs(url, params)


def test_the_empty_form_signs_the_url_alone() -> None:
    assert signature_valid(URL, [], twilio_signs(URL, []), TOKEN)


@pytest.mark.parametrize(
    ("signed_url", "checked_url"),
    [
        ("https://talia.example.com:443/api/twilio/whatsapp", URL),
        (URL, "https://talia.example.com:443/api/twilio/whatsapp"),
        ("http://talia.example.com:80/hook?x=1", "http://talia.example.com/hook?x=1"),
        ("http://talia.example.com/hook?x=1", "http://talia.example.com:80/hook?x=1"),
    ],
)
def test_the_default_port_may_be_spelled_out_or_left_out(signed_url: str, checked_url: str) -> None:
    signature = twilio_signs(signed_url, INBOUND)

    assert signature_valid(checked_url, INBOUND, signature, TOKEN)
    assert twilio_accepts(checked_url, INBOUND, signature)


def test_a_port_that_is_not_the_default_must_match() -> None:
    signed = twilio_signs("https://talia.example.com:8443/api/twilio/whatsapp", INBOUND)

    assert signature_valid(
        "https://talia.example.com:8443/api/twilio/whatsapp", INBOUND, signed, TOKEN
    )
    assert not signature_valid(URL, INBOUND, signed, TOKEN)
    assert not signature_valid(
        "https://talia.example.com:9443/api/twilio/whatsapp", INBOUND, signed, TOKEN
    )


def tampered(index: int, value: str) -> list[tuple[str, str]]:
    params = list(INBOUND)
    params[index] = (params[index][0], value)
    return params


@pytest.mark.parametrize(
    ("url", "params", "token"),
    [
        (URL, tampered(7, "otra cosa"), TOKEN),
        (URL, tampered(13, "whatsapp:+51911111111"), TOKEN),
        (URL, [*INBOUND, ("Extra", "1")], TOKEN),
        (URL, INBOUND[:-1], TOKEN),
        (URL + "/", INBOUND, TOKEN),
        ("https://evil.example.com/api/twilio/whatsapp", INBOUND, TOKEN),
        ("http://talia.example.com/api/twilio/whatsapp", INBOUND, TOKEN),
        (URL + "?retry=1", INBOUND, TOKEN),
        (URL, INBOUND, "another-auth-token-of-32-chars!!"),
    ],
    ids=[
        "body",
        "sender",
        "added-param",
        "dropped-param",
        "path",
        "host",
        "scheme",
        "query",
        "token",
    ],
)
def test_anything_changed_after_signing_fails(
    url: str, params: list[tuple[str, str]], token: str
) -> None:
    signature = twilio_signs(URL, INBOUND)

    assert not signature_valid(url, params, signature, token)
    assert RequestValidator(token).validate(url, MultiDict(params), signature) is False


def test_a_signature_made_with_another_token_fails() -> None:
    signature = twilio_signs(URL, INBOUND, token="not-the-account-token")

    assert not signature_valid(URL, INBOUND, signature, TOKEN)


@pytest.mark.parametrize("header", [None, "", "   ", "not base64 at all"])
def test_a_missing_or_garbled_header_fails(header: str | None) -> None:
    assert not signature_valid(URL, INBOUND, header, TOKEN)


def test_without_an_auth_token_nothing_is_valid() -> None:
    assert not signature_valid(URL, INBOUND, twilio_signs(URL, INBOUND, token=""), "")


def test_a_url_with_a_port_that_is_no_number_fails_instead_of_raising() -> None:
    assert not signature_valid("https://talia.example.com:https/x", INBOUND, "abc=", TOKEN)


def test_the_public_url_is_the_configured_base_with_the_path_and_query() -> None:
    assert public_url("https://talia.example.com", "/api/twilio/status", "") == (
        "https://talia.example.com/api/twilio/status"
    )
    assert public_url("https://talia.example.com/", "/api/twilio/status", "a=1&b=2") == (
        "https://talia.example.com/api/twilio/status?a=1&b=2"
    )


def test_behind_a_proxy_the_public_url_is_what_validates() -> None:
    signature = twilio_signs("https://talia.example.com/api/twilio/whatsapp?tenant=7", INBOUND)
    seen_by_us = "http://10.0.0.5:8000/api/twilio/whatsapp?tenant=7"

    assert not signature_valid(seen_by_us, INBOUND, signature, TOKEN)
    url = public_url("https://talia.example.com", "/api/twilio/whatsapp", "tenant=7")
    assert signature_valid(url, INBOUND, signature, TOKEN)
