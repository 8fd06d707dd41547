"""The ``VoiceActivity`` contract on WebRTC's detector and on the fake."""

from __future__ import annotations

import pytest

from adapters.audio.vad import WebRtcVoiceActivity
from adapters.memory.voice import FakeVoiceActivity
from talia_core.shared.errors import RuleViolated
from tests.contracts.voice.voice_activity import VoiceActivityContract


class WebRtcVoiceActivityTests(VoiceActivityContract):
    @pytest.fixture(params=[0, 2, 3])
    def activity(self, request: pytest.FixtureRequest) -> WebRtcVoiceActivity:
        return WebRtcVoiceActivity(request.param)


class FakeVoiceActivityTests(VoiceActivityContract):
    @pytest.fixture
    def activity(self) -> FakeVoiceActivity:
        return FakeVoiceActivity()


@pytest.mark.parametrize("aggressiveness", [-1, 4])
def test_an_aggressiveness_webrtc_does_not_have_is_refused(aggressiveness: int) -> None:
    with pytest.raises(RuleViolated):
        WebRtcVoiceActivity(aggressiveness)
