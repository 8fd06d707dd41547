"""What every route shares: access declarations, the OpenAPI document, request ids, body
limits, unknown paths and methods, CORS, metrics and start-up settings."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from entrypoints.container import build_container
from entrypoints.http import auth
from entrypoints.http.app import create_app
from entrypoints.settings import DEMO_JWT_SECRET, SettingsError, load_settings
from talia_core.shared.pagination import PageRequest
from tests.api import Api, assert_problem, open_api, settings_for_tests

MEMORY_URL = "sqlite+aiosqlite:///:memory:"
ORIGIN = "https://app.example.com"


def claim_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "claim",
        "customer_name": "Rosa",
        "customer_email": "rosa@example.com",
        "subject": "Late",
        "description": "It was late.",
        "request": "A refund.",
    }
    body.update(changes)
    return body


async def claims_stored(api: Api) -> int:
    page = await api.container.use_cases.feedback().list_claims(PageRequest(limit=1))
    return page.total


# --- (a) every route declares who may call it --------------------------------------------


def is_made_by_allow(guard: Callable[..., Any]) -> bool:
    return guard.__module__ == auth.__name__ and guard.__qualname__.startswith("allow.")


def access_guards(handler: HTTPRouteHandler) -> list[Callable[..., Any]]:
    return [
        g
        for layer in handler.ownership_layers
        for g in (layer.guards or [])
        if g is auth.public or g is auth.signed_in or is_made_by_allow(g)
    ]


def http_routes(app: Litestar) -> Iterator[tuple[str, str, HTTPRouteHandler]]:
    """(path, method, handler) of every route the app serves, bar the schema pages and
    Litestar's own OPTIONS handlers."""
    for path, methods in app.route_handler_method_map.items():
        if path == "/schema" or path.startswith("/schema/"):
            continue
        for method, handler in methods.items():
            if method == "OPTIONS" or not isinstance(handler, HTTPRouteHandler):
                continue
            yield path, method, handler


@pytest.fixture(scope="module")
def app() -> Litestar:
    return create_app(build_container(settings_for_tests(MEMORY_URL)))


def test_the_app_serves_the_feedback_and_health_routes(app: Litestar) -> None:
    served = {(path, method) for path, method, _ in http_routes(app)}

    assert {
        ("/health", "GET"),
        ("/health/ready", "GET"),
        ("/metrics", "GET"),
        ("/api/contact-messages", "POST"),
        ("/api/contact-messages", "GET"),
        ("/api/contact-messages/{message_id:str}/read", "POST"),
        ("/api/claims", "POST"),
        ("/api/claims", "GET"),
        ("/api/claims/{claim_id:str}/answer", "POST"),
        ("/api/testimonials", "GET"),
        ("/api/testimonials", "POST"),
        ("/api/testimonials/{testimonial_id:str}/approve", "POST"),
    } <= served


def test_every_route_declares_exactly_one_access_rule(app: Litestar) -> None:
    undeclared = {
        f"{method} {path}": [g.__name__ for g in access_guards(handler)]
        for path, method, handler in http_routes(app)
        if len(access_guards(handler)) != 1
    }

    assert undeclared == {}


def test_health_and_metrics_are_public(app: Litestar) -> None:
    rules = {f"{m} {p}": access_guards(h) for p, m, h in http_routes(app)}

    for route in ("GET /health", "GET /health/ready", "GET /metrics"):
        assert rules[route] == [auth.public]


# --- (b) the OpenAPI document ------------------------------------------------------------


def openapi_path(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


async def test_the_openapi_document_describes_every_route(app: Litestar, api: Api) -> None:
    document = (await api.client.get("/schema/openapi.json")).json()

    missing = [
        f"{method} {path}"
        for path, method, _ in http_routes(app)
        if method.lower() not in document["paths"].get(openapi_path(path), {})
    ]

    assert missing == []


async def test_every_protected_route_documents_its_401_and_403_problems(
    app: Litestar, api: Api
) -> None:
    document = (await api.client.get("/schema/openapi.json")).json()
    undocumented = []
    for path, method, handler in http_routes(app):
        (rule,) = access_guards(handler)
        if rule is auth.public:
            continue
        expected = ["401"] if rule is auth.signed_in else ["401", "403"]
        responses = document["paths"][openapi_path(path)][method.lower()]["responses"]
        for status in expected:
            content = responses.get(status, {}).get("content", {})
            if "application/problem+json" not in content:
                undocumented.append(f"{method} {path} {status}")

    assert undocumented == []


async def test_every_documented_error_is_a_problem_document(api: Api) -> None:
    document = (await api.client.get("/schema/openapi.json")).json()
    wrong = [
        f"{method.upper()} {path} {status}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.startswith("4")
        and "application/problem+json" not in response.get("content", {})
        # A page for people (an invitation's) answers with a page: its friendly 404 and 410.
        and "text/html; charset=utf-8" not in response.get("content", {})
    ]

    assert wrong == [], "\n".join(wrong)


async def test_the_openapi_document_describes_the_bearer_scheme(api: Api) -> None:
    document = (await api.client.get("/schema/openapi.json")).json()

    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


# --- (c) request ids ---------------------------------------------------------------------


async def test_a_valid_incoming_request_id_is_echoed(api: Api) -> None:
    response = await api.client.get("/health", headers={"X-Request-ID": "abc-123.x:y_z"})

    assert response.headers["x-request-id"] == "abc-123.x:y_z"


@pytest.mark.parametrize(
    "incoming",
    [
        pytest.param("has spaces", id="spaces"),
        pytest.param("x" * 129, id="too-long"),
        pytest.param("<script>", id="markup"),
        pytest.param("a\u00e9b", id="non-ascii"),
        pytest.param("", id="empty"),
    ],
)
async def test_an_invalid_incoming_request_id_is_replaced(api: Api, incoming: str) -> None:
    response = await api.client.get("/health", headers=[("X-Request-ID", incoming.encode("utf-8"))])

    echoed = response.headers["x-request-id"]
    assert echoed
    assert echoed != incoming
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", echoed)


async def test_a_request_without_an_id_gets_a_fresh_one_each_time(api: Api) -> None:
    first = await api.client.get("/health")
    second = await api.client.get("/health")

    assert first.headers["x-request-id"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_problem_responses_carry_the_request_id_too(api: Api) -> None:
    response = await api.client.get("/api/claims", headers={"X-Request-ID": "trace-1"})

    assert_problem(response, 401)
    assert response.headers["x-request-id"] == "trace-1"


# --- (d) body limit ----------------------------------------------------------------------


@pytest.fixture
async def small_bodies() -> AsyncIterator[Api]:
    settings = settings_for_tests(MEMORY_URL, http={"max_body_bytes": 1024})
    async with open_api(settings, in_memory=True) as opened:
        yield opened


async def test_a_body_over_the_limit_is_refused_with_413_and_nothing_is_stored(
    small_bodies: Api,
) -> None:
    body = claim_body(description="d" * 2000)

    response = await small_bodies.client.post("/api/claims", json=body)

    assert_problem(response, 413)
    assert await claims_stored(small_bodies) == 0


async def test_a_streamed_body_over_the_limit_is_refused_too(small_bodies: Api) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"kind": "claim", "description": "'
        for _ in range(10):
            yield b"d" * 200
        yield b'"}'

    response = await small_bodies.client.post(
        "/api/claims", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 413)
    assert await claims_stored(small_bodies) == 0


async def test_a_body_within_the_limit_is_accepted(small_bodies: Api) -> None:
    response = await small_bodies.client.post("/api/claims", json=claim_body())

    assert response.status_code == 201, response.text
    assert await claims_stored(small_bodies) == 1


# --- (e) unknown paths and methods -------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/api/nope", "/api/claims/x/y/z", "/api/../etc"])
async def test_an_unknown_path_is_a_404_problem(api: Api, path: str) -> None:
    assert_problem(await api.client.get(path), 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/claims", {"GET", "POST"}),
        ("PUT", "/health", {"GET"}),
        ("GET", "/api/claims/some-id/answer", {"POST"}),
        ("PATCH", "/api/testimonials", {"GET", "POST"}),
    ],
)
async def test_a_wrong_method_is_a_405_problem_saying_what_is_allowed(
    api: Api, method: str, path: str, allowed: set[str]
) -> None:
    response = await api.client.request(method, path)

    assert_problem(response, 405)
    assert allowed <= {m.strip() for m in response.headers["allow"].split(",")}


# --- (f) CORS ----------------------------------------------------------------------------


@pytest.fixture
async def with_cors() -> AsyncIterator[Api]:
    settings = settings_for_tests(MEMORY_URL, http={"cors_origins": [ORIGIN]})
    async with open_api(settings, in_memory=True) as opened:
        yield opened


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_a_configured_origin_passes_the_preflight(with_cors: Api) -> None:
    response = await with_cors.client.options("/api/claims", headers=preflight(ORIGIN))

    assert response.status_code < 300
    assert response.headers["access-control-allow-origin"] == ORIGIN
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed


async def test_another_origin_gets_no_allow_origin_header(with_cors: Api) -> None:
    elsewhere = "https://evil.example.com"

    flight = await with_cors.client.options("/api/claims", headers=preflight(elsewhere))
    simple = await with_cors.client.get("/health", headers={"Origin": elsewhere})

    assert "access-control-allow-origin" not in flight.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_a_configured_origin_may_read_the_request_id(with_cors: Api) -> None:
    response = await with_cors.client.get("/health", headers={"Origin": ORIGIN})

    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


async def test_without_configured_origins_no_cors_headers_are_sent(api: Api) -> None:
    response = await api.client.options("/api/claims", headers=preflight(ORIGIN))

    assert "access-control-allow-origin" not in response.headers


# --- (g) metrics -------------------------------------------------------------------------


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample ``name`` whose labels include ``labels``."""
    for line in text.splitlines():
        match = re.fullmatch(r"(\w+)\{(.*)\} (\S+)", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
        if labels.items() <= found.items():
            return float(match.group(3))
    return None


async def test_metrics_count_requests_by_method_route_template_and_status(api: Api) -> None:
    await api.client.get("/health")
    await api.client.get("/health")
    await api.client.post("/api/claims/some-id/answer", json={"answer": "x"})

    response = await api.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, "talia_http_requests_total", method="GET", route="/health") == 2
    assert (
        sample(
            text,
            "talia_http_requests_total",
            method="POST",
            route="/api/claims/{claim_id}/answer",
            status="401",
        )
        == 1
    )
    assert "some-id" not in text
    assert sample(text, "talia_http_request_duration_seconds_count", route="/health") == 2


async def test_two_apps_in_one_process_keep_their_own_counters(api: Api) -> None:
    async with open_api(settings_for_tests(MEMORY_URL), in_memory=True) as other:
        await other.client.get("/health")

        mine = (await api.client.get("/metrics")).text

    assert sample(mine, "talia_http_requests_total", route="/health") is None


# --- (h) settings ------------------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No TALIA_* variable from the outside and no .env file in the working directory."""
    for name in list(os.environ):
        if name.upper().startswith("TALIA_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TALIA_DATABASE__URL", "mysql://x"),
        ("TALIA_DATABASE__URL", "postgresql://postgres@localhost/talia"),
        ("TALIA_HTTP__PORT", "abc"),
        ("TALIA_HTTP__PORT", "70000"),
        ("TALIA_HTTP__MAX_BODY_BYTES", "10"),
        ("TALIA_HTTP__CORS_ORIGINS", "https://app.example.com"),
        ("TALIA_AUTH__THROTTLE_BACKEND", "memcached"),
        ("TALIA_AUTH__ACCESS_TOKEN_MINUTES", "0"),
        ("TALIA_ENVIRONMENT", "staging"),
        ("TALIA_LOG__LEVEL", "LOUD"),
        ("TALIA_LOG__FORMAT", "xml"),
        ("TALIA_STORAGE__PROVIDER", "dropbox"),
        ("TALIA_ASSISTANT__PROVIDER", "eliza"),
        ("TALIA_DEMO_DATA", "perhaps"),
    ],
)
def test_a_wrong_setting_stops_start_up_naming_the_variable(
    clean_environment: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    clean_environment.setenv(variable, value)

    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_every_wrong_setting_is_named_at_once(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("TALIA_DATABASE__URL", "mysql://x")
    clean_environment.setenv("TALIA_HTTP__PORT", "abc")

    with pytest.raises(SettingsError) as raised:
        load_settings()

    assert "TALIA_DATABASE__URL" in str(raised.value)
    assert "TALIA_HTTP__PORT" in str(raised.value)


def test_an_unknown_variable_in_the_env_file_is_named_as_written(
    clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("TALIA_DATABSE__URL=sqlite+aiosqlite:///x.db\n")

    with pytest.raises(SettingsError, match=r"\bTALIA_DATABSE__URL: "):
        load_settings()


def test_settings_are_read_from_the_environment(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("TALIA_HTTP__PORT", "9000")
    clean_environment.setenv("TALIA_HTTP__CORS_ORIGINS", f'["{ORIGIN}"]')
    clean_environment.setenv("TALIA_AUTH__THROTTLE_BACKEND", "redis")

    settings = load_settings()

    assert settings.http.port == 9000
    assert settings.http.cors_origins == [ORIGIN]
    assert settings.auth.throttle_backend.value == "redis"


def test_production_refuses_the_demo_jwt_secret(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("TALIA_ENVIRONMENT", "production")

    with pytest.raises(SettingsError, match="TALIA_AUTH__JWT_SECRET"):
        load_settings()


@pytest.mark.parametrize("environment", ["development", "production"])
def test_a_short_jwt_secret_stops_start_up_in_any_environment(
    clean_environment: pytest.MonkeyPatch, environment: str
) -> None:
    clean_environment.setenv("TALIA_ENVIRONMENT", environment)
    clean_environment.setenv("TALIA_AUTH__JWT_SECRET", "short")

    with pytest.raises(SettingsError, match=r"TALIA_AUTH__JWT_SECRET: .*at least 32 bytes"):
        load_settings()


def test_the_secret_must_be_as_long_as_the_algorithm_hash(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("TALIA_AUTH__JWT_ALGORITHM", "HS512")
    clean_environment.setenv("TALIA_AUTH__JWT_SECRET", "s" * 48)

    with pytest.raises(SettingsError, match=r"TALIA_AUTH__JWT_SECRET: .*at least 64 bytes"):
        load_settings()


def test_production_refuses_the_demo_data(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("TALIA_ENVIRONMENT", "production")
    clean_environment.setenv("TALIA_AUTH__JWT_SECRET", "s" * 48)

    with pytest.raises(SettingsError, match="TALIA_DEMO_DATA"):
        load_settings()


def test_production_starts_with_a_strong_secret_and_no_demo_data(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("TALIA_ENVIRONMENT", "production")
    clean_environment.setenv("TALIA_AUTH__JWT_SECRET", "s" * 48)
    clean_environment.setenv("TALIA_DEMO_DATA", "false")
    clean_environment.setenv("TALIA_PAYMENTS__PROVIDER", "izipay")
    clean_environment.setenv("TALIA_PAYMENTS__IZIPAY_SHOP_ID", "69876357")
    clean_environment.setenv("TALIA_PAYMENTS__IZIPAY_PASSWORD", "prodpassword_x")
    clean_environment.setenv("TALIA_PAYMENTS__IZIPAY_PUBLIC_KEY", "69876357:publickey_x")

    assert load_settings().environment == "production"


def test_production_refuses_the_payment_sandbox(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("TALIA_ENVIRONMENT", "production")
    clean_environment.setenv("TALIA_AUTH__JWT_SECRET", "s" * 48)
    clean_environment.setenv("TALIA_DEMO_DATA", "false")

    with pytest.raises(SettingsError, match="TALIA_PAYMENTS__PROVIDER is sandbox"):
        load_settings()


def test_the_izipay_provider_needs_its_credentials(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("TALIA_PAYMENTS__PROVIDER", "izipay")
    clean_environment.setenv("TALIA_PAYMENTS__IZIPAY_SHOP_ID", "69876357")

    with pytest.raises(SettingsError, match="TALIA_PAYMENTS__IZIPAY_PASSWORD"):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TALIA_RESILIENCE__RETRY_MAX_RETRY_AFTER_SECONDS", "0"),
        ("TALIA_RESILIENCE__BULKHEAD_MAX_WAIT_SECONDS", "0"),
        ("TALIA_RESILIENCE__RETRY_MAX_DELAY_SECONDS", "0.1"),
    ],
)
def test_a_resilience_policy_the_core_would_refuse_stops_start_up(
    clean_environment: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    clean_environment.setenv(variable, value)

    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_development_may_run_on_the_demo_secret(clean_environment: pytest.MonkeyPatch) -> None:
    settings = load_settings()

    assert settings.auth.jwt_secret.get_secret_value() == DEMO_JWT_SECRET


def test_the_error_message_never_shows_the_secret(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("TALIA_ENVIRONMENT", "production")
    clean_environment.setenv("TALIA_AUTH__JWT_SECRET", "tiny-secret")

    with pytest.raises(SettingsError) as raised:
        load_settings()

    assert "tiny-secret" not in str(raised.value)
