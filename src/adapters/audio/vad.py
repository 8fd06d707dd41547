"""``VoiceActivity`` on WebRTC's voice activity detector (``webrtcvad-wheels``): each
20 ms frame of the phone line, decoded from μ-law, judged speech or not. One detector per
call: WebRTC's follows the line's noise from frame to frame."""

from __future__ import annotations

import webrtcvad

from adapters.audio.pcm import mulaw_to_pcm
from talia_core.conversations.call_ports import FRAME_MS, LINE_RATE
from talia_core.shared.errors import RuleViolated

FRAME_BYTES = LINE_RATE * FRAME_MS // 1000


class WebRtcVoiceActivity:
    def __init__(self, aggressiveness: int = 2) -> None:
        """``aggressiveness``: 0 (hears speech in the most) to 3 (the least)."""
        if aggressiveness not in range(4):
            raise RuleViolated("aggressiveness is 0 to 3", {"aggressiveness": "0..3"})
        self._aggressiveness = aggressiveness

    def detector(self) -> WebRtcSpeechDetector:
        return WebRtcSpeechDetector(webrtcvad.Vad(self._aggressiveness))


class WebRtcSpeechDetector:
    def __init__(self, vad: webrtcvad.Vad) -> None:
        self._vad = vad

    def is_speech(self, frame: bytes) -> bool:
        """A frame that is not 20 ms long is no speech (WebRTC takes only 10, 20 or 30 ms)."""
        if len(frame) != FRAME_BYTES:
            return False
        return bool(self._vad.is_speech(mulaw_to_pcm(frame), LINE_RATE))
