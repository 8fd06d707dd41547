"""The adapters of the composition root (``Container.gateways``): each port's adapter as
configured, every outbound one behind its resilience runner, and the clients they share."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from dependency_injector import containers, providers

from adapters.assistant.definition import load_definition
from adapters.assistant.greetings import DefinitionCallGreetings
from adapters.assistant.offline import OfflineAssistant
from adapters.channels.webchat import InProcessLiveFeed, RedisLiveFeed
from adapters.documents.extractor import LocalTextExtractor
from adapters.files.local import LocalFileStore
from adapters.language.bpe import BpeTokenCounter
from adapters.media.pillow import PillowImageProcessor
from adapters.payments.izipay import IzipayPaymentGateway
from adapters.payments.sandbox import SandboxPaymentGateway
from adapters.persistence.inbox import SqlAlchemyInbox
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from adapters.resilience import BreakerBoard, resilient
from adapters.security.common_passwords import ZxcvbnCommonPasswords
from adapters.security.passwords import Argon2PasswordHasher
from adapters.security.tokens import JwtAccessTokens
from adapters.security.webchat_tokens import WebChatTokens
from adapters.throttle.fallback import FallbackAttemptStore
from adapters.throttle.memory import InMemoryAttemptStore
from entrypoints.settings import Settings
from entrypoints.wiring import (
    channels,
    choices,
    clients,
    email,
    knowledge,
    language,
    notifications,
    perception,
    policies,
    probes,
    storage,
    throttle,
    voice,
)
from entrypoints.wiring.scheduling import (
    ics_feed,
    local_calendar,
    selected_calendar,
)

SANDBOX_PAY_PATH = "/sandbox/payments/"


class Gateways(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()

    breakers = providers.Singleton(BreakerBoard)
    unit_of_work = providers.Factory(SqlAlchemyUnitOfWork, engine=core.engine)
    common_passwords = providers.Singleton(ZxcvbnCommonPasswords)
    password_hasher = providers.Singleton(
        Argon2PasswordHasher,
        time_cost=settings.provided.auth.argon2_time_cost,
        memory_cost=settings.provided.auth.argon2_memory_kib,
    )
    access_tokens = providers.Singleton(
        JwtAccessTokens,
        secret=settings.provided.auth.jwt_secret.get_secret_value.call(),
        issuer=settings.provided.auth.jwt_issuer,
        algorithm=settings.provided.auth.jwt_algorithm,
    )
    redis = providers.Singleton(clients.redis_client, settings)
    redis_lifetime = providers.Resource(clients.redis_lifetime, settings, redis.provider)
    attempt_store = providers.Selector(
        settings.provided.auth.throttle_backend.value,
        memory=providers.Singleton(InMemoryAttemptStore, clock=core.clock),
        redis=providers.Singleton(
            FallbackAttemptStore,
            providers.Singleton(
                resilient,
                providers.Singleton(throttle.redis_attempt_store, redis),
                providers.Singleton(policies.runner, "redis", breakers, settings),
                non_idempotent={"hit", "take_back"},
            ),
            providers.Singleton(InMemoryAttemptStore, clock=core.clock),
        ),
    )
    ftp_files = providers.Singleton(storage.ftp_file_store, settings)
    ftp_files_lifetime = providers.Resource(
        storage.ftp_connections_lifetime, settings, ftp_files.provider
    )
    files_probe = providers.Singleton(storage.file_store_probe, settings, ftp_files.provider)
    probes = providers.Singleton(
        probes.readiness_probes, settings, core.engine, redis.provider, files_probe
    )
    outbound = providers.Singleton(clients.http_client, settings)
    outbound_lifetime = providers.Resource(clients.http_client_lifetime, outbound)
    inbox = providers.Singleton(SqlAlchemyInbox, core.engine)
    inbox_lifetime = providers.Resource(clients.inbox_lifetime, inbox)
    files = providers.Selector(
        providers.Callable(choices.storage_provider, settings),
        local=providers.Singleton(
            LocalFileStore, providers.Factory(Path, settings.provided.storage.local_dir)
        ),
        ftp=providers.Singleton(
            resilient, ftp_files, providers.Singleton(policies.runner, "ftp", breakers, settings)
        ),
    )
    rules_assistant = providers.Singleton(
        OfflineAssistant,
        providers.Callable(
            load_definition, providers.Callable(choices.assistant_definition, settings)
        ),
    )
    live_feed = providers.Selector(
        providers.Callable(choices.live_backend, settings),
        memory=providers.Singleton(InProcessLiveFeed),
        redis=providers.Singleton(RedisLiveFeed, redis),
    )
    channel_senders = providers.Singleton(channels.channel_senders, settings, outbound, breakers)
    media_downloaders = providers.Singleton(
        channels.media_downloaders, settings, outbound, breakers
    )
    language_models = providers.Singleton(language.language_models, settings, outbound, breakers)
    openai_tokens = providers.Singleton(BpeTokenCounter)
    openai_tokens_loaded = providers.Resource(
        language.openai_tokens_loaded, openai_tokens, settings
    )
    token_counters = providers.Singleton(language.token_counters, openai_tokens)
    text_extractor = providers.Singleton(
        LocalTextExtractor, max_pages=settings.provided.knowledge.max_pages
    )
    embedder = providers.Singleton(knowledge.embedder, settings, outbound, breakers)
    image_processor = providers.Singleton(PillowImageProcessor)
    speech_to_text = providers.Singleton(perception.speech_to_text, settings, outbound, breakers)
    text_to_speech = providers.Singleton(perception.text_to_speech, settings, outbound, breakers)
    audio_converter = providers.Singleton(perception.audio_converter)
    image_understanding = providers.Singleton(
        perception.image_understanding, settings, outbound, breakers
    )
    sign_language_reader = providers.Singleton(perception.sign_language_reader, settings, breakers)
    database_calendar = providers.Singleton(local_calendar, core.engine, core.clock)
    calendar = providers.Singleton(
        selected_calendar, settings, database_calendar, outbound, breakers
    )
    calendar_feed = providers.Singleton(ics_feed, settings, database_calendar, core.clock)
    event_notifier = providers.Singleton(
        notifications.event_notifier, settings, outbound, breakers, core.clock
    )
    email_sender = providers.Singleton(email.email_sender, settings, breakers, core.clock)
    webchat_tokens = providers.Singleton(
        WebChatTokens,
        secret=providers.Callable(
            str.encode, settings.provided.auth.jwt_secret.get_secret_value.call()
        ),
        lifetime=providers.Factory(timedelta, days=settings.provided.channels.webchat_session_days),
    )
    payment_gateway = providers.Selector(
        providers.Callable(choices.payment_provider, settings),
        sandbox=providers.Singleton(
            SandboxPaymentGateway,
            secret=settings.provided.payments.sandbox_secret.get_secret_value.call(),
            pay_url=SANDBOX_PAY_PATH,
        ),
        izipay=providers.Singleton(
            resilient,
            providers.Singleton(
                IzipayPaymentGateway,
                outbound,
                base_url=settings.provided.payments.izipay_api_url,
                shop_id=settings.provided.payments.izipay_shop_id,
                password=settings.provided.payments.izipay_password.get_secret_value.call(),
                public_key=settings.provided.payments.izipay_public_key,
                ipn_url=providers.Callable(choices.izipay_ipn_url, settings),
            ),
            # A refund is idempotent per order: the gateway looks for one given before.
            providers.Singleton(policies.runner, "izipay", breakers, settings),
        ),
    )
    call_transfers = providers.Singleton(voice.call_transfers, settings, outbound, breakers)
    voice_activity = providers.Singleton(voice.voice_activity, settings)
    stream_tokens = providers.Singleton(voice.stream_tokens, settings, core.clock)
    call_greetings = providers.Singleton(
        DefinitionCallGreetings,
        unit_of_work.provider,
        otherwise=settings.provided.voice.greeting,
    )
