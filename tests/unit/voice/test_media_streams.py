"""Twilio Media Streams' messages read strictly, the line back, the stream's token and TwiML."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from xml.etree import ElementTree

import pytest

from adapters.channels.twilio_voice import stream, twiml
from adapters.channels.twilio_voice.tokens import StreamTokens
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import Malformed

START = {
    "event": "start",
    "sequenceNumber": "1",
    "start": {
        "accountSid": "AC123",
        "streamSid": "MZ123",
        "callSid": "CA123",
        "tracks": ["inbound"],
        "customParameters": {"token": "t", "caller": "+51987654321"},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
    },
    "streamSid": "MZ123",
}


def media(audio: bytes) -> str:
    payload = base64.b64encode(audio).decode()
    return json.dumps(
        {
            "event": "media",
            "sequenceNumber": "3",
            "media": {"track": "inbound", "chunk": "1", "timestamp": "5", "payload": payload},
            "streamSid": "MZ123",
        }
    )


def test_twilio_s_messages_are_read() -> None:
    assert stream.parse(json.dumps(START)) == stream.Started(
        "MZ123", "CA123", {"token": "t", "caller": "+51987654321"}
    )
    assert stream.parse(media(b"\xff" * 160)) == stream.Media(b"\xff" * 160)
    mark = {"event": "mark", "streamSid": "MZ123", "mark": {"name": "1.1"}}
    assert stream.parse(json.dumps(mark)) == stream.Marked("1.1")
    stop = {"event": "stop", "stop": {"accountSid": "AC123", "callSid": "CA123"}}
    assert stream.parse(json.dumps(stop)) == stream.Stopped()
    connected = {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    assert stream.parse(json.dumps(connected)) == stream.Ignored("connected")


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        json.dumps({"event": "dance"}),
        json.dumps({"event": "media", "media": {"payload": "***"}}),
        json.dumps({"event": "media", "media": {"payload": ""}}),
        json.dumps({"event": "media"}),
        json.dumps({"event": "mark", "mark": {}}),
        json.dumps({"event": "start", "start": {"streamSid": "MZ1"}}),
        json.dumps({**START, "start": {**START["start"], "mediaFormat": {"encoding": "L16"}}}),
        json.dumps({**START, "start": {**START["start"], "customParameters": {"n": 1}}}),
        media(b"\xff" * 2000),
        "x" * 20_000,
    ],
)
def test_what_is_not_media_streams_json_is_malformed(text: str) -> None:
    with pytest.raises(Malformed):
        stream.parse(text)


async def test_the_line_sends_audio_in_20_ms_media_messages_then_a_mark() -> None:
    sent: list[dict[str, object]] = []

    async def send(text: str) -> None:
        sent.append(json.loads(text))

    line = stream.TwilioCallLine("MZ123", send)
    await line.play(bytes(range(200)) * 2)
    await line.mark("1.1")
    await line.clear()

    payloads = [base64.b64decode(m["media"]["payload"]) for m in sent[:-2]]
    assert [len(p) for p in payloads] == [160, 160, 80]
    assert b"".join(payloads) == bytes(range(200)) * 2
    assert {m["streamSid"] for m in sent} == {"MZ123"}
    assert sent[-2] == {"event": "mark", "streamSid": "MZ123", "mark": {"name": "1.1"}}
    assert sent[-1] == {"event": "clear", "streamSid": "MZ123"}


def test_a_stream_token_is_good_for_its_call_and_caller_until_it_expires() -> None:
    clock = FakeClock()
    tokens = StreamTokens(b"secret", clock, lifetime=timedelta(seconds=60))
    token = tokens.mint("CA1", "+51987654321")

    assert tokens.valid(token, "CA1", "+51987654321")
    assert not tokens.valid(token, "CA2", "+51987654321")
    assert not tokens.valid(token, "CA1", "+51900000000")
    assert not tokens.valid(token[:-2] + "xx", "CA1", "+51987654321")
    assert not tokens.valid(None, "CA1", "+51987654321")
    assert not StreamTokens(b"other", clock, lifetime=timedelta(seconds=60)).valid(
        token, "CA1", "+51987654321"
    )
    clock.advance(timedelta(seconds=61))
    assert not tokens.valid(token, "CA1", "+51987654321")


def test_the_twiml_connects_the_call_to_the_stream_with_its_parameters() -> None:
    document = twiml.connect_stream(
        twiml.stream_url("https://talia.example.com/"), {"token": 'a"b', "caller": "+51"}
    )

    root = ElementTree.fromstring(document)
    stream_element = root.find("./Connect/Stream")
    assert stream_element is not None
    assert stream_element.get("url") == "wss://talia.example.com/api/voice/stream"
    assert {p.get("name"): p.get("value") for p in stream_element.findall("Parameter")} == {
        "token": 'a"b',
        "caller": "+51",
    }
    assert twiml.dial("+51 1 234<5>") == "<Response><Dial>+51 1 234&lt;5&gt;</Dial></Response>"
