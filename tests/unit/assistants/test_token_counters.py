"""Token counters: the contract on the fake, the documented estimate and the exact counter of
OpenAI's models, and the exact counts the latter gives (tiktoken's, for the same encodings)."""

from __future__ import annotations

import pytest

from adapters.language.bpe import BpeTokenCounter
from adapters.memory.tokens import FakeTokenCounter
from talia_core.assistants.tokens import EstimatedTokenCounter, TokenCounter
from tests.contracts.assistants.token_counter import MESSAGE, TokenCounterContract


class FakeTokenCounterTests(TokenCounterContract):
    @pytest.fixture
    def counter(self) -> TokenCounter:
        return FakeTokenCounter()


class EstimatedTokenCounterTests(TokenCounterContract):
    @pytest.fixture
    def counter(self) -> TokenCounter:
        return EstimatedTokenCounter()


class BpeTokenCounterTests(TokenCounterContract):
    @pytest.fixture
    def counter(self) -> TokenCounter:
        return BPE


BPE = BpeTokenCounter()


def test_the_estimate_is_a_token_per_four_characters_rounded_up() -> None:
    assert [EstimatedTokenCounter().count("any", "x" * n) for n in (1, 4, 5, 80)] == [1, 1, 2, 20]


@pytest.mark.parametrize(
    ("model", "tokens"),
    [
        ("gpt-4.1-mini", 19),  # o200k_base
        ("gpt-4o", 19),
        ("gpt-4", 21),  # cl100k_base
        ("gpt-3.5-turbo", 21),
    ],
)
def test_openai_models_are_counted_exactly_with_their_encoding(model: str, tokens: int) -> None:
    assert BPE.count(model, MESSAGE) == tokens


def test_tiktokens_own_examples_give_its_counts() -> None:
    assert BPE.count("gpt-4", "tiktoken is great!") == 6
    assert BPE.count("gpt-4o", "hello world") == 2


@pytest.mark.parametrize(
    ("model", "like"),
    [
        ("gpt-4-turbo-2024-04-09", "gpt-4"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o"),
        ("gpt-3.5-turbo-16k", "gpt-3.5-turbo"),
        ("GPT-4.1-nano", "gpt-4.1"),
    ],
)
def test_a_dated_or_smaller_model_takes_the_encoding_of_the_name_it_extends(
    model: str, like: str
) -> None:
    assert BPE.count(model, MESSAGE) == BPE.count(like, MESSAGE)


@pytest.mark.parametrize("model", ["gpt-5", "o3", "text-davinci-003"])
def test_a_model_without_a_bundled_encoding_is_counted_with_o200k_base(model: str) -> None:
    assert BPE.count(model, MESSAGE) == BPE.count("o200k_base", MESSAGE) == 19
