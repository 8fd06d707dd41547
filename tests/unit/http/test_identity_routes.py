"""The identity routes over the in-memory fakes: every route, every bad input, every guard.

Each refused request is checked twice: the answer is a problem document (never a 500), and
nothing it touched changed (users, their live sessions and the audit log are compared
before and after through the use cases).
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import attrs
import httpx
import jwt
import pytest

from talia_core.identity.model import Principal, Role
from talia_core.shared.clock import FakeClock
from talia_core.shared.pagination import MAX_LIMIT, PageRequest
from tests.api import PASSWORD, Api, assert_problem, open_api, settings_for_tests

MISSING_ID = "0" * 32
_serial = itertools.count(1)

# Reads state through the use cases without touching it.
OBSERVER = Principal(
    user_id="observer", session_id="observer", role=Role.ADMIN, email="o@example.com", name="O"
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(clock: FakeClock) -> AsyncIterator[Api]:
    settings = settings_for_tests("sqlite+aiosqlite:///:memory:")
    async with open_api(settings, in_memory=True, clock=clock) as opened:
        yield opened


# ---------------------------------------------------------------- helpers


@attrs.frozen
class Account:
    """A signed-in user: one session, its access token and its current refresh token."""

    id: str
    email: str
    role: Role
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def session_id(self) -> str:
        return str(jwt.decode(self.access_token, options={"verify_signature": False})["sid"])


def new_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_serial)}@example.com"


async def log_in(api: Api, email: str, password: str = PASSWORD) -> Account:
    response = await api.client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return account_of(response)


def account_of(response: httpx.Response) -> Account:
    body = response.json()
    return Account(
        id=body["user"]["id"],
        email=body["user"]["email"],
        role=Role(body["user"]["role"]),
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
    )


async def sign_in(api: Api, role: Role = Role.CUSTOMER) -> Account:
    """A new user of ``role``, signed in. Only customers are made over HTTP, so setting up
    staff leaves no admin writes in the audit log."""
    email = new_email(role.value)
    users = api.container.use_cases.users()
    if role is Role.CUSTOMER:
        body = {"email": email, "password": PASSWORD, "name": "Ana"}
        response = await api.client.post("/api/auth/register", json=body)
        assert response.status_code == 202, response.text
    elif role is Role.ADMIN:
        await users.provision(email=email, name="Admin", password=PASSWORD, role=Role.ADMIN)
    else:
        await users.create_user(OBSERVER, email=email, name="Staff", password=PASSWORD, role=role)
    return await log_in(api, email)


@attrs.frozen
class Snapshot:
    users: list[dict[str, Any]]
    live_sessions: dict[str, list[str]]
    audit_events: int


async def snapshot(api: Api) -> Snapshot:
    """Every user as stored, their live sessions, and how long the audit log is."""
    users = api.container.use_cases.users()
    auth = api.container.use_cases.auth()
    everyone = (await users.list_users(OBSERVER, PageRequest(limit=MAX_LIMIT))).items
    sessions = {}
    for user in everyone:
        owner = attrs.evolve(OBSERVER, user_id=user.id)
        page = await auth.list_sessions(owner, PageRequest(limit=MAX_LIMIT))
        sessions[user.id] = sorted(f"{s.id}@{s.last_used_at.isoformat()}" for s in page.items)
    audit = await users.list_audit(OBSERVER, PageRequest(limit=1))
    return Snapshot([attrs.asdict(u) for u in everyone], sessions, audit.total)


async def audit_log(api: Api, action: str | None = None) -> list[dict[str, Any]]:
    """The audit log as stored, newest first, optionally one action only."""
    users = api.container.use_cases.users()
    page = await users.list_audit(OBSERVER, PageRequest(limit=MAX_LIMIT), action=action)
    return [attrs.asdict(event) for event in page.items]


def by_instant(events: list[dict[str, Any]]) -> list[set[str]]:
    """The actions, newest instant first; events of one instant have no order among them."""
    groups: list[tuple[Any, set[str]]] = []
    for event in events:
        if not groups or groups[-1][0] != event["occurred_at"]:
            groups.append((event["occurred_at"], set()))
        groups[-1][1].add(event["action"])
    return [actions for _, actions in groups]


async def assert_signed_in(api: Api, account: Account) -> None:
    response = await api.client.get("/api/auth/me", headers=account.headers)
    assert response.status_code == 200, response.text


async def assert_signed_out(api: Api, account: Account) -> None:
    assert_problem(await api.client.get("/api/auth/me", headers=account.headers), 401)


async def refresh(api: Api, token: str) -> httpx.Response:
    return await api.client.post("/api/auth/refresh", json={"refresh_token": token})


def long_text(length: int) -> str:
    return "x" * length


# Bodies that fail schema validation, each with the field the problem must name. The
# `None` field means the body as a whole is wrong (not an object, or not JSON at all).
def bad_bodies(good: dict[str, Any]) -> list[Any]:
    cases: list[Any] = []
    for field in good:
        cases.append(
            pytest.param({k: v for k, v in good.items() if k != field}, field, id=f"no-{field}")
        )
        cases.append(pytest.param({**good, field: ["a list"]}, field, id=f"{field}-wrong-type"))
    cases += [
        pytest.param({**good, "is_admin": True}, "is_admin", id="unknown-field"),
        pytest.param([good], None, id="a-list"),
        pytest.param("a string", None, id="a-string"),
        pytest.param(None, None, id="null"),
    ]
    return cases


async def post_raw(
    api: Api, url: str, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    """POST ``body`` as JSON; bytes are sent as they are, labelled as JSON."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await api.client.post(
        url, content=content, headers={"Content-Type": "application/json", **(headers or {})}
    )


MALFORMED_JSON = [
    pytest.param(b"{", id="truncated"),
    pytest.param(b'{"email": "a@example.com",}', id="trailing-comma"),
    pytest.param(b"", id="empty"),
    pytest.param(b"\xff\xfe\x00", id="not-utf8"),
]


# ---------------------------------------------------------------- registration

REGISTRATION = {"email": "new@example.com", "password": PASSWORD, "name": "Nora"}


async def test_registering_creates_an_active_unverified_customer_that_may_sign_in(
    api: Api,
) -> None:
    response = await api.client.post(
        "/api/auth/register", json={**REGISTRATION, "email": "  Nora@Example.COM "}
    )

    assert response.status_code == 202, response.text
    account = await log_in(api, "nora@example.com")
    me = (await api.client.get("/api/auth/me", headers=account.headers)).json()
    assert (me["email"], me["name"], me["role"], me["active"], me["email_verified"]) == (
        "nora@example.com",
        "Nora",
        "customer",
        True,
        False,
    )
    assert not {"password", "password_hash"} & set(me)
    [event] = await audit_log(api, "user.registered")
    assert (event["actor_id"], event["target"], event["ip"]) == (me["id"], me["id"], "127.0.0.1")


@pytest.mark.parametrize("email", ["new@example.com", "NEW@example.com"])
async def test_registering_a_taken_email_answers_byte_for_byte_as_a_new_one_and_changes_nothing(
    api: Api, email: str
) -> None:
    first = await api.client.post("/api/auth/register", json=REGISTRATION)
    before = await snapshot(api)

    again = await api.client.post(
        "/api/auth/register", json={**REGISTRATION, "email": email, "name": "Impostor"}
    )

    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["content-type"] == first.headers["content-type"]
    after = await snapshot(api)
    assert (after.users, after.live_sessions) == (before.users, before.live_sessions)
    [attempt] = await audit_log(api, "user.registration_repeated")
    assert (attempt["actor_id"], attempt["actor_email"]) == (None, "new@example.com")


@pytest.mark.parametrize(("body", "field"), bad_bodies(REGISTRATION))
async def test_registering_with_a_malformed_body_is_refused_naming_the_field(
    api: Api, body: Any, field: str | None
) -> None:
    before = await snapshot(api)

    response = await post_raw(api, "/api/auth/register", body)

    assert_problem(response, 400, field)
    assert await snapshot(api) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"email": "not-an-email"}, "email", id="email-not-an-address"),
        pytest.param({"email": "a@" + "b" * 250 + ".com"}, "email", id="email-oversize"),
        pytest.param({"name": ""}, "name", id="name-empty"),
        pytest.param({"name": "   "}, "name", id="name-blank"),
        pytest.param({"name": long_text(121)}, "name", id="name-oversize"),
        pytest.param({"password": ""}, "password", id="password-empty"),
        pytest.param({"password": "a1" * 65}, "password", id="password-oversize"),
        pytest.param({"role": "admin"}, "role", id="asks-to-be-admin"),
    ],
)
async def test_registering_with_an_invalid_field_is_refused_naming_it(
    api: Api, change: dict[str, Any], field: str
) -> None:
    before = await snapshot(api)

    response = await api.client.post("/api/auth/register", json={**REGISTRATION, **change})

    assert_problem(response, 400, field)
    assert await snapshot(api) == before


@pytest.mark.parametrize("body", MALFORMED_JSON)
async def test_registering_with_malformed_json_is_a_bad_request(api: Api, body: bytes) -> None:
    before = await snapshot(api)

    assert_problem(await post_raw(api, "/api/auth/register", body), 400)
    assert await snapshot(api) == before


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("short1", id="too-short"),
        pytest.param("onlyletterslong", id="no-digit"),
        pytest.param("12345678901234", id="no-letter"),
        pytest.param("new-secret-2024", id="contains-the-email"),
    ],
)
async def test_a_weak_password_is_refused_naming_the_password(api: Api, password: str) -> None:
    before = await snapshot(api)

    response = await api.client.post(
        "/api/auth/register", json={**REGISTRATION, "password": password}
    )

    assert_problem(response, 422, "password")
    assert await snapshot(api) == before


async def test_a_body_over_the_size_limit_is_refused_before_it_is_read(api: Api) -> None:
    before = await snapshot(api)
    padding = long_text(api.container.settings().http.max_body_bytes)

    response = await api.client.post("/api/auth/register", json={**REGISTRATION, "name": padding})

    assert_problem(response, 413)
    assert await snapshot(api) == before


# ---------------------------------------------------------------- login and the token form


async def test_logging_in_gives_a_bearer_pair_and_records_the_login_with_the_address(
    api: Api,
) -> None:
    await api.client.post("/api/auth/register", json=REGISTRATION)

    response = await api.client.post(
        "/api/auth/login",
        json={"email": "New@Example.com", "password": PASSWORD},
        headers={"User-Agent": "talia-tests/1"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["user"]["email"] == "new@example.com"
    account = account_of(response)
    [event] = await audit_log(api, "auth.login")
    assert (event["actor_id"], event["target"]) == (account.id, account.session_id)
    assert (event["ip"], event["user_agent"]) == ("127.0.0.1", "talia-tests/1")
    await assert_signed_in(api, account)


async def test_the_oauth2_password_form_gives_the_same_pair_as_login(api: Api) -> None:
    await api.client.post("/api/auth/register", json=REGISTRATION)

    response = await api.client.post(
        "/api/auth/token",
        data={"username": "new@example.com", "password": PASSWORD, "grant_type": "password"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
    await assert_signed_in(api, account_of(response))


@pytest.mark.parametrize(
    ("email", "password", "reason"),
    [
        pytest.param("new@example.com", "wrong-password-1", "wrong password", id="wrong-password"),
        pytest.param("nobody@example.com", PASSWORD, "unknown e-mail", id="unknown-email"),
    ],
)
async def test_failed_logins_answer_alike_and_are_recorded_without_opening_a_session(
    api: Api, email: str, password: str, reason: str
) -> None:
    await api.client.post("/api/auth/register", json=REGISTRATION)
    before = await snapshot(api)

    response = await api.client.post("/api/auth/login", json={"email": email, "password": password})

    body = assert_problem(response, 401)
    assert body["detail"] == "invalid e-mail or password"
    after = await snapshot(api)
    assert (after.users, after.live_sessions) == (before.users, before.live_sessions)
    [event] = await audit_log(api, "auth.login_failed")
    assert (event["actor_email"], event["ip"], event["details"]) == (
        email,
        "127.0.0.1",
        {"reason": reason},
    )


async def test_the_token_form_refuses_a_wrong_password_like_login(api: Api) -> None:
    await api.client.post("/api/auth/register", json=REGISTRATION)

    response = await api.client.post(
        "/api/auth/token", data={"username": "new@example.com", "password": "wrong-password-1"}
    )

    assert_problem(response, 401)
    assert len(await audit_log(api, "auth.login_failed")) == 1


LOGIN = {"email": "new@example.com", "password": PASSWORD}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        *bad_bodies(LOGIN),
        pytest.param({**LOGIN, "email": "nobody"}, "email", id="email-not-an-address"),
        pytest.param({**LOGIN, "password": ""}, "password", id="password-empty"),
        pytest.param({**LOGIN, "password": "a1" * 65}, "password", id="password-oversize"),
    ],
)
async def test_logging_in_with_a_malformed_body_is_refused_and_not_counted(
    api: Api, body: Any, field: str | None
) -> None:
    await api.client.post("/api/auth/register", json=REGISTRATION)
    before = await snapshot(api)

    response = await post_raw(api, "/api/auth/login", body)

    assert_problem(response, 400, field)
    assert await snapshot(api) == before


@pytest.mark.parametrize("body", MALFORMED_JSON)
async def test_logging_in_with_malformed_json_is_a_bad_request(api: Api, body: bytes) -> None:
    before = await snapshot(api)

    assert_problem(await post_raw(api, "/api/auth/login", body), 400)
    assert await snapshot(api) == before


TOKEN_FORM = {"username": "new@example.com", "password": PASSWORD}


@pytest.mark.parametrize(
    ("form", "field"),
    [
        pytest.param({"password": PASSWORD}, "username", id="no-username"),
        pytest.param({"username": "new@example.com"}, "password", id="no-password"),
        pytest.param({**TOKEN_FORM, "grant_type": "client_credentials"}, "grant_type", id="grant"),
        pytest.param({**TOKEN_FORM, "client_secret": "x"}, "client_secret", id="unknown-field"),
        pytest.param({**TOKEN_FORM, "username": long_text(255)}, "username", id="username-long"),
        pytest.param({**TOKEN_FORM, "password": "a1" * 65}, "password", id="password-long"),
        pytest.param({**TOKEN_FORM, "scope": long_text(201)}, "scope", id="scope-long"),
        pytest.param({**TOKEN_FORM, "username": "a\x00@example.com"}, "username", id="nul"),
    ],
)
async def test_the_token_form_refuses_malformed_fields_naming_them(
    api: Api, form: dict[str, str], field: str
) -> None:
    await api.client.post("/api/auth/register", json=REGISTRATION)
    before = await snapshot(api)

    response = await api.client.post("/api/auth/token", data=form)

    assert_problem(response, 400, field)
    assert await snapshot(api) == before


async def test_the_token_form_refuses_a_json_body(api: Api) -> None:
    await api.client.post("/api/auth/register", json=REGISTRATION)
    before = await snapshot(api)

    response = await api.client.post("/api/auth/token", json=TOKEN_FORM)

    assert_problem(response, 400)
    assert await snapshot(api) == before


async def test_an_inactive_account_cannot_log_in(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    customer = await sign_in(api, Role.CUSTOMER)
    await api.client.patch(
        f"/api/admin/users/{customer.id}", json={"active": False}, headers=admin.headers
    )

    response = await api.client.post(
        "/api/auth/login", json={"email": customer.email, "password": PASSWORD}
    )

    assert_problem(response, 401)
    [event] = await audit_log(api, "auth.login_failed")
    assert event["details"] == {"reason": "inactive account"}


# ---------------------------------------------------------------- throttling


async def test_repeated_failed_logins_are_throttled_with_retry_after(
    api: Api, clock: FakeClock
) -> None:
    await api.client.post("/api/auth/register", json=REGISTRATION)
    wrong = {"email": "new@example.com", "password": "wrong-password-1"}
    for _ in range(5):
        assert_problem(await api.client.post("/api/auth/login", json=wrong), 401)
    before = await snapshot(api)

    throttled = await api.client.post("/api/auth/login", json=LOGIN)
    by_form = await api.client.post("/api/auth/token", data=TOKEN_FORM)

    for response in (throttled, by_form):
        assert_problem(response, 429)
        assert response.headers["retry-after"] == "900"
    assert await snapshot(api) == before  # not even a failed login is recorded

    clock.advance(timedelta(seconds=900))
    await log_in(api, "new@example.com")


async def test_throttling_retry_after_counts_down_with_the_window(
    api: Api, clock: FakeClock
) -> None:
    await api.client.post("/api/auth/register", json=REGISTRATION)
    wrong = {"email": "new@example.com", "password": "wrong-password-1"}
    for _ in range(5):
        await api.client.post("/api/auth/login", json=wrong)

    clock.advance(timedelta(seconds=600))
    response = await api.client.post("/api/auth/login", json=LOGIN)

    assert_problem(response, 429)
    assert response.headers["retry-after"] == "300"


async def test_one_address_failing_on_many_accounts_is_throttled(api: Api) -> None:
    for attempt in range(20):
        wrong = {"email": f"guess{attempt}@example.com", "password": "wrong-password-1"}
        assert_problem(await api.client.post("/api/auth/login", json=wrong), 401)
    await api.client.post("/api/auth/register", json=REGISTRATION)

    response = await api.client.post("/api/auth/login", json=LOGIN)

    assert_problem(response, 429)
    assert int(response.headers["retry-after"]) > 0


async def test_a_successful_login_clears_the_account_failures(api: Api) -> None:
    await api.client.post("/api/auth/register", json=REGISTRATION)
    wrong = {"email": "new@example.com", "password": "wrong-password-1"}
    for _ in range(4):
        await api.client.post("/api/auth/login", json=wrong)
    await log_in(api, "new@example.com")
    for _ in range(4):
        await api.client.post("/api/auth/login", json=wrong)

    await log_in(api, "new@example.com")


# ---------------------------------------------------------------- refresh


async def test_refreshing_rotates_the_pair_and_spends_the_old_refresh_token(api: Api) -> None:
    account = await sign_in(api)

    response = await refresh(api, account.refresh_token)

    assert response.status_code == 200, response.text
    rotated = account_of(response)
    assert rotated.refresh_token != account.refresh_token
    assert rotated.session_id == account.session_id
    await assert_signed_in(api, rotated)
    assert (await refresh(api, rotated.refresh_token)).status_code == 200


async def test_a_spent_refresh_token_coming_back_revokes_its_whole_family_at_once(
    api: Api, clock: FakeClock
) -> None:
    account = await sign_in(api)
    other_session = await log_in(api, account.email)
    rotated = account_of(await refresh(api, account.refresh_token))
    clock.advance(timedelta(seconds=31))

    replayed = await refresh(api, account.refresh_token)

    assert_problem(replayed, 401)
    await assert_signed_out(api, rotated)
    await assert_signed_out(api, account)
    assert_problem(await refresh(api, rotated.refresh_token), 401)
    await assert_signed_in(api, other_session)  # only the family of the replayed token ends
    [event] = await audit_log(api, "auth.refresh_token_reused")
    assert (event["actor_id"], event["target"]) == (account.id, account.session_id)


async def test_an_unknown_refresh_token_is_refused_and_changes_nothing(api: Api) -> None:
    account = await sign_in(api)
    before = await snapshot(api)

    assert_problem(await refresh(api, "not-a-token-we-issued"), 401)

    assert await snapshot(api) == before
    await assert_signed_in(api, account)


async def test_an_expired_refresh_token_is_refused(api: Api, clock: FakeClock) -> None:
    account = await sign_in(api)

    clock.advance(timedelta(days=7, seconds=1))

    assert_problem(await refresh(api, account.refresh_token), 401)


async def test_a_refresh_token_of_a_logged_out_session_is_refused(api: Api) -> None:
    account = await sign_in(api)
    await api.client.post("/api/auth/logout", headers=account.headers)

    assert_problem(await refresh(api, account.refresh_token), 401)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        *bad_bodies({"refresh_token": "token"}),
        pytest.param({"refresh_token": ""}, "refresh_token", id="empty"),
        pytest.param({"refresh_token": long_text(201)}, "refresh_token", id="oversize"),
    ],
)
async def test_refreshing_with_a_malformed_body_is_refused_and_keeps_the_session(
    api: Api, body: Any, field: str | None
) -> None:
    account = await sign_in(api)
    before = await snapshot(api)

    response = await post_raw(api, "/api/auth/refresh", body)

    assert_problem(response, 400, field)
    assert await snapshot(api) == before
    assert (await refresh(api, account.refresh_token)).status_code == 200


@pytest.mark.parametrize("body", MALFORMED_JSON)
async def test_refreshing_with_malformed_json_is_a_bad_request(api: Api, body: bytes) -> None:
    before = await snapshot(api)

    assert_problem(await post_raw(api, "/api/auth/refresh", body), 400)
    assert await snapshot(api) == before


# ---------------------------------------------------------------- access tokens


def encode_segment(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def secret_of(api: Api) -> str:
    return api.container.settings().auth.jwt_secret.get_secret_value()


def forged(api: Api, account: Account, kind: str) -> str:
    """A token that must not authenticate, made from ``account``'s real one."""
    claims = claims_of(account.access_token)
    header, payload, signature = account.access_token.split(".")
    secret = secret_of(api)
    match kind:
        case "garbage":
            return "not-a-jwt"
        case "tampered-role":
            return f"{header}.{encode_segment({**claims, 'role': 'admin'})}.{signature}"
        case "tampered-session":
            return f"{header}.{encode_segment({**claims, 'sid': MISSING_ID})}.{signature}"
        case "no-signature":
            return f"{header}.{payload}."
        case "alg-none":
            return jwt.encode(claims, None, algorithm="none")
        case "alg-hs512":
            return jwt.encode(claims, secret + secret, algorithm="HS512")
        case "other-secret":
            return jwt.encode(claims, "another-secret-of-at-least-32-bytes!!", algorithm="HS256")
        case "other-issuer":
            return jwt.encode({**claims, "iss": "someone-else"}, secret, algorithm="HS256")
        case "not-an-access-token":
            return jwt.encode({**claims, "typ": "refresh"}, secret, algorithm="HS256")
        case "no-session-claim":
            return jwt.encode({k: v for k, v in claims.items() if k != "sid"}, secret, "HS256")
        case "unknown-role":
            return jwt.encode({**claims, "role": "root"}, secret, algorithm="HS256")
        case "someone-elses-session":
            return jwt.encode({**claims, "sub": MISSING_ID}, secret, algorithm="HS256")
        case "issued-in-the-future":
            later = {"iat": claims["iat"] + 3600, "exp": claims["exp"] + 3600}
            return jwt.encode({**claims, **later}, secret, algorithm="HS256")
        case "refresh-token":
            return account.refresh_token
    raise AssertionError(kind)


FORGERIES = [
    "garbage",
    "tampered-role",
    "tampered-session",
    "no-signature",
    "alg-none",
    "alg-hs512",
    "other-secret",
    "other-issuer",
    "not-an-access-token",
    "no-session-claim",
    "unknown-role",
    "someone-elses-session",
    "issued-in-the-future",
    "refresh-token",
]


@pytest.mark.parametrize("kind", FORGERIES)
async def test_a_forged_or_foreign_access_token_is_unauthorized(api: Api, kind: str) -> None:
    account = await sign_in(api)
    before = await snapshot(api)

    response = await api.client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {forged(api, account, kind)}"}
    )

    assert_problem(response, 401)
    assert await snapshot(api) == before
    await assert_signed_in(api, account)


async def test_a_tampered_role_claim_does_not_open_the_admin_routes(api: Api) -> None:
    account = await sign_in(api)
    token = forged(api, account, "tampered-role")

    response = await api.client.get(
        "/api/admin/users", headers={"Authorization": f"Bearer {token}"}
    )

    assert_problem(response, 401)


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("Bearer", id="scheme-only"),
        pytest.param("Bearer    ", id="blank-token"),
        pytest.param("Basic dXNlcjpwYXNz", id="basic-scheme"),
        pytest.param("Token abc", id="other-scheme"),
    ],
)
async def test_a_missing_or_malformed_authorization_header_is_unauthorized(
    api: Api, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    assert_problem(await api.client.get("/api/auth/me", headers=headers), 401)


async def test_an_access_token_stops_working_once_it_expires(api: Api, clock: FakeClock) -> None:
    account = await sign_in(api)
    clock.advance(timedelta(minutes=15))
    await assert_signed_in(api, account)  # within the leeway

    clock.advance(timedelta(seconds=11))

    body = assert_problem(await api.client.get("/api/auth/me", headers=account.headers), 401)
    assert "expired" in body["detail"]
    assert (await refresh(api, account.refresh_token)).status_code == 200


async def test_an_access_token_of_a_deactivated_user_stops_working_at_once(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    customer = await sign_in(api)

    await api.client.delete(f"/api/admin/users/{customer.id}", headers=admin.headers)

    await assert_signed_out(api, customer)
    assert_problem(await refresh(api, customer.refresh_token), 401)


# ---------------------------------------------------------------- logout and me


async def test_logging_out_ends_the_session_and_its_tokens_at_once(api: Api) -> None:
    account = await sign_in(api)
    elsewhere = await log_in(api, account.email)

    response = await api.client.post("/api/auth/logout", headers=account.headers)

    assert response.status_code == 204, response.text
    await assert_signed_out(api, account)
    assert_problem(await refresh(api, account.refresh_token), 401)
    await assert_signed_in(api, elsewhere)
    [event] = await audit_log(api, "auth.logout")
    assert (event["actor_id"], event["target"], event["ip"]) == (
        account.id,
        account.session_id,
        "127.0.0.1",
    )


async def test_logging_out_twice_is_unauthorized_the_second_time(api: Api) -> None:
    account = await sign_in(api)
    await api.client.post("/api/auth/logout", headers=account.headers)
    before = await snapshot(api)

    assert_problem(await api.client.post("/api/auth/logout", headers=account.headers), 401)
    assert await snapshot(api) == before


async def test_logging_out_needs_a_signed_in_caller(api: Api) -> None:
    before = await snapshot(api)

    assert_problem(await api.client.post("/api/auth/logout"), 401)
    assert await snapshot(api) == before


async def test_me_is_the_signed_in_user(api: Api) -> None:
    account = await sign_in(api)

    response = await api.client.get("/api/auth/me", headers=account.headers)

    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["email"]) == (account.id, account.email)


# ---------------------------------------------------------------- sessions


async def test_sessions_lists_the_callers_live_sessions_marking_the_current_one(
    api: Api,
) -> None:
    account = await sign_in(api)
    second = await log_in(api, account.email)
    ended = await log_in(api, account.email)
    await api.client.post("/api/auth/logout", headers=ended.headers)
    await sign_in(api)  # someone else

    response = await api.client.get("/api/auth/sessions", headers=second.headers)

    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 2
    current = {item["id"]: item["current"] for item in page["items"]}
    assert current == {account.session_id: False, second.session_id: True}
    assert {item["ip"] for item in page["items"]} == {"127.0.0.1"}


async def test_revoking_one_of_my_sessions_ends_it_and_keeps_the_current_one(api: Api) -> None:
    account = await sign_in(api)
    other = await log_in(api, account.email)

    response = await api.client.delete(
        f"/api/auth/sessions/{other.session_id}", headers=account.headers
    )

    assert response.status_code == 204, response.text
    await assert_signed_out(api, other)
    assert_problem(await refresh(api, other.refresh_token), 401)
    await assert_signed_in(api, account)
    [event] = await audit_log(api, "auth.session_revoked")
    assert (event["actor_id"], event["target"]) == (account.id, other.session_id)


async def test_revoking_my_current_session_signs_me_out(api: Api) -> None:
    account = await sign_in(api)

    response = await api.client.delete(
        f"/api/auth/sessions/{account.session_id}", headers=account.headers
    )

    assert response.status_code == 204, response.text
    await assert_signed_out(api, account)


async def test_a_customer_never_sees_another_customers_sessions(api: Api) -> None:
    mine = await sign_in(api)
    theirs = await sign_in(api)

    response = await api.client.get("/api/auth/sessions", headers=mine.headers)

    ids = {item["id"] for item in response.json()["items"]}
    assert ids == {mine.session_id}
    assert theirs.session_id not in ids


@pytest.mark.parametrize("victim_role", [Role.CUSTOMER, Role.AGENT, Role.ADMIN])
async def test_a_customer_cannot_revoke_someone_elses_session_it_looks_missing(
    api: Api, victim_role: Role
) -> None:
    attacker = await sign_in(api)
    victim = await sign_in(api, victim_role)
    before = await snapshot(api)

    response = await api.client.delete(
        f"/api/auth/sessions/{victim.session_id}", headers=attacker.headers
    )

    assert_problem(response, 404)
    assert await snapshot(api) == before
    await assert_signed_in(api, victim)


@pytest.mark.parametrize(
    ("session_id", "status"),
    [
        pytest.param(MISSING_ID, 404, id="unknown"),
        pytest.param("x" * 37, 400, id="oversize"),
        pytest.param("a%00b", 400, id="nul"),
    ],
)
async def test_revoking_an_unknown_session_changes_nothing(
    api: Api, session_id: str, status: int
) -> None:
    account = await sign_in(api)
    before = await snapshot(api)

    response = await api.client.delete(f"/api/auth/sessions/{session_id}", headers=account.headers)

    assert_problem(response, status)
    assert await snapshot(api) == before


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        (f"limit={MAX_LIMIT + 1}", "limit"),
        ("limit=many", "limit"),
        ("offset=-1", "offset"),
        ("offset=1.5", "offset"),
    ],
)
async def test_sessions_refuses_bad_paging_naming_the_parameter(
    api: Api, query: str, field: str
) -> None:
    account = await sign_in(api)

    response = await api.client.get(f"/api/auth/sessions?{query}", headers=account.headers)

    assert_problem(response, 400, field)


async def test_sessions_need_a_signed_in_caller(api: Api) -> None:
    assert_problem(await api.client.get("/api/auth/sessions"), 401)
    assert_problem(await api.client.delete(f"/api/auth/sessions/{MISSING_ID}"), 401)


# ---------------------------------------------------------------- admin: guards

NEW_AGENT = {"email": "agent@example.com", "password": PASSWORD, "name": "Alex", "role": "agent"}
ADMIN_ROUTES = [
    pytest.param("GET", "/api/admin/users", None, id="list-users"),
    pytest.param("POST", "/api/admin/users", NEW_AGENT, id="create-user"),
    pytest.param("GET", "/api/admin/users/{target}", None, id="get-user"),
    pytest.param("PATCH", "/api/admin/users/{target}", {"role": "admin"}, id="update-user"),
    pytest.param("DELETE", "/api/admin/users/{target}", None, id="delete-user"),
    pytest.param("GET", "/api/admin/audit", None, id="audit"),
]


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.AGENT])
@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
async def test_customers_and_agents_are_forbidden_every_admin_route(
    api: Api, role: Role, method: str, path: str, body: dict[str, Any] | None
) -> None:
    caller = await sign_in(api, role)
    target = await sign_in(api)
    before = await snapshot(api)

    response = await api.client.request(
        method, path.format(target=target.id), json=body, headers=caller.headers
    )

    assert_problem(response, 403)
    assert await snapshot(api) == before


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
async def test_anonymous_callers_are_unauthorized_on_every_admin_route(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    target = await sign_in(api)
    before = await snapshot(api)

    response = await api.client.request(method, path.format(target=target.id), json=body)

    assert_problem(response, 401)
    assert await snapshot(api) == before


# ---------------------------------------------------------------- admin: users


async def test_an_admin_lists_users_filtered_by_role_and_text(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    await sign_in(api, Role.AGENT)
    customer = await sign_in(api)

    everyone = await api.client.get("/api/admin/users", headers=admin.headers)
    customers = await api.client.get("/api/admin/users?role=customer", headers=admin.headers)
    found = await api.client.get(
        f"/api/admin/users?q={customer.email.upper()}", headers=admin.headers
    )

    assert everyone.json()["total"] == 3
    assert [u["id"] for u in customers.json()["items"]] == [customer.id]
    assert [u["id"] for u in found.json()["items"]] == [customer.id]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("role=boss", "role"),
        ("limit=0", "limit"),
        (f"limit={MAX_LIMIT + 1}", "limit"),
        ("offset=-1", "offset"),
        (f"q={long_text(101)}", "q"),
        ("q=a%00", "q"),
    ],
)
async def test_listing_users_refuses_bad_query_parameters_naming_them(
    api: Api, query: str, field: str
) -> None:
    admin = await sign_in(api, Role.ADMIN)

    response = await api.client.get(f"/api/admin/users?{query}", headers=admin.headers)

    assert_problem(response, 400, field)


async def test_an_admin_creates_an_agent_who_can_sign_in_and_it_is_audited(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)

    response = await api.client.post(
        "/api/admin/users", json=NEW_AGENT, headers={**admin.headers, "User-Agent": "console"}
    )

    assert response.status_code == 201, response.text
    agent = response.json()
    assert (agent["email"], agent["role"], agent["active"]) == ("agent@example.com", "agent", True)
    created = (await audit_log(api, "user.created"))[0]
    assert (created["actor_id"], created["target"], created["ip"]) == (
        admin.id,
        agent["id"],
        "127.0.0.1",
    )
    assert created["details"] == {"email": "agent@example.com", "role": "agent"}
    [write] = await audit_log(api, "admin.write")
    assert (write["actor_id"], write["target"], write["ip"], write["user_agent"]) == (
        admin.id,
        "POST /api/admin/users",
        "127.0.0.1",
        "console",
    )
    signed_in = await log_in(api, "agent@example.com")
    assert signed_in.role is Role.AGENT


async def test_creating_a_user_with_a_taken_email_is_a_conflict_and_changes_nothing(
    api: Api,
) -> None:
    admin = await sign_in(api, Role.ADMIN)
    customer = await sign_in(api)
    before = await snapshot(api)

    response = await api.client.post(
        "/api/admin/users", json={**NEW_AGENT, "email": customer.email}, headers=admin.headers
    )

    assert_problem(response, 409)
    assert await snapshot(api) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        *bad_bodies(NEW_AGENT),
        pytest.param({**NEW_AGENT, "role": "superuser"}, "role", id="unknown-role"),
        pytest.param({**NEW_AGENT, "email": "nobody"}, "email", id="email-not-an-address"),
        pytest.param({**NEW_AGENT, "name": long_text(121)}, "name", id="name-oversize"),
        pytest.param({**NEW_AGENT, "password": "a1" * 65}, "password", id="password-oversize"),
        pytest.param({**NEW_AGENT, "active": False}, "active", id="unknown-field-active"),
    ],
)
async def test_creating_a_user_with_a_malformed_body_is_refused_and_changes_nothing(
    api: Api, body: Any, field: str | None
) -> None:
    admin = await sign_in(api, Role.ADMIN)
    before = await snapshot(api)

    response = await post_raw(api, "/api/admin/users", body, admin.headers)

    assert_problem(response, 400, field)
    assert await snapshot(api) == before


@pytest.mark.parametrize("body", MALFORMED_JSON)
async def test_creating_a_user_with_malformed_json_is_a_bad_request(api: Api, body: bytes) -> None:
    admin = await sign_in(api, Role.ADMIN)
    before = await snapshot(api)

    assert_problem(await post_raw(api, "/api/admin/users", body, admin.headers), 400)
    assert await snapshot(api) == before


async def test_creating_a_user_with_a_weak_password_names_the_password(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    before = await snapshot(api)

    response = await api.client.post(
        "/api/admin/users", json={**NEW_AGENT, "password": "password"}, headers=admin.headers
    )

    assert_problem(response, 422, "password")
    assert await snapshot(api) == before


async def test_an_admin_reads_one_user(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    customer = await sign_in(api)

    response = await api.client.get(f"/api/admin/users/{customer.id}", headers=admin.headers)

    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["email"]) == (customer.id, customer.email)


@pytest.mark.parametrize(
    ("method", "body"),
    [("GET", None), ("PATCH", {"name": "Ghost"}), ("DELETE", None)],
)
@pytest.mark.parametrize(
    ("user_id", "status"),
    [
        pytest.param(MISSING_ID, 404, id="unknown"),
        pytest.param("x" * 37, 400, id="oversize"),
        pytest.param("a%00b", 400, id="nul"),
    ],
)
async def test_an_unknown_user_id_changes_nothing(
    api: Api, method: str, body: dict[str, Any] | None, user_id: str, status: int
) -> None:
    admin = await sign_in(api, Role.ADMIN)
    before = await snapshot(api)

    response = await api.client.request(
        method, f"/api/admin/users/{user_id}", json=body, headers=admin.headers
    )

    assert_problem(response, status)
    assert await snapshot(api) == before


async def test_an_admin_renames_a_user_and_it_is_audited(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    customer = await sign_in(api)

    response = await api.client.patch(
        f"/api/admin/users/{customer.id}", json={"name": "  Ana María "}, headers=admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Ana María"
    [updated] = await audit_log(api, "user.updated")
    assert (updated["actor_id"], updated["target"]) == (admin.id, customer.id)
    assert updated["details"] == {"changes": {"name": ["Ana", "Ana María"]}}
    assert await audit_log(api, "user.role_changed") == []


async def test_changing_a_role_is_audited_and_takes_effect_on_live_sessions(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    agent = await sign_in(api, Role.AGENT)

    response = await api.client.patch(
        f"/api/admin/users/{agent.id}", json={"role": "admin"}, headers=admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "admin"
    [changed] = await audit_log(api, "user.role_changed")
    assert (changed["actor_id"], changed["target"], changed["ip"]) == (
        admin.id,
        agent.id,
        "127.0.0.1",
    )
    assert changed["details"] == {"from": "agent", "to": "admin"}
    promoted = await api.client.get("/api/admin/users", headers=agent.headers)
    assert promoted.status_code == 200, promoted.text


async def test_a_demoted_admin_loses_the_admin_routes_at_once(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    other = await sign_in(api, Role.ADMIN)

    await api.client.patch(
        f"/api/admin/users/{other.id}", json={"role": "agent"}, headers=admin.headers
    )

    assert_problem(await api.client.get("/api/admin/users", headers=other.headers), 403)


async def test_deactivating_a_user_ends_their_sessions_and_is_audited(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    customer = await sign_in(api)
    elsewhere = await log_in(api, customer.email)

    response = await api.client.patch(
        f"/api/admin/users/{customer.id}", json={"active": False}, headers=admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    await assert_signed_out(api, customer)
    await assert_signed_out(api, elsewhere)
    [updated] = await audit_log(api, "user.updated")
    assert updated["details"] == {"changes": {"active": [True, False]}}


async def test_a_patch_that_changes_nothing_records_no_user_change(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    customer = await sign_in(api)
    before = await snapshot(api)

    response = await api.client.patch(
        f"/api/admin/users/{customer.id}",
        json={"name": "Ana", "role": "customer", "active": True},
        headers=admin.headers,
    )

    assert response.status_code == 200, response.text
    after = await snapshot(api)
    assert (after.users, after.live_sessions) == (before.users, before.live_sessions)
    assert await audit_log(api, "user.updated") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"email": "other@example.com"}, "email", id="email-is-not-patchable"),
        pytest.param({"password": PASSWORD}, "password", id="password-is-not-patchable"),
        pytest.param({"role": "root"}, "role", id="unknown-role"),
        pytest.param({"role": 1}, "role", id="role-wrong-type"),
        pytest.param({"active": [True]}, "active", id="active-wrong-type"),
        pytest.param({"active": "no"}, "active", id="active-a-string"),
        pytest.param({"active": 0}, "active", id="active-a-number"),
        pytest.param({"name": 42}, "name", id="name-wrong-type"),
        pytest.param({"name": ""}, "name", id="name-empty"),
        pytest.param({"name": "  "}, "name", id="name-blank"),
        pytest.param({"name": long_text(121)}, "name", id="name-oversize"),
        pytest.param([{"name": "Ana"}], None, id="a-list"),
        pytest.param("Ana", None, id="a-string"),
    ],
)
async def test_updating_a_user_with_a_malformed_body_is_refused_and_changes_nothing(
    api: Api, body: Any, field: str | None
) -> None:
    admin = await sign_in(api, Role.ADMIN)
    customer = await sign_in(api)
    before = await snapshot(api)

    response = await api.client.patch(
        f"/api/admin/users/{customer.id}",
        content=json.dumps(body).encode(),
        headers={**admin.headers, "Content-Type": "application/json"},
    )

    assert_problem(response, 400, field)
    assert await snapshot(api) == before


@pytest.mark.parametrize("body", MALFORMED_JSON)
async def test_updating_a_user_with_malformed_json_is_a_bad_request(api: Api, body: bytes) -> None:
    admin = await sign_in(api, Role.ADMIN)
    customer = await sign_in(api)
    before = await snapshot(api)

    response = await api.client.patch(
        f"/api/admin/users/{customer.id}",
        content=body,
        headers={**admin.headers, "Content-Type": "application/json"},
    )

    assert_problem(response, 400)
    assert await snapshot(api) == before


# ---------------------------------------------------------------- admin: the last admin


@pytest.mark.parametrize("change", [{"role": "agent"}, {"role": "customer"}])
async def test_the_last_admin_cannot_demote_themself(api: Api, change: dict[str, str]) -> None:
    admin = await sign_in(api, Role.ADMIN)
    before = await snapshot(api)

    response = await api.client.patch(
        f"/api/admin/users/{admin.id}", json=change, headers=admin.headers
    )

    assert_problem(response, 409)
    assert await snapshot(api) == before
    assert (await api.client.get("/api/admin/users", headers=admin.headers)).status_code == 200


async def test_a_refused_update_applies_none_of_its_changes(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    before = await snapshot(api)

    response = await api.client.patch(
        f"/api/admin/users/{admin.id}",
        json={"name": "Renamed", "role": "agent"},
        headers=admin.headers,
    )

    assert_problem(response, 409)
    assert await snapshot(api) == before


async def test_an_admin_may_step_down_while_another_admin_remains(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    await sign_in(api, Role.ADMIN)

    response = await api.client.patch(
        f"/api/admin/users/{admin.id}", json={"role": "agent"}, headers=admin.headers
    )

    assert response.status_code == 200, response.text
    assert_problem(await api.client.get("/api/admin/users", headers=admin.headers), 403)


async def test_an_admin_cannot_deactivate_themself(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    await sign_in(api, Role.ADMIN)
    before = await snapshot(api)

    response = await api.client.patch(
        f"/api/admin/users/{admin.id}",
        json={"name": "Leaving", "active": False},
        headers=admin.headers,
    )

    assert_problem(response, 403)
    assert await snapshot(api) == before
    await assert_signed_in(api, admin)


# ---------------------------------------------------------------- admin: deleting


async def test_deleting_a_user_deactivates_them_and_ends_every_session(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    agent = await sign_in(api, Role.AGENT)
    elsewhere = await log_in(api, agent.email)

    response = await api.client.delete(f"/api/admin/users/{agent.id}", headers=admin.headers)

    assert response.status_code == 204, response.text
    await assert_signed_out(api, agent)
    await assert_signed_out(api, elsewhere)
    kept = await api.client.get(f"/api/admin/users/{agent.id}", headers=admin.headers)
    assert kept.json()["active"] is False
    assert_problem(
        await api.client.post("/api/auth/login", json={"email": agent.email, "password": PASSWORD}),
        401,
    )
    [deleted] = await audit_log(api, "user.deleted")
    assert (deleted["actor_id"], deleted["target"], deleted["ip"]) == (
        admin.id,
        agent.id,
        "127.0.0.1",
    )
    assert deleted["details"] == {"email": agent.email, "sessions_revoked": 2}


async def test_an_admin_cannot_delete_themself(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    await sign_in(api, Role.ADMIN)
    before = await snapshot(api)

    response = await api.client.delete(f"/api/admin/users/{admin.id}", headers=admin.headers)

    assert_problem(response, 403)
    assert await snapshot(api) == before
    await assert_signed_in(api, admin)


async def test_an_admin_may_delete_another_admin(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)
    other = await sign_in(api, Role.ADMIN)

    response = await api.client.delete(f"/api/admin/users/{other.id}", headers=admin.headers)

    assert response.status_code == 204, response.text
    await assert_signed_out(api, other)


# ---------------------------------------------------------------- the audit log


async def test_the_audit_log_lists_who_did_what_newest_first(api: Api, clock: FakeClock) -> None:
    admin = await sign_in(api, Role.ADMIN)
    clock.advance(timedelta(seconds=1))
    customer = await sign_in(api)
    clock.advance(timedelta(seconds=1))
    await api.client.post("/api/auth/logout", headers=customer.headers)

    response = await api.client.get("/api/admin/audit", headers=admin.headers)

    assert response.status_code == 200, response.text
    assert by_instant(response.json()["items"]) == [
        {"auth.logout"},
        {"auth.login", "user.registered"},
        {"auth.login", "user.created"},
    ]
    newest = response.json()["items"][0]
    assert (newest["actor_id"], newest["actor_email"], newest["ip"]) == (
        customer.id,
        customer.email,
        "127.0.0.1",
    )


async def test_the_audit_log_filters_by_actor_action_and_time(api: Api, clock: FakeClock) -> None:
    admin = await sign_in(api, Role.ADMIN)
    customer = await sign_in(api)
    clock.advance(timedelta(minutes=1))
    since = clock.now().isoformat()
    await api.client.post("/api/auth/logout", headers=customer.headers)
    clock.advance(timedelta(seconds=1))
    await api.client.post("/api/auth/login", json={"email": admin.email, "password": "wrong-1x"})

    by_actor = await api.client.get(
        "/api/admin/audit", params={"actor_id": customer.id}, headers=admin.headers
    )
    by_action = await api.client.get(
        "/api/admin/audit", params={"action": "auth.login_failed"}, headers=admin.headers
    )
    by_time = await api.client.get(
        "/api/admin/audit", params={"since": since}, headers=admin.headers
    )

    assert by_instant(by_actor.json()["items"]) == [
        {"auth.logout"},
        {"auth.login", "user.registered"},
    ]
    assert [e["actor_email"] for e in by_action.json()["items"]] == [admin.email]
    assert [e["action"] for e in by_time.json()["items"]] == ["auth.login_failed", "auth.logout"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=yesterday", "since"),
        ("limit=0", "limit"),
        ("offset=-5", "offset"),
        (f"actor_id={long_text(37)}", "actor_id"),
        (f"action={long_text(65)}", "action"),
        ("action=auth%00", "action"),
        ("actor_id=%01", "actor_id"),
    ],
)
async def test_the_audit_log_refuses_bad_query_parameters_naming_them(
    api: Api, query: str, field: str
) -> None:
    admin = await sign_in(api, Role.ADMIN)

    response = await api.client.get(f"/api/admin/audit?{query}", headers=admin.headers)

    assert_problem(response, 400, field)


async def test_every_successful_admin_write_leaves_an_admin_write_entry(
    api: Api, clock: FakeClock
) -> None:
    admin = await sign_in(api, Role.ADMIN)
    customer = await sign_in(api)

    created = await api.client.post("/api/admin/users", json=NEW_AGENT, headers=admin.headers)
    agent_id = created.json()["id"]
    clock.advance(timedelta(seconds=1))
    await api.client.patch(
        f"/api/admin/users/{agent_id}", json={"name": "Alexa"}, headers=admin.headers
    )
    clock.advance(timedelta(seconds=1))
    await api.client.delete(f"/api/admin/users/{customer.id}", headers=admin.headers)

    writes = await audit_log(api, "admin.write")
    assert [(w["target"], w["actor_id"], w["ip"]) for w in writes] == [
        (f"DELETE /api/admin/users/{customer.id}", admin.id, "127.0.0.1"),
        (f"PATCH /api/admin/users/{agent_id}", admin.id, "127.0.0.1"),
        ("POST /api/admin/users", admin.id, "127.0.0.1"),
    ]


async def test_reads_and_refused_admin_writes_leave_no_admin_write_entry(api: Api) -> None:
    admin = await sign_in(api, Role.ADMIN)

    await api.client.get("/api/admin/users", headers=admin.headers)
    await api.client.get("/api/admin/audit", headers=admin.headers)
    await api.client.post("/api/admin/users", json={"email": "x"}, headers=admin.headers)
    await api.client.delete(f"/api/admin/users/{MISSING_ID}", headers=admin.headers)
    await api.client.delete(f"/api/admin/users/{admin.id}", headers=admin.headers)

    assert await audit_log(api, "admin.write") == []


async def test_writes_by_non_admins_leave_no_admin_write_entry(api: Api) -> None:
    agent = await sign_in(api, Role.AGENT)
    customer = await sign_in(api)

    await api.client.post("/api/auth/logout", headers=agent.headers)
    await api.client.post("/api/auth/logout", headers=customer.headers)

    assert await audit_log(api, "admin.write") == []


async def test_the_audit_log_records_the_forwarded_address_only_from_a_trusted_proxy(
    clock: FakeClock,
) -> None:
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:", http={"trusted_proxies": ["127.0.0.1", "10.0.0.2"]}
    )
    async with open_api(settings, in_memory=True, clock=clock) as behind_proxy:
        await behind_proxy.client.post("/api/auth/register", json=REGISTRATION)
        forwarded = {"X-Forwarded-For": "203.0.113.7, 10.0.0.2"}
        await behind_proxy.client.post("/api/auth/login", json=LOGIN, headers=forwarded)
        [event] = await audit_log(behind_proxy, "auth.login")
        assert event["ip"] == "203.0.113.7"


async def test_the_audit_log_ignores_a_forwarded_address_from_an_untrusted_peer(api: Api) -> None:
    await api.client.post("/api/auth/register", json=REGISTRATION)

    await api.client.post("/api/auth/login", json=LOGIN, headers={"X-Forwarded-For": "203.0.113.7"})

    [event] = await audit_log(api, "auth.login")
    assert event["ip"] == "127.0.0.1"


# ---------------------------------------------------------------- control characters


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        pytest.param(
            "POST", "/api/auth/register", {**REGISTRATION, "name": "A\x00B"}, id="register"
        ),
        pytest.param("POST", "/api/admin/users", {**NEW_AGENT, "name": "A\x1bB"}, id="create"),
        pytest.param("PATCH", "/api/admin/users/{target}", {"name": "A\x07"}, id="rename"),
    ],
)
async def test_a_name_with_control_characters_is_refused_naming_it(
    api: Api, method: str, path: str, body: dict[str, Any]
) -> None:
    admin = await sign_in(api, Role.ADMIN)
    customer = await sign_in(api)
    before = await snapshot(api)

    response = await api.client.request(
        method, path.format(target=customer.id), json=body, headers=admin.headers
    )

    assert_problem(response, 422, "name")
    assert await snapshot(api) == before


async def test_control_characters_are_dropped_from_the_recorded_user_agent(api: Api) -> None:
    await api.client.post("/api/auth/register", json=REGISTRATION)

    response = await api.client.post(
        "/api/auth/login", json=LOGIN, headers={"User-Agent": "agent\x00/1\x07"}
    )

    assert response.status_code == 200, response.text
    [event] = await audit_log(api, "auth.login")
    assert event["user_agent"] == "agent/1"
    sessions = await api.client.get("/api/auth/sessions", headers=account_of(response).headers)
    assert sessions.json()["items"][0]["user_agent"] == "agent/1"
