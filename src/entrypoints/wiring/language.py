"""The language models of every provider, each remote one behind its own resilience runner,
and the exact token counters of those that have one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from adapters.assistant.definition import load_definition
from adapters.language.bpe import BpeTokenCounter
from adapters.language.huggingface import HuggingFaceLanguageModel
from adapters.language.offline import OfflineLanguageModel
from adapters.language.openai import OpenAIResponsesLanguageModel
from adapters.resilience import BreakerBoard, resilient
from entrypoints.settings import Settings
from entrypoints.wiring.capabilities import DEMO_MODELS
from entrypoints.wiring.choices import assistant_definition
from entrypoints.wiring.policies import runner
from talia_core.assistants.language import LanguageModel
from talia_core.assistants.tokens import TokenCounter


def language_models(
    settings: Settings, client: httpx.AsyncClient, board: BreakerBoard
) -> dict[str, LanguageModel]:
    """One model per provider, by the provider's name; a stream is retried only until its
    first piece arrives (the runner never repeats what the caller has started reading).
    The offline model calls nothing, so it needs no runner; it reads the definition file of
    the offline assistant (``TALIA_ASSISTANT__DEFINITION``)."""
    raw: dict[str, LanguageModel] = {
        "openai": OpenAIResponsesLanguageModel(
            client,
            api_key=settings.openai.api_key.get_secret_value(),
            base_url=settings.openai.base_url,
        ),
        "huggingface": HuggingFaceLanguageModel(
            token=settings.huggingface.token.get_secret_value(),
            base_url=settings.huggingface.base_url,
            timeout_seconds=settings.resilience.timeout_seconds,
        ),
    }
    models = {
        provider: resilient(model, runner(provider, board, settings))
        for provider, model in raw.items()
    }
    models["offline"] = OfflineLanguageModel(load_definition(assistant_definition(settings)))
    return models


def token_counters(openai: BpeTokenCounter) -> dict[str, TokenCounter]:
    """The exact counters of the providers that have one, by the provider's name; the turn
    estimates the others' (``talia_core.assistants.tokens``)."""
    return {"openai": openai}


async def openai_tokens_loaded(
    counter: BpeTokenCounter, settings: Settings
) -> AsyncIterator[BpeTokenCounter]:
    """With an OpenAI key, the tables of its default model are built at start-up on a
    thread: built by the first count, they would hold the event loop most of a second."""
    if settings.openai.api_key.get_secret_value():
        await asyncio.to_thread(counter.load, DEMO_MODELS["openai"])
    yield counter
