"""The one table that maps core errors to RFC 9457 problem responses."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from pydantic import BaseModel, Field

from talia_core.invitations.public import InvitationExpired
from talia_core.knowledge.errors import Unreadable
from talia_core.shared.errors import (
    CapabilityNotConfigured,
    Conflict,
    ExternalServiceUnavailable,
    Forbidden,
    Malformed,
    NotFound,
    RateLimited,
    RequestRefused,
    RuleViolated,
    TaliaError,
    Unauthorized,
)
from talia_core.shared.media import MediaTooLarge

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("talia.http")

ERROR_TABLE: dict[type[TaliaError], int] = {
    Malformed: 400,
    NotFound: 404,
    Conflict: 409,
    InvitationExpired: 410,
    MediaTooLarge: 413,  # before RuleViolated, its base: the first class that matches wins
    RuleViolated: 422,
    Unauthorized: 401,
    Forbidden: 403,
    RateLimited: 429,
    ExternalServiceUnavailable: 503,
    Unreadable: 422,
    RequestRefused: 502,  # a provider refused what Talia sent: not the caller's input
    CapabilityNotConfigured: 501,  # no engine for speech or images is configured here
}
"""Every core error a request can meet, by its class or a base of it
(``tests/unit/http/test_error_table.py`` holds the table to that); one it does not place is
a bug, answered 500 and logged."""

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Rule violated",
    429: "Too many requests",
    500: "Internal server error",
    501: "Not implemented",
    502: "Bad gateway",
    503: "Service unavailable",
}


class InvalidField(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    status: int
    title: str
    detail: str
    instance: str | None = None
    errors: list[InvalidField] = Field(default_factory=list)


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    *,
    errors: list[InvalidField] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "status": status,
        "title": TITLES.get(status, "Error"),
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = [error.model_dump() for error in errors]
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _core_error(request: Request[Any, Any, Any], error: TaliaError) -> Response[dict[str, Any]]:
    status = next((code for kind, code in ERROR_TABLE.items() if isinstance(error, kind)), 0)
    if not status:
        logger.error("a core error the table does not place", exc_info=error)
        status = HTTP_500_INTERNAL_SERVER_ERROR
    headers: dict[str, str] = {}
    fields: list[InvalidField] = []
    if isinstance(error, RuleViolated):
        fields = [InvalidField(field=f, message=m) for f, m in error.fields.items()]
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, ExternalServiceUnavailable) and error.retry_after_seconds:
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return problem_response(request, status, error.detail, errors=fields, headers=headers)


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[dict[str, Any]]:
    fields: list[InvalidField] = []
    if isinstance(error, ValidationException) and isinstance(error.extra, list):
        for item in error.extra:
            if isinstance(item, dict):
                key = _sent_name(request, str(item.get("key", "")))
                fields.append(InvalidField(field=key, message=str(item.get("message"))))
    detail = error.detail if error.status_code != 500 else TITLES[500]
    return problem_response(
        request, error.status_code, detail, errors=fields, headers=error.headers or None
    )


def _sent_name(request: Request[Any, Any, Any], key: str) -> str:
    """The name the client sent a parameter by: ``from`` for the handler's ``first``."""
    parameter = request.route_handler.parsed_fn_signature.parameters.get(key)
    alias = getattr(getattr(parameter, "kwarg_definition", None), "name", None)
    return alias if isinstance(alias, str) else key


def _unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    logger.exception("unhandled error", exc_info=error)
    return problem_response(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "An unexpected error happened; it was logged."
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    TaliaError: _core_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The OpenAPI description of the problem responses a route can give; every route can
    also fail unexpectedly (500) or lose a dependency (503)."""
    return {
        status: ResponseSpec(
            data_container=Problem, description=TITLES[status], media_type=PROBLEM_JSON
        )
        for status in sorted({*statuses, 500, 503})
    }
