"""The direct AI routes over fakes of the hearing and seeing engines and a scripted model:
each answers what its engine gives; bad input is refused before an engine sees it (the
fakes remember what they were given); a missing engine is a 501, one that is down a 503.
"""

from __future__ import annotations

import struct
import zlib

import pytest

from adapters.memory.speech import tone
from talia_core.shared.errors import (
    CapabilityNotConfigured,
    ExternalServiceUnavailable,
)
from talia_core.shared.speech import AudioFormat
from talia_core.shared.vision import Box, DetectedObject
from tests.api import Api, assert_problem
from tests.unit.http.ai.fakes import Engines, ai_api, picture

TRANSCRIBE, SPEECH, IMAGE, CHAT = (
    "/api/ai/transcribe",
    "/api/ai/speech",
    "/api/ai/image",
    "/api/ai/chat",
)


def huge_png() -> bytes:
    """A small file whose header declares a 100 000 x 100 000 canvas."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"") + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# --- transcribe ---------------------------------------------------------------------------


async def test_audio_is_transcribed_with_its_language_and_duration(
    api: Api, engines: Engines, customer: dict[str, str]
) -> None:
    wav = tone(0.5)
    response = await api.client.post(
        TRANSCRIBE, files={"file": ("nota.bin", wav)}, data={"language": "es"}, headers=customer
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"text": "quiero una cita", "language": "es", "duration_seconds": 0.5}
    assert [(a.content, a.mime_type) for a in engines.hearing.heard] == [(wav, "audio/wav")]


@pytest.mark.parametrize(
    ("content", "status"),
    [(b"", 422), (b"just some text, not audio", 422), (None, 422), (b"RIFF", 422)],
    ids=["empty", "text", "an image", "cut short"],
)
async def test_what_is_not_audio_is_refused_and_no_engine_hears_it(
    api: Api, engines: Engines, customer: dict[str, str], content: bytes | None, status: int
) -> None:
    sent = picture() if content is None else content
    response = await api.client.post(TRANSCRIBE, files={"file": ("a.wav", sent)}, headers=customer)

    assert_problem(response, status, "file")
    assert engines.hearing.heard == []


async def test_audio_over_the_configured_size_is_too_large() -> None:
    engines = Engines()
    async with ai_api(engines, max_audio_bytes=2048) as api:
        _, customer = await api.user()
        response = await api.client.post(
            TRANSCRIBE, files={"file": ("a.wav", tone(0.5))}, headers=customer
        )

    assert_problem(response, 413, "file")
    assert engines.hearing.heard == []


async def test_a_language_that_is_no_iso_code_is_refused(
    api: Api, engines: Engines, customer: dict[str, str]
) -> None:
    response = await api.client.post(
        TRANSCRIBE,
        files={"file": ("a.wav", tone(0.2))},
        data={"language": "es-PE"},
        headers=customer,
    )

    assert_problem(response, 422, "language")
    assert engines.hearing.heard == []


async def test_a_transcription_without_a_file_is_a_bad_request(
    api: Api, customer: dict[str, str]
) -> None:
    response = await api.client.post(TRANSCRIBE, data={"language": "es"}, headers=customer)

    assert_problem(response, 400)


# --- speech -------------------------------------------------------------------------------


async def test_text_is_spoken_as_the_engine_produces_it(
    api: Api, engines: Engines, customer: dict[str, str]
) -> None:
    response = await api.client.post(SPEECH, json={"text": "Hola, Ana"}, headers=customer)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    assert response.content.startswith(b"RIFF")
    assert engines.speaking.spoken == ["Hola, Ana"]
    assert engines.converter.converted == []


@pytest.mark.parametrize(
    ("format", "mime_type", "magic"),
    [
        ("mp3", "audio/mpeg", b"ID3"),
        ("ogg_opus", "audio/ogg", b"OggS"),
        ("wav", "audio/wav", b"RIFF"),
    ],
)
async def test_text_is_spoken_in_the_format_asked(
    api: Api, engines: Engines, customer: dict[str, str], format: str, mime_type: str, magic: bytes
) -> None:
    response = await api.client.post(
        SPEECH, json={"text": "Hola", "format": format}, headers=customer
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == mime_type
    assert response.content.startswith(magic)
    converted = [] if format == "wav" else [AudioFormat(format)]
    assert engines.converter.converted == converted


async def test_a_format_whose_encoder_is_missing_is_not_implemented(
    api: Api, engines: Engines, customer: dict[str, str]
) -> None:
    engines.converter.fail_with(CapabilityNotConfigured("audio conversion", "no MP3 encoder"))

    response = await api.client.post(
        SPEECH, json={"text": "Hola", "format": "mp3"}, headers=customer
    )

    assert_problem(response, 501)


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001], ids=["empty", "blank", "too long"])
async def test_no_text_or_too_long_a_text_is_refused_and_nothing_is_said(
    api: Api, engines: Engines, customer: dict[str, str], text: str
) -> None:
    response = await api.client.post(SPEECH, json={"text": text}, headers=customer)

    assert_problem(response, 422, "text")
    assert engines.speaking.spoken == []


@pytest.mark.parametrize(
    "body",
    [{"text": "Hola", "format": "flac"}, {"text": "Hola", "language": "spanish"}, {"say": "Hola"}],
    ids=["unknown format", "bad language", "unknown field"],
)
async def test_a_bad_speech_request_is_a_bad_request(
    api: Api, engines: Engines, customer: dict[str, str], body: dict[str, str]
) -> None:
    response = await api.client.post(SPEECH, json=body, headers=customer)

    assert_problem(response, 400)
    assert engines.speaking.spoken == []


async def test_malformed_json_is_a_bad_request(api: Api, customer: dict[str, str]) -> None:
    headers = {**customer, "Content-Type": "application/json"}
    response = await api.client.post(SPEECH, content=b'{"text": "Hola"', headers=headers)

    assert_problem(response, 400)


# --- image --------------------------------------------------------------------------------


async def test_an_image_is_captioned(api: Api, engines: Engines, customer: dict[str, str]) -> None:
    png = picture()
    response = await api.client.post(
        IMAGE, files={"file": ("x", png)}, data={"task": "caption"}, headers=customer
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"task": "caption", "caption": "una torta de bodas"}
    assert [(i.content, i.mime_type) for i in engines.seeing.seen] == [(png, "image/png")]


async def test_objects_come_with_their_boxes_the_most_confident_first(
    api: Api, engines: Engines, customer: dict[str, str]
) -> None:
    engines.seeing.will_see(
        DetectedObject("flower", 0.5, Box(1, 1, 3, 2)),
        DetectedObject("cake", 0.97, Box(0, 0, 4, 3)),
    )
    response = await api.client.post(
        IMAGE,
        files={"file": ("x.jpg", picture(format="JPEG"))},
        data={"task": "objects"},
        headers=customer,
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "task": "objects",
        "objects": [
            {
                "label": "cake",
                "score": 0.97,
                "box": {"x_min": 0, "y_min": 0, "x_max": 4, "y_max": 3},
            },
            {
                "label": "flower",
                "score": 0.5,
                "box": {"x_min": 1, "y_min": 1, "x_max": 3, "y_max": 2},
            },
        ],
    }


async def test_a_sign_is_read_with_its_score(api: Api, customer: dict[str, str]) -> None:
    response = await api.client.post(
        IMAGE, files={"file": ("x", picture())}, data={"task": "sign"}, headers=customer
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"task": "sign", "sign": "A", "score": 0.93, "alternatives": []}


@pytest.mark.parametrize(
    ("content", "task", "status", "field"),
    [
        (tone(0.2), "caption", 422, "file"),
        (b"", "caption", 422, "file"),
        (b"\x89PNG\r\n\x1a\n", "caption", 422, "file"),
        (huge_png(), "objects", 413, "file"),
        (picture(), "describe", 400, None),
    ],
    ids=["audio", "empty", "cut short", "too many pixels", "unknown task"],
)
async def test_a_bad_image_or_task_is_refused_and_no_engine_sees_it(
    api: Api,
    engines: Engines,
    customer: dict[str, str],
    content: bytes,
    task: str,
    status: int,
    field: str | None,
) -> None:
    response = await api.client.post(
        IMAGE, files={"file": ("x.png", content)}, data={"task": task}, headers=customer
    )

    assert_problem(response, status, field)
    assert engines.seeing.seen == engines.signs.seen == []


async def test_an_image_over_the_configured_bytes_or_pixels_is_too_large() -> None:
    engines = Engines()
    async with ai_api(engines, max_image_bytes=1024, max_image_pixels=100) as api:
        _, customer = await api.user()
        heavy = picture(2, 2) + bytes(2048)  # a few pixels, and bytes after them
        wide = picture(11, 10)
        answers = [
            await api.client.post(
                IMAGE, files={"file": ("x", sent)}, data={"task": "caption"}, headers=customer
            )
            for sent in (heavy, wide)
        ]

    for answer in answers:
        assert_problem(answer, 413, "file")
    assert engines.seeing.seen == []


# --- callers and engines ------------------------------------------------------------------


async def test_anonymous_callers_are_asked_to_sign_in(api: Api, engines: Engines) -> None:
    answers = [
        await api.client.post(TRANSCRIBE, files={"file": ("a.wav", tone(0.2))}),
        await api.client.post(SPEECH, json={"text": "Hola"}),
        await api.client.post(IMAGE, files={"file": ("x", picture())}, data={"task": "sign"}),
        await api.client.post(CHAT, json={"messages": [{"role": "user", "text": "hola"}]}),
    ]

    for answer in answers:
        assert_problem(answer, 401)
    assert engines.hearing.heard == engines.speaking.spoken == engines.signs.seen == []


async def test_an_engine_that_is_down_is_a_503_with_retry_after(
    api: Api, engines: Engines, customer: dict[str, str]
) -> None:
    engines.hearing.fail_with(ExternalServiceUnavailable("speech to text", "down", 7))
    engines.seeing.fail_with(ExternalServiceUnavailable("image understanding", "down", 9))

    heard = await api.client.post(TRANSCRIBE, files={"file": ("a", tone(0.2))}, headers=customer)
    seen = await api.client.post(
        IMAGE, files={"file": ("x", picture())}, data={"task": "caption"}, headers=customer
    )

    assert_problem(heard, 503)
    assert heard.headers["retry-after"] == "7"
    assert_problem(seen, 503)
    assert seen.headers["retry-after"] == "9"


async def test_an_engine_not_configured_is_a_501(
    api: Api, engines: Engines, customer: dict[str, str]
) -> None:
    for fake, capability in (
        (engines.hearing, "speech to text"),
        (engines.speaking, "text to speech"),
        (engines.seeing, "image understanding"),
        (engines.signs, "sign language reading"),
    ):
        fake.fail_with(CapabilityNotConfigured(capability, "no provider is set for it"))
    image = {"file": ("x", picture())}
    answers = [
        await api.client.post(TRANSCRIBE, files={"file": ("a", tone(0.2))}, headers=customer),
        await api.client.post(SPEECH, json={"text": "Hola"}, headers=customer),
        await api.client.post(IMAGE, files=image, data={"task": "caption"}, headers=customer),
        await api.client.post(IMAGE, files=image, data={"task": "sign"}, headers=customer),
    ]

    for answer in answers:
        assert_problem(answer, 501)


async def test_calls_over_the_allowance_per_minute_are_too_many() -> None:
    engines = Engines()
    async with ai_api(engines, requests_per_minute=2) as limited:
        _, customer = await limited.user()
        answers = [
            await limited.client.post(SPEECH, json={"text": "Hola"}, headers=customer)
            for _ in range(3)
        ]
        _, another = await limited.user()
        other = await limited.client.post(SPEECH, json={"text": "Hola"}, headers=another)

    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert_problem(answers[2], 429)
    assert int(answers[2].headers["retry-after"]) > 0
    assert other.status_code == 200
    assert engines.speaking.spoken == ["Hola"] * 3
