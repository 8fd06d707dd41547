"""Refused uploads answer the caller: too large is 413, not media is 422, naming the file."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Request, post
from litestar.testing import create_test_client

from entrypoints.http.errors import EXCEPTION_HANDLERS
from talia_core.shared.media import MediaLimits

LIMITS = MediaLimits(image_bytes=1_000, audio_bytes=1_000)


@post("/upload")
async def upload(request: Request[Any, Any, Any]) -> str:
    return LIMITS.admit(await request.body()).mime_type


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 1_000, 413),
        (b"OggS" + b"\x00" * 1_000, 413),
        (b"Lista de invitados", 422),
    ],
)
def test_a_refused_upload_is_a_problem_naming_the_file(content: bytes, status: int) -> None:
    with create_test_client([upload], exception_handlers=EXCEPTION_HANDLERS) as client:
        response = client.post("/upload", content=content)

    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == ["file"]


def test_media_within_its_limit_is_taken() -> None:
    with create_test_client([upload], exception_handlers=EXCEPTION_HANDLERS) as client:
        response = client.post("/upload", content=b"OggS" + b"\x00" * 100)

    assert response.status_code == 201
    assert response.text == "audio/ogg"
