"""The contract every ``VoiceActivity`` passes: WebRTC's detector and the fake.

Subclass ``VoiceActivityContract`` and provide the fixture ``activity``. The speech is
Spanish said by espeak-ng, as a phone line carries it.
"""

from __future__ import annotations

import pytest

from talia_core.conversations.call_ports import VoiceActivity
from tests.audio import SILENCE, frames, spoken_on_the_line


class VoiceActivityContract:
    async def test_speech_is_heard_in_most_of_its_frames(self, activity: VoiceActivity) -> None:
        said = frames(await spoken_on_the_line("Buenos días, quisiera reservar una cita."))
        detector = activity.detector()

        heard = sum(detector.is_speech(frame) for frame in said)

        assert heard >= 0.6 * len(said)

    async def test_silence_is_not_speech(self, activity: VoiceActivity) -> None:
        detector = activity.detector()

        assert not any(detector.is_speech(SILENCE) for _ in range(100))

    @pytest.mark.parametrize("size", [0, 80, 159, 161, 320])
    async def test_a_frame_that_is_not_20_ms_is_not_speech(
        self, activity: VoiceActivity, size: int
    ) -> None:
        said = await spoken_on_the_line("Hola")

        assert not activity.detector().is_speech(said[800 : 800 + size])

    async def test_each_call_gets_its_own_detector(self, activity: VoiceActivity) -> None:
        assert activity.detector() is not activity.detector()
