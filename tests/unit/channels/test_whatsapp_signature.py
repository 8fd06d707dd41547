"""Meta's ``X-Hub-Signature-256`` over the raw body, and the subscription handshake."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from adapters.channels.whatsapp.webhook import signature_valid, subscription_challenge

SECRET = b"3f1c2b8e4a574d0e9c3e2d7f0b9a1e55"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def meta_signs(body: bytes, secret: bytes = SECRET) -> str:
    """The header as Meta computes it: HMAC-SHA256 of the raw payload, hex, ``sha256=``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def test_a_body_signed_with_the_app_secret_is_valid() -> None:
    assert signature_valid(SECRET, BODY, meta_signs(BODY))


def test_the_hex_digest_may_come_in_capitals() -> None:
    header = meta_signs(BODY)
    assert signature_valid(SECRET, BODY, "sha256=" + header.removeprefix("sha256=").upper())


def test_a_signature_made_with_another_secret_is_not_valid() -> None:
    assert not signature_valid(SECRET, BODY, meta_signs(BODY, b"another-app-secret"))


def test_a_body_changed_after_signing_is_not_valid() -> None:
    header = meta_signs(BODY)

    assert not signature_valid(SECRET, BODY + b" ", header)
    assert not signature_valid(SECRET, BODY.replace(b"[]", b"[{}]"), header)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=" + hmac.new(SECRET, BODY, hashlib.sha1).hexdigest(),
        hmac.new(SECRET, BODY, hashlib.sha256).hexdigest(),  # no "sha256=" prefix
        "sha256=not-hex-at-all",
        "sha256=" + "é" * 64,
        "sha256=" + hmac.new(SECRET, BODY, hashlib.sha256).hexdigest()[:-1],
    ],
    ids=["missing", "empty", "no-digest", "sha1", "no-prefix", "garbled", "non-ascii", "short"],
)
def test_a_missing_or_garbled_header_is_not_valid(header: str | None) -> None:
    assert not signature_valid(SECRET, BODY, header)


def test_without_an_app_secret_nothing_is_valid() -> None:
    assert not signature_valid(b"", BODY, meta_signs(BODY, b""))


# ------------------------------------------------------------------------------- handshake


def test_a_subscription_with_our_verify_token_echoes_the_challenge() -> None:
    assert subscription_challenge("subscribe", "verify-me", "1158201444", "verify-me") == (
        "1158201444"
    )


@pytest.mark.parametrize(
    ("mode", "token", "challenge"),
    [
        ("subscribe", "wrong-token", "1158201444"),
        ("subscribe", None, "1158201444"),
        ("unsubscribe", "verify-me", "1158201444"),
        (None, "verify-me", "1158201444"),
        ("subscribe", "verify-me", None),
        ("subscribe", "verify-mE", "1158201444"),
        ("subscribe", "verify-\udcff", "1158201444"),
    ],
    ids=["wrong-token", "no-token", "other-mode", "no-mode", "no-challenge", "case", "surrogate"],
)
def test_any_other_handshake_is_refused(
    mode: str | None, token: str | None, challenge: str | None
) -> None:
    assert subscription_challenge(mode, token, challenge, "verify-me") is None


def test_without_a_verify_token_configured_no_handshake_succeeds() -> None:
    assert subscription_challenge("subscribe", "", "1158201444", "") is None
