"""What the settings choose, as the keys of the container's selectors.

Not ``settings.provided.payments.provider``: ``provider`` is an attribute of a provider
itself, so each key is read by a function.
"""

from __future__ import annotations

from pathlib import Path

from entrypoints.settings import JobBackend, Settings, ThrottleBackend

DEMO_ASSISTANT = Path(__file__).resolve().parent.parent / "demo_assistant.json"


def payment_provider(settings: Settings) -> str:
    return settings.payments.provider.value


def storage_provider(settings: Settings) -> str:
    return settings.storage.provider.value


def assistant_provider(settings: Settings) -> str:
    return settings.assistant.provider.value


def job_backend(settings: Settings) -> str:
    return settings.jobs.backend.value


def live_backend(settings: Settings) -> str:
    """Several processes need Redis to reach the socket's process; one process does not."""
    return "redis" if settings.jobs.backend is JobBackend.SAQ else "memory"


def uses_redis(settings: Settings) -> bool:
    """The job queue (and with it the live feed) or the login throttle lives on Redis."""
    return (
        settings.jobs.backend is JobBackend.SAQ
        or settings.auth.throttle_backend is ThrottleBackend.REDIS
    )


def izipay_ipn_url(settings: Settings) -> str | None:
    return settings.payments.izipay_ipn_url or None


def assistant_definition(settings: Settings) -> Path:
    return Path(settings.assistant.definition) if settings.assistant.definition else DEMO_ASSISTANT
