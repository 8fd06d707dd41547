"""A model's answer too long for one message, or with control characters, still reaches the
customer: in parts cut where a reader would cut, cleaned, nothing lost but the unsendable."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from talia_core.conversations.outgoing import sendable_parts
from talia_core.conversations.vocabulary import Channel
from talia_core.shared.jobs import JobStatus
from tests.unit.conversations.conftest import World, whatsapp


def _visible(text: str) -> str:
    return "".join(text.split())


def test_a_short_answer_is_one_part_as_it_was() -> None:
    assert sendable_parts("  Hola, ¿en qué le ayudo?\n", 4096) == ["Hola, ¿en qué le ayudo?"]


def test_a_long_answer_is_cut_between_paragraphs_then_sentences() -> None:
    first, second = "Primero. " * 30, "Segundo. " * 30

    parts = sendable_parts(f"{first.strip()}\n\n{second.strip()}", 400)

    assert parts == [first.strip(), second.strip()]
    sentences = sendable_parts("Una frase corta. " * 40, 100)
    assert all(part.endswith(".") and len(part) <= 100 for part in sentences)


def test_control_characters_are_dropped_and_line_breaks_kept() -> None:
    assert sendable_parts("a\x00b\x1b[1mc\td\ne", 100) == ["ab[1mc\td\ne"]


def test_an_answer_of_nothing_sendable_has_no_parts() -> None:
    assert sendable_parts(" \x00\x07 \n", 100) == []


@given(st.text(max_size=3000), st.integers(min_value=8, max_value=500))
def test_every_part_fits_and_only_whitespace_and_control_characters_are_lost(
    text: str, limit: int
) -> None:
    parts = sendable_parts(text, limit)

    assert all(0 < len(part) <= limit and part == part.strip() for part in parts)
    kept = _visible("".join(parts))
    assert kept == _visible(sendable_parts(text, 10**6)[0]) if parts else kept == ""


async def test_an_answer_longer_than_a_message_goes_out_in_parts(world: World) -> None:
    long = "Le cuento. " * 800  # the assistant answers with it: 8,811 characters
    await world.receive(whatsapp(long))

    await world.run_jobs()

    sent = [o.text or "" for o in world.senders[Channel.WHATSAPP].sent]
    assert len(sent) == 3
    assert all(len(text) <= 4096 for text in sent)
    assert _visible("".join(sent)) == _visible(f"answering: {long}")
    assert (await world.runner.counts()).get(JobStatus.DEAD, 0) == 0
