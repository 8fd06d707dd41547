"""The contract every ``TokenCounter`` passes: the fake, the estimate and the exact counter of
OpenAI's models. A counter subclasses ``TokenCounterContract`` in a class whose name ends in
``Tests``, with a ``counter`` fixture (``tests/unit/assistants/test_token_counters.py``)."""

from __future__ import annotations

from talia_core.assistants.tokens import TokenCounter

MODEL = "gpt-4.1-mini"
MESSAGE = "Hola, ¿cuánto cuesta el plan Celebration? Quiero invitaciones para 120 personas."


class TokenCounterContract:
    def test_no_text_is_no_tokens(self, counter: TokenCounter) -> None:
        assert counter.count(MODEL, "") == 0

    def test_a_message_has_tokens(self, counter: TokenCounter) -> None:
        assert counter.count(MODEL, MESSAGE) > 0

    def test_more_words_never_count_fewer(self, counter: TokenCounter) -> None:
        words = MESSAGE.split()
        counts = [counter.count(MODEL, " ".join(words[:n])) for n in range(1, len(words) + 1)]

        assert counts == sorted(counts)
        assert counts[-1] > counts[0]

    def test_a_text_of_a_million_characters_is_counted(self, counter: TokenCounter) -> None:
        text = (MESSAGE + " ") * (1_000_000 // len(MESSAGE) + 1)

        assert counter.count(MODEL, text) > counter.count(MODEL, text[: len(text) // 2]) > 0

    def test_any_model_name_is_counted(self, counter: TokenCounter) -> None:
        assert counter.count("a-model-released-tomorrow", MESSAGE) > 0
