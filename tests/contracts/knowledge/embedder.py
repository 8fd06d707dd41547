"""The contract every ``Embedder`` passes: the fake, the model that runs here, and each
provider's adapter against a local server speaking its wire format.

How to add one: write a harness (any object with the attributes of ``EmbedderHarness``)
and subclass ``EmbedderContract`` in a class whose name ends in ``Tests``, with a
``harness`` fixture. An embedder whose provider can fail subclasses
``FallibleEmbedderContract`` with a ``FallibleEmbedderHarness``; one that calls its provider
over HTTP subclasses ``RemoteEmbedderContract`` with a ``RemoteEmbedderHarness`` and an
``unconfigured`` fixture (an embedder missing a setting it needs), and so also runs what the
network does to it:

    class OpenAIEmbedderTests(RemoteEmbedderContract):
        @pytest.fixture
        def harness(self, embeddings: FakeEmbeddings, ...) -> RemoteEmbedderHarness: ...

A local server answers vectors it is told to for the texts of the nearness test
(``QUESTION``, ``ANSWER``, ``UNRELATED``), as a model would; real models find them.
``tests/integration/embeddings/`` and ``tests/unit/knowledge/test_hashing_embedder.py`` are
the examples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import pytest

from talia_core.knowledge.model import TextRole
from talia_core.knowledge.ports import Embedder
from talia_core.shared.errors import ExternalServiceUnavailable, RequestRefused
from tests.fakeserver import refusing_port

QUESTION = "¿Cuánto cuesta el envío a Arequipa?"
ANSWER = "El envío a Arequipa cuesta 15 soles y llega en tres días hábiles."
UNRELATED = "Atendemos de lunes a viernes, de nueve de la mañana a seis de la tarde."
TEXTS = (
    "Los partes de boda se imprimen en papel de algodón.",
    "¿Puedo cambiar la fecha del evento después de pagar?",
    "El plan anual incluye invitaciones digitales ilimitadas.",
    "Aceptamos pagos con tarjeta, Yape y transferencia bancaria.",
    "Las devoluciones se piden dentro de los siete días siguientes a la compra.",
)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.hypot(*a) * math.hypot(*b))


def nearest(vector: Sequence[float], among: Sequence[Sequence[float]]) -> int:
    return max(range(len(among)), key=lambda i: cosine(vector, among[i]))


class EmbedderHarness(Protocol):
    @property
    def embedder(self) -> Embedder:
        """The embedder under test, pointed at the provider the harness controls."""
        ...


class FallibleEmbedderHarness(EmbedderHarness, Protocol):
    def go_down(self) -> None:
        """Make the provider fail the next call it gets (a 503 for a remote one)."""
        ...


class RemoteEmbedderHarness(FallibleEmbedderHarness, Protocol):
    """A harness over an embedder that calls its provider over HTTP."""

    @property
    def base_url(self) -> str:
        """Where the provider listens."""
        ...

    def embedder_at(self, base_url: str, *, timeout_seconds: float) -> Embedder:
        """An embedder set up like ``embedder``, calling ``base_url`` and waiting this long."""
        ...

    def embedder_in_batches_of(self, size: int) -> Embedder:
        """An embedder set up like ``embedder`` that sends at most ``size`` texts a request."""
        ...

    def go_silent(self) -> None:
        """Make the provider take the next request and never answer it."""
        ...

    def go_busy(self, status: int, retry_after: int) -> None:
        """Make the provider answer the next request with this status (429, 503) and
        ``Retry-After`` in seconds."""
        ...

    def refuse_next(self) -> None:
        """Make the provider refuse the next request as malformed (HTTP 400)."""
        ...

    def requests(self) -> int:
        """How many requests the provider got."""
        ...


class EmbedderContract:
    async def test_each_text_gets_its_own_vector_in_the_order_given(
        self, harness: EmbedderHarness
    ) -> None:
        together = await harness.embedder.embed(TEXTS)
        alone = [(await harness.embedder.embed([text]))[0] for text in TEXTS]

        assert len(together) == len(TEXTS)
        assert [nearest(vector, alone) for vector in together] == list(range(len(TEXTS)))

    async def test_every_vector_has_the_same_dimension(self, harness: EmbedderHarness) -> None:
        first = await harness.embedder.embed(TEXTS[:2])
        second = await harness.embedder.embed([QUESTION, ANSWER, UNRELATED])

        dimensions = {len(vector) for vector in first + second}
        assert len(dimensions) == 1
        assert dimensions.pop() > 0

    async def test_a_question_is_nearer_its_answer_than_an_unrelated_text(
        self, harness: EmbedderHarness
    ) -> None:
        [question] = await harness.embedder.embed([QUESTION], TextRole.QUERY)
        answer, unrelated = await harness.embedder.embed([ANSWER, UNRELATED], TextRole.PASSAGE)

        assert cosine(question, answer) > cosine(question, unrelated)

    async def test_no_texts_get_no_vectors(self, harness: EmbedderHarness) -> None:
        assert await harness.embedder.embed([]) == []

    async def test_the_model_names_the_vector_space(self, harness: EmbedderHarness) -> None:
        assert harness.embedder.model.strip()


class FallibleEmbedderContract(EmbedderContract):
    async def test_a_provider_that_is_down_is_unavailable_and_the_next_call_goes_through(
        self, harness: FallibleEmbedderHarness
    ) -> None:
        harness.go_down()

        with pytest.raises(ExternalServiceUnavailable):
            await harness.embedder.embed(TEXTS)
        assert len(await harness.embedder.embed(TEXTS)) == len(TEXTS)


class RemoteEmbedderContract(FallibleEmbedderContract):
    """What the network does to an embedder that calls its provider over HTTP.

    Besides ``harness``, the subclass provides ``unconfigured``: an embedder missing a
    setting it needs.
    """

    async def test_no_texts_ask_nothing_of_the_provider(
        self, harness: RemoteEmbedderHarness
    ) -> None:
        assert await harness.embedder.embed([]) == []

        assert harness.requests() == 0

    @pytest.mark.parametrize("status", [429, 503])
    async def test_a_busy_provider_says_when_to_come_back(
        self, harness: RemoteEmbedderHarness, status: int
    ) -> None:
        harness.go_busy(status, retry_after=7)

        with pytest.raises(ExternalServiceUnavailable) as unavailable:
            await harness.embedder.embed(TEXTS)

        assert unavailable.value.retry_after_seconds == 7

    async def test_a_provider_that_never_answers_times_out_as_unavailable(
        self, harness: RemoteEmbedderHarness
    ) -> None:
        harness.go_silent()
        embedder = harness.embedder_at(harness.base_url, timeout_seconds=0.2)

        with pytest.raises(ExternalServiceUnavailable, match="timed out"):
            await embedder.embed(TEXTS)

    async def test_a_provider_that_cannot_be_reached_is_unavailable(
        self, harness: RemoteEmbedderHarness
    ) -> None:
        with refusing_port() as port:
            embedder = harness.embedder_at(f"http://127.0.0.1:{port}", timeout_seconds=5.0)

            with pytest.raises(ExternalServiceUnavailable, match="ConnectError"):
                await embedder.embed(TEXTS)

    async def test_a_request_the_provider_refuses_is_refused_not_unavailable(
        self, harness: RemoteEmbedderHarness
    ) -> None:
        harness.refuse_next()

        with pytest.raises(RequestRefused):
            await harness.embedder.embed(TEXTS)

    async def test_an_unconfigured_embedder_is_unavailable_without_calling_the_provider(
        self, harness: RemoteEmbedderHarness, unconfigured: Embedder
    ) -> None:
        with pytest.raises(ExternalServiceUnavailable, match="not configured"):
            await unconfigured.embed(TEXTS)

        assert harness.requests() == 0

    async def test_many_texts_go_in_several_requests_and_come_back_in_order(
        self, harness: RemoteEmbedderHarness
    ) -> None:
        alone = await harness.embedder.embed(TEXTS)
        before = harness.requests()

        together = await harness.embedder_in_batches_of(2).embed(TEXTS)

        assert harness.requests() - before == 3
        assert [nearest(vector, alone) for vector in together] == list(range(len(TEXTS)))
