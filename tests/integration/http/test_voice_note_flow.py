"""Voice notes and photos on WhatsApp are understood, answered, and shown to agents; an
assistant set to answer voice with voice sends a voice note, or the text without an encoder.

Through the real app on SQLite, PostgreSQL and MariaDB, with the real WhatsApp Cloud sender
and media downloader against a local server speaking the Graph API
(``tests.integration.channels.graph_server``); the speech and vision engines are the fakes
of their ports, put in through the container.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from dependency_injector import providers

from adapters.memory.audio import FakeAudioConverter
from adapters.memory.speech import FakeSpeechToText, FakeTextToSpeech, tone
from adapters.memory.vision import FakeImageUnderstanding
from entrypoints.container import Container
from entrypoints.wiring.channels import media_links
from talia_core.assistants.definition import Definition
from talia_core.conversations.jobs import UNDERSTAND_JOB
from talia_core.conversations.vocabulary import Channel
from talia_core.identity.model import Role
from talia_core.shared.errors import CapabilityNotConfigured, ExternalServiceUnavailable
from talia_core.shared.jobs import JobStatus, job_id_for
from tests.api import Api, open_api, settings_for_tests
from tests.channels import CHANNELS, meta_signature, whatsapp_media
from tests.conftest import Engines
from tests.databases import BACKENDS, empty_tables
from tests.integration.channels.graph_server import FakeGraph

WEBHOOK = "/api/whatsapp/webhook"
VERSION = "v21.0"
VOICE = tone(0.6)
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@attrs.define
class Perception:
    hearing: FakeSpeechToText = attrs.field(factory=FakeSpeechToText)
    seeing: FakeImageUnderstanding = attrs.field(
        factory=lambda: FakeImageUnderstanding("una torta de bodas")
    )
    speech: FakeTextToSpeech = attrs.field(factory=FakeTextToSpeech)
    converter: FakeAudioConverter = attrs.field(factory=FakeAudioConverter)

    def install(self, container: Container) -> None:
        gateways = container.gateways
        gateways.speech_to_text.override(providers.Object(self.hearing))
        gateways.image_understanding.override(providers.Object(self.seeing))
        gateways.text_to_speech.override(providers.Object(self.speech))
        gateways.audio_converter.override(providers.Object(self.converter))


@attrs.frozen
class Shop:
    api: Api
    graph: FakeGraph
    engines: Perception


@pytest.fixture(params=BACKENDS)
async def shop(
    request: pytest.FixtureRequest, engines: Engines, tmp_path: Path
) -> AsyncIterator[Shop]:
    engine = await engines.get(request.param)
    graph = FakeGraph(
        token=CHANNELS["whatsapp_access_token"],
        phone_number_id=CHANNELS["whatsapp_phone_number_id"],
        version=VERSION,
    )
    await graph.start()
    perception = Perception()
    settings = settings_for_tests(
        engine.url.render_as_string(hide_password=False),
        channels=CHANNELS | {"whatsapp_api_url": graph.base_url, "whatsapp_api_version": VERSION},
        storage={"local_dir": str(tmp_path / "media")},
        jobs={
            "retry_attempts": 2,
            "retry_base_delay_seconds": 0.001,
            "retry_max_delay_seconds": 0.005,
        },
    )
    try:
        async with open_api(settings, prepare=perception.install) as opened:
            yield Shop(opened, graph, perception)
    finally:
        await graph.close()
        await empty_tables(engine)


async def entry_assistant(api: Api, *, voice_replies: bool = False) -> str:
    definition = Definition(
        provider="offline",
        model="rules",
        instructions="Atiende a los clientes de la tienda.",
        tools=("handoff_to_human",),
        channels=(Channel.WHATSAPP.value,),
        voice_replies=voice_replies,
    )
    assistants = api.container.use_cases.assistants()
    return (await assistants.create("recepcion", definition, by="tests")).id


async def run_jobs(api: Api) -> None:
    runner = api.container.use_cases.job_runner()
    while await runner.run_due(100):
        pass


async def receive(shop: Shop, kind: str, content: bytes, mime: str, **fields: Any) -> None:
    media_id = f"{kind}-{len(shop.graph.requests)}"
    shop.graph.serve_media(media_id, content, mime)
    body = whatsapp_media(kind, media_id, mime, content=content, **fields)
    answer = await shop.api.client.post(WEBHOOK, content=body, headers=meta_signature(body))
    assert answer.status_code == 200, answer.text
    await run_jobs(shop.api)


async def agents_view(api: Api) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The conversation and its messages, oldest first, as an agent reads them."""
    _, agent = await api.user(Role.AGENT)
    [conversation] = (await api.client.get("/api/conversations", headers=agent)).json()["items"]
    listed = await api.client.get(
        f"/api/conversations/{conversation['id']}/messages", headers=agent
    )
    assert listed.status_code == 200, listed.text
    return conversation, listed.json()["items"][::-1]


async def test_a_voice_note_is_transcribed_answered_and_its_words_shown_to_agents(
    shop: Shop,
) -> None:
    await entry_assistant(shop.api)
    shop.engines.hearing.will_hear("quiero hablar con un asesor")

    await receive(shop, "audio", VOICE, "audio/ogg; codecs=opus", message_id="wamid.voice.1")

    conversation, messages = await agents_view(shop.api)
    voice = messages[0]
    assert (voice["type"], voice["transcript"], voice["understanding"]) == (
        "audio",
        "quiero hablar con un asesor",
        "understood",
    )
    assert voice["media"]["file_key"] is not None
    assert conversation["status"] == "human"  # the turn read the words: it asked for a person
    assert [m["author"] for m in messages] == ["contact", "bot"]
    assert [s["type"] for s in shop.graph.sent] == ["text"]


async def test_a_photo_is_described_its_caption_kept_and_answered(shop: Shop) -> None:
    await entry_assistant(shop.api)

    await receive(
        shop, "image", PHOTO, "image/png", message_id="wamid.photo.1", caption="¿cuánto cuesta?"
    )

    _, messages = await agents_view(shop.api)
    photo = messages[0]
    assert (photo["text"], photo["transcript"]) == ("¿cuánto cuesta?", "una torta de bodas")
    assert [m["author"] for m in messages] == ["contact", "bot"]
    assert len(shop.graph.sent) == 1


async def test_with_speech_recognition_down_the_customer_is_answered_and_a_retry_fills_the_words(
    shop: Shop,
) -> None:
    await entry_assistant(shop.api)
    shop.engines.hearing.fail_with(ExternalServiceUnavailable("speech", "down"))

    await receive(shop, "audio", VOICE, "audio/ogg", message_id="wamid.voice.2")

    _, messages = await agents_view(shop.api)
    assert (messages[0]["transcript"], messages[0]["understanding"]) == (None, "not_understood")
    assert messages[0]["media"]["file_key"] is not None
    assert [m["author"] for m in messages] == ["contact", "bot"]

    shop.engines.hearing.fail_with(None)
    shop.engines.hearing.will_hear("ya me escuchan")
    await retry_now(shop.api, messages[0]["id"])

    _, messages = await agents_view(shop.api)
    assert (messages[0]["transcript"], messages[0]["understanding"]) == (
        "ya me escuchan",
        "understood",
    )
    assert [m["author"] for m in messages] == ["contact", "bot"]


async def retry_now(api: Api, message_id: str) -> None:
    """The transcription's retry, due in a minute, made due now and run."""
    async with api.container.gateways.unit_of_work() as uow:
        job = await uow.jobs.get(job_id_for(f"{UNDERSTAND_JOB}:{message_id}"))
        assert job.status is JobStatus.PENDING
        job.run_at = job.created_at
        await uow.jobs.update(job)
        await uow.commit()
    await run_jobs(api)


async def test_a_voice_note_is_answered_with_a_voice_note_uploaded_to_whatsapp(
    shop: Shop,
) -> None:
    await entry_assistant(shop.api, voice_replies=True)
    shop.engines.hearing.will_hear("hola")

    await receive(shop, "audio", VOICE, "audio/ogg", message_id="wamid.voice.3")

    _, messages = await agents_view(shop.api)
    reply = messages[-1]
    assert (reply["author"], reply["type"]) == ("bot", "audio")
    assert reply["text"] == shop.engines.speech.spoken[0]
    [sent] = shop.graph.sent
    [(media_id, uploaded)] = shop.graph.uploaded.items()
    assert sent["audio"] == {"id": media_id}
    assert uploaded.mime_type == "audio/ogg"
    link = media_links(shop.api.container.settings()).link(reply["media"]["file_key"])
    path = link.removeprefix(CHANNELS["public_base_url"])
    served = await shop.api.client.get(path)
    assert (served.status_code, served.content) == (200, uploaded.content)
    assert (await shop.api.client.get(path[:-2] + "00")).status_code == 404


async def test_without_an_encoder_a_voice_reply_goes_out_as_text(shop: Shop) -> None:
    await entry_assistant(shop.api, voice_replies=True)
    shop.engines.converter.fail_with(CapabilityNotConfigured("audio conversion", "no encoder"))

    await receive(shop, "audio", VOICE, "audio/ogg", message_id="wamid.voice.4")

    _, messages = await agents_view(shop.api)
    reply = messages[-1]
    assert (reply["type"], reply["media"]) == ("text", None)
    assert [s["type"] for s in shop.graph.sent] == ["text"]
    assert shop.graph.sent[0]["text"]["body"] == reply["text"]
    assert shop.graph.uploaded == {}


async def test_an_assistant_is_set_to_answer_voice_with_voice_in_a_new_version(
    shop: Shop,
) -> None:
    assistant_id = await entry_assistant(shop.api)
    _, admin = await shop.api.user(Role.ADMIN)

    changed = await shop.api.client.patch(
        f"/api/assistants/{assistant_id}",
        json={"voice_replies": True, "voice": "lucia"},
        headers=admin,
    )

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["version"], body["voice_replies"], body["voice"]) == (2, True, "lucia")
    refused = await shop.api.client.patch(
        f"/api/assistants/{assistant_id}", json={"voice_replies": None}, headers=admin
    )
    assert refused.status_code in (400, 422)
