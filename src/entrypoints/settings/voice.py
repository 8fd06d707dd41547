"""Phone calls through Twilio Media Streams (``TALIA_VOICE__*``): turn-taking, the voice
activity detector, the stream's token and where a call is put through to a person. The
channel needs Twilio's credentials (``TALIA_CHANNELS__TWILIO_*``) and, behind a proxy, the
public base URL the stream's address is built from; calls are heard and answered in
``TALIA_CHANNELS__SPEECH_LANGUAGE``."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field


class VoiceSettings(BaseModel):
    end_of_speech_ms: Annotated[int, Field(ge=100, le=5000)] = Field(
        600, description="The caller's silence that ends an utterance."
    )
    min_speech_ms: Annotated[int, Field(ge=20, le=3000)] = Field(
        300,
        description="Shorter speech (a cough, an 'mm-hm') neither interrupts the answer "
        "nor is taken as something said.",
    )
    max_utterance_ms: Annotated[int, Field(ge=1000, le=120_000)] = Field(
        30_000, description="An utterance this long is answered even without a pause."
    )
    vad_aggressiveness: Annotated[int, Field(ge=0, le=3)] = Field(
        2,
        description="WebRTC's voice activity detector: 0 hears speech in the most "
        "sounds, 3 in the fewest (noisy lines).",
    )
    greeting: str = Field(
        "Hola, gracias por llamar. ¿En qué le puedo ayudar?",
        max_length=500,
        description="What a call opens with when the assistant that answers calls has no "
        "'greeting' variable in its definition.",
    )
    transfer_number: str = Field(
        "",
        max_length=32,
        description="Where handoff_to_human puts a call through to (+51...); empty: the "
        "conversation still goes to the agents, and the assistant stops answering the call.",
    )
    token_seconds: Annotated[int, Field(ge=5, le=3600)] = Field(
        60,
        description="How long the stream token the voice webhook mints is good for: Twilio "
        "opens the stream within a second or two.",
    )
