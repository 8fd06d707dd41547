"""The voice channel's adapters: Twilio's call transfers behind their runner, the voice
activity detector, the stream tokens and the turn-taking policy, from the settings."""

from __future__ import annotations

from datetime import timedelta

import httpx

from adapters.audio.vad import WebRtcVoiceActivity
from adapters.channels.twilio_voice.tokens import StreamTokens
from adapters.channels.twilio_voice.transfers import TwilioCallTransfers
from adapters.resilience import BreakerBoard, resilient
from entrypoints.settings import Settings
from entrypoints.wiring.policies import runner
from talia_core.conversations.call_ports import FRAME_MS, CallTransfers, VoiceActivity
from talia_core.conversations.voice_call import TurnTaking
from talia_core.shared.clock import Clock


def call_transfers(
    settings: Settings, client: httpx.AsyncClient, board: BreakerBoard
) -> CallTransfers:
    """Never repeated by the runner: a transfer that timed out may have put the call through."""
    channels = settings.channels
    transfers = TwilioCallTransfers(
        client,
        account_sid=channels.twilio_account_sid,
        auth_token=channels.twilio_auth_token.get_secret_value(),
        number=settings.voice.transfer_number,
        base_url=channels.twilio_api_url,
    )
    return resilient(
        transfers, runner("twilio_voice", board, settings), non_idempotent={"transfer"}
    )


def voice_activity(settings: Settings) -> VoiceActivity:
    return WebRtcVoiceActivity(settings.voice.vad_aggressiveness)


def stream_tokens(settings: Settings, clock: Clock) -> StreamTokens:
    return StreamTokens(
        settings.auth.jwt_secret.get_secret_value().encode(),
        clock,
        lifetime=timedelta(seconds=settings.voice.token_seconds),
    )


def turn_taking(settings: Settings) -> TurnTaking:
    voice = settings.voice
    return TurnTaking(
        frame_ms=FRAME_MS,
        end_of_speech_ms=voice.end_of_speech_ms,
        min_speech_ms=voice.min_speech_ms,
        max_utterance_ms=voice.max_utterance_ms,
    )
