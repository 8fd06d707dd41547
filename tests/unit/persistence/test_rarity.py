"""Past the budget, the rarer words of a question find the candidates of a full-text search."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.persistence.knowledge.rarity import rarer


def test_words_in_few_enough_chunks_together_all_find_the_candidates() -> None:
    assert rarer(["precio", "arequipa"], [400, 3], budget=1000) == ["precio", "arequipa"]


def test_past_the_budget_the_rarest_words_find_them_as_many_as_it_holds() -> None:
    words = ["precio", "envio", "arequipa", "cusco"]

    assert rarer(words, [1001, 700, 3, 250], budget=1000) == ["arequipa", "cusco", "envio"]


def test_the_rarest_word_finds_them_even_alone_over_the_budget() -> None:
    assert rarer(["precio", "invitacion"], [1001, 1001], budget=1000) == ["invitacion"]


@given(
    st.dictionaries(st.text("abcdef", min_size=1, max_size=8), st.integers(0, 1001), min_size=1),
    st.integers(1, 1000),
)
def test_the_chosen_words_are_the_questions_and_fit_the_budget_but_for_the_rarest(
    counts: dict[str, int], budget: int
) -> None:
    words = list(counts)

    chosen = rarer(words, [counts[w] for w in words], budget)

    assert chosen
    assert set(chosen) <= set(words)
    assert min(counts[w] for w in chosen) == min(counts.values())
    if len(chosen) > 1:
        assert sum(counts[w] for w in chosen) <= budget
