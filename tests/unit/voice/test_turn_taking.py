"""A call's turn-taking frame by frame: utterances, barge-in, what the caller heard."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talia_core.conversations.voice_call import CallFloor, Floor, Heard, TurnTaking, Utterance
from talia_core.shared.errors import RuleViolated

POLICY = TurnTaking(frame_ms=20, end_of_speech_ms=200, min_speech_ms=100, pre_roll_ms=40)
VOICE, QUIET = b"v" * 160, b"q" * 160


def feed(floor: CallFloor, pattern: str) -> list[Utterance | Heard]:
    """``pattern``: one character a frame, ``#`` speech and ``.`` silence."""
    events = []
    for mark in pattern:
        event = floor.hear(VOICE if mark == "#" else QUIET, mark == "#")
        if event is not None:
            events.append(event)
    return events


def test_speech_followed_by_enough_silence_is_an_utterance_with_its_pre_roll() -> None:
    floor = CallFloor(POLICY)

    [utterance] = feed(floor, "...#####" + "." * 10)

    assert isinstance(utterance, Utterance)
    assert utterance.speech_ms == 100
    assert utterance.audio == QUIET * 2 + VOICE * 5 + QUIET * 10


def test_a_pause_shorter_than_the_end_of_speech_keeps_the_utterance_going() -> None:
    floor = CallFloor(POLICY)

    events = feed(floor, "###" + "." * 9 + "###" + "." * 10)

    assert [e.speech_ms for e in events if isinstance(e, Utterance)] == [120]


def test_a_cough_is_not_an_utterance() -> None:
    assert feed(CallFloor(POLICY), "....####" + "." * 20) == []


def test_an_utterance_without_pause_ends_at_its_longest() -> None:
    floor = CallFloor(TurnTaking(max_utterance_ms=1000))

    events = feed(floor, "#" * 60)

    assert [e.speech_ms for e in events if isinstance(e, Utterance)] == [1000]


def test_the_caller_hears_an_answer_part_by_part_as_its_marks_come_back() -> None:
    floor = CallFloor(POLICY)
    floor.begin_answer()
    first, second = floor.speak("Hola."), floor.speak("¿En qué le ayudo?")

    assert floor.all_sent() is None
    assert floor.played(first) is None
    heard = floor.played(second)

    assert heard == Heard(("Hola.", "¿En qué le ayudo?"))
    assert floor.floor is Floor.LISTENING


def test_barging_in_keeps_only_the_parts_already_played() -> None:
    floor = CallFloor(POLICY)
    floor.begin_answer()
    first = floor.speak("Tenemos tres planes.")
    second = floor.speak("El básico cuesta cien soles.")
    floor.all_sent()
    floor.played(first)

    [heard, utterance] = feed(floor, "######" + "." * 10)

    assert heard == Heard(("Tenemos tres planes.",), interrupted=True)
    assert isinstance(utterance, Utterance)
    assert floor.played(second) is None  # cleared from the line: never heard


def test_a_cough_during_the_answer_does_not_interrupt_it() -> None:
    floor = CallFloor(POLICY)
    floor.begin_answer()
    mark = floor.speak("Tenemos tres planes.")
    floor.all_sent()

    assert feed(floor, "####" + "." * 12) == []
    assert floor.played(mark) == Heard(("Tenemos tres planes.",))


def test_speech_while_the_answer_is_prepared_drops_it_unheard() -> None:
    floor = CallFloor(POLICY)
    floor.begin_answer()

    [heard] = feed(floor, "#####")

    assert heard == Heard((), interrupted=True)
    assert floor.floor is Floor.LISTENING


def test_an_answer_with_nothing_to_say_settles_when_sent() -> None:
    floor = CallFloor(POLICY)
    floor.begin_answer()

    assert floor.all_sent() == Heard(())


def test_marks_of_an_older_answer_are_not_this_one_s() -> None:
    floor = CallFloor(POLICY)
    floor.begin_answer()
    old = floor.speak("Hola.")
    floor.begin_answer()
    floor.speak("Adiós.")

    assert floor.played(old) is None


def test_hanging_up_mid_answer_keeps_what_was_heard() -> None:
    floor = CallFloor(POLICY)
    floor.begin_answer()
    first = floor.speak("Uno.")
    floor.speak("Dos.")
    floor.played(first)

    assert floor.hang_up() == Heard(("Uno.",), interrupted=True)
    assert floor.hang_up() is None


@pytest.mark.parametrize("field", ["frame_ms", "end_of_speech_ms", "min_speech_ms"])
def test_a_policy_of_no_time_is_refused(field: str) -> None:
    with pytest.raises(RuleViolated):
        TurnTaking(**{field: 0})


@given(
    parts=st.integers(1, 6),
    played=st.integers(0, 6),
    burst=st.integers(0, 12),
)
def test_what_was_heard_is_always_the_parts_played_in_order_and_short_bursts_never_interrupt(
    parts: int, played: int, burst: int
) -> None:
    floor = CallFloor(POLICY)
    floor.begin_answer()
    marks = [floor.speak(f"parte {n}.") for n in range(parts)]
    floor.all_sent()
    settled = [floor.played(mark) for mark in marks[: min(played, parts)]]

    events = feed(floor, "#" * burst + "." * 12)

    heard = [e for e in [*settled, *events] if isinstance(e, Heard)]
    expected = tuple(f"parte {n}." for n in range(min(played, parts)))
    if played >= parts:
        assert heard == [Heard(expected)]
    elif burst * 20 >= POLICY.min_speech_ms:
        assert heard == [Heard(expected, interrupted=True)]
    else:
        assert heard == []
        assert floor.floor is Floor.SPEAKING
