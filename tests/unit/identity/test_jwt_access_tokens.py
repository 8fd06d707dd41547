from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest

from adapters.security.tokens import JwtAccessTokens
from talia_core.identity.model import AccessClaims, Principal, Role
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Unauthorized
from tests.unit.identity.conftest import SECRET

PRINCIPAL = Principal(user_id="u-1", session_id="s-1", role=Role.AGENT, email="a@b.pe", name="A")
LIFETIME = timedelta(minutes=15)


@pytest.fixture
def issued(tokens: JwtAccessTokens, clock: FakeClock) -> str:
    return tokens.issue(PRINCIPAL, now=clock.now(), lifetime=LIFETIME)


def _claims(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


def _forged(tokens_claims: dict[str, object], *, secret: str = SECRET, alg: str = "HS256") -> str:
    return jwt.encode(tokens_claims, secret, algorithm=alg)


def test_an_issued_token_reads_back_its_user_session_and_role(
    tokens: JwtAccessTokens, issued: str, clock: FakeClock
) -> None:
    assert tokens.read(issued, now=clock.now()) == AccessClaims("u-1", "s-1", Role.AGENT)


def test_a_token_is_valid_until_it_expires(
    tokens: JwtAccessTokens, issued: str, clock: FakeClock
) -> None:
    clock.advance(LIFETIME)
    tokens.read(issued, now=clock.now())
    clock.advance(timedelta(seconds=11))
    with pytest.raises(Unauthorized, match="expired"):
        tokens.read(issued, now=clock.now())


def test_a_token_issued_in_the_future_is_refused(tokens: JwtAccessTokens, clock: FakeClock) -> None:
    later = tokens.issue(PRINCIPAL, now=clock.now() + timedelta(minutes=5), lifetime=LIFETIME)
    with pytest.raises(Unauthorized, match="future"):
        tokens.read(later, now=clock.now())


def test_a_tampered_payload_is_refused(
    tokens: JwtAccessTokens, issued: str, clock: FakeClock
) -> None:
    header, payload, signature = issued.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized):
        tokens.read(f"{header}.{forged}.{signature}", now=clock.now())


def test_a_token_signed_with_another_secret_is_refused(
    tokens: JwtAccessTokens, issued: str, clock: FakeClock
) -> None:
    forged = _forged(_claims(issued), secret="another-secret-that-is-also-long-enough")
    with pytest.raises(Unauthorized):
        tokens.read(forged, now=clock.now())


@pytest.mark.parametrize("alg", ["HS512", "none"])
def test_only_the_configured_algorithm_is_accepted(
    tokens: JwtAccessTokens, issued: str, clock: FakeClock, alg: str
) -> None:
    forged = jwt.encode(_claims(issued), None if alg == "none" else SECRET, algorithm=alg)
    with pytest.raises(Unauthorized):
        tokens.read(forged, now=clock.now())


@pytest.mark.parametrize("missing", ["exp", "iat", "typ", "sid", "sub", "iss"])
def test_a_token_missing_a_required_claim_is_refused(
    tokens: JwtAccessTokens, issued: str, clock: FakeClock, missing: str
) -> None:
    claims = _claims(issued)
    del claims[missing]
    with pytest.raises(Unauthorized):
        tokens.read(_forged(claims), now=clock.now())


@pytest.mark.parametrize(
    ("claim", "value"), [("typ", "refresh"), ("iss", "someone-else"), ("role", "root")]
)
def test_a_token_with_a_wrong_claim_is_refused(
    tokens: JwtAccessTokens, issued: str, clock: FakeClock, claim: str, value: str
) -> None:
    claims = _claims(issued)
    claims[claim] = value
    with pytest.raises(Unauthorized):
        tokens.read(_forged(claims), now=clock.now())


def test_the_audience_is_checked_when_configured(clock: FakeClock) -> None:
    ours = JwtAccessTokens(SECRET, issuer="talia-test", audience="talia-api")
    theirs = JwtAccessTokens(SECRET, issuer="talia-test", audience="other-api")
    token = theirs.issue(PRINCIPAL, now=clock.now(), lifetime=LIFETIME)
    with pytest.raises(Unauthorized):
        ours.read(token, now=clock.now())
    assert ours.read(ours.issue(PRINCIPAL, now=clock.now(), lifetime=LIFETIME), now=clock.now())


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x"])
def test_garbage_is_refused(tokens: JwtAccessTokens, clock: FakeClock, garbage: str) -> None:
    with pytest.raises(Unauthorized):
        tokens.read(garbage, now=clock.now())


@pytest.mark.parametrize(
    ("secret", "algorithm"),
    [("s" * 31, "HS256"), ("s" * 63, "HS512"), (SECRET, "none"), (SECRET, "RS256")],
)
def test_weak_configurations_are_refused_at_construction(secret: str, algorithm: str) -> None:
    with pytest.raises(ValueError, match=r"secret|algorithm"):
        JwtAccessTokens(secret, issuer="talia-test", algorithm=algorithm)
