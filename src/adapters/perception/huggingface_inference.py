"""What the Hugging Face engines share: a model of Hugging Face's own inference
(``hf-inference``) asked through ``huggingface_hub``'s ``AsyncInferenceClient``, and what
its refusals mean.

The client is given the model's URL, ``{inference_url}/models/{model}``: given a bare model
id, it would first ask the Hub, blocking, which provider serves the model for which task.
Files go as the raw body with their ``Content-Type`` (the task takes no parameters then);
text as ``{"inputs": text, "parameters": {}}``. Each call opens and closes its own
client, as the language model's do. A 400 to a file is the file's fault (the pipeline
could not decode it: ``Malformed soundfile``, ``cannot identify image file``) and is
``NotMedia``; the rest reads as every Hugging Face error does
(``adapters.language.huggingface.failure_of``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx2
from huggingface_hub import AsyncInferenceClient
from huggingface_hub.errors import HfHubHTTPError

from adapters.language import failures
from adapters.language.huggingface import SERVICE, failure_of
from talia_core.shared.errors import ExternalServiceUnavailable, TaliaError
from talia_core.shared.media import NotMedia

ROUTER_INFERENCE_URL = "https://router.huggingface.co/hf-inference"
T = TypeVar("T")


class InferenceModel:
    """One model of one task; ``inference_url``: where the models are asked (the router's
    ``hf-inference``, or a server of its own speaking the same)."""

    def __init__(
        self,
        *,
        token: str,
        model: str,
        inference_url: str = ROUTER_INFERENCE_URL,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.token = token
        self.model = model
        self.url = f"{inference_url.rstrip('/')}/models/{model}"
        self.timeout_seconds = timeout_seconds

    def client(self, content_type: str | None = None) -> AsyncInferenceClient:
        """A client for one call; ``content_type``: the type of the file it sends."""
        headers = {"Content-Type": content_type} if content_type else None
        return AsyncInferenceClient(
            api_key=self.token, timeout=self.timeout_seconds, headers=headers
        )


def refusal(error: HfHubHTTPError | httpx2.HTTPError, *, sent_a_file: bool) -> TaliaError:
    """The core error a failed call means."""
    if (
        sent_a_file
        and isinstance(error, HfHubHTTPError)
        and error.response is not None
        and error.response.status_code == 400
    ):
        detail = error.server_message or "the file could not be decoded"
        return NotMedia(f"{SERVICE} could not read the file: {failures.shortened(detail)}")
    return failure_of(error)


async def ask(
    model: InferenceModel,
    task: Callable[[AsyncInferenceClient], Awaitable[T]],
    *,
    file_type: str | None = None,
) -> T:
    """What ``task`` answers on a client of its own; ``file_type``: the type of the file it
    sends. An answer not of the task's shape is unavailable."""
    async with model.client(file_type) as client:
        try:
            return await task(client)
        except (HfHubHTTPError, httpx2.HTTPError) as error:
            raise refusal(error, sent_a_file=file_type is not None) from error
        except (ValueError, TypeError, LookupError) as error:  # not the task's answer
            raise unreadable(error) from error


def unreadable(what: object) -> ExternalServiceUnavailable:
    return ExternalServiceUnavailable(
        SERVICE, f"an unreadable answer: {failures.shortened(str(what))}"
    )
