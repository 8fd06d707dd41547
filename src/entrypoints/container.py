"""The composition root: the only place that picks adapters and wires use cases.

Containers are split by role: ``Core`` (clock, database engine), ``Gateways`` (every
adapter, each outbound one behind its resilience runner: ``entrypoints.gateways``) and
``UseCases``. Engines and clients are Resources: opened by ``init_resources()`` in the app's
lifespan (or the bootstrap), closed by ``shutdown_resources()``; nothing is built at import
time. What takes more than a line to build is a builder of ``entrypoints.wiring``.
"""

from __future__ import annotations

from datetime import timedelta

from dependency_injector import containers, providers

from adapters.assistant.agents import AgentsAssistant
from adapters.jobs.worker import DatabaseJobQueue
from adapters.persistence.leads.criteria import DefinitionLeadCriteria
from entrypoints.gateways import Gateways
from entrypoints.settings import Settings
from entrypoints.wiring import channels as channel_links
from entrypoints.wiring import (
    choices,
    clients,
    email,
    jobs,
    policies,
)
from entrypoints.wiring import reminders as reminding
from entrypoints.wiring.capabilities import assistant_capabilities
from entrypoints.wiring.doorbell import Doorbell
from entrypoints.wiring.invitations import with_invitations
from entrypoints.wiring.leads import (
    business_time_zone,
    desk_announcements,
    lead_bookings,
    with_leads,
)
from entrypoints.wiring.scheduling import (
    reminder_lead,
    schedule_rules,
)
from entrypoints.wiring.tools import tool_catalogue
from talia_core.assistants.admin import AssistantAdmin
from talia_core.assistants.direct import DirectChat
from talia_core.assistants.evaluation import Evaluation
from talia_core.assistants.ledger import UsageLedger
from talia_core.assistants.turn import AgentTurns
from talia_core.catalog.services import CatalogService
from talia_core.commerce.cart_service import CartService
from talia_core.commerce.coupon_service import CouponService
from talia_core.commerce.order_service import OrderService
from talia_core.commerce.payment_service import PaymentService
from talia_core.conversations.calls import VoiceCalls
from talia_core.conversations.contact_book import ContactBook
from talia_core.conversations.desk import AgentDesk
from talia_core.conversations.inbox import InboxService
from talia_core.conversations.pipeline import ConversationPipeline
from talia_core.conversations.understanding import MediaUnderstanding
from talia_core.conversations.voicing import VoiceReplies
from talia_core.feedback.services import FeedbackService
from talia_core.identity.auth_service import AuthService
from talia_core.identity.login_throttle import LoginThrottle
from talia_core.identity.recovery import AccountRecovery
from talia_core.identity.user_admin_service import UserAdminService
from talia_core.invitations.media_processing import MediaProcessing
from talia_core.invitations.media_service import InvitationMediaService
from talia_core.invitations.public import PublicInvitations
from talia_core.invitations.rsvp_services import RsvpService
from talia_core.invitations.services import InvitationService
from talia_core.knowledge.chunking import ChunkingRules
from talia_core.knowledge.ingestion import Ingestion
from talia_core.knowledge.library import KnowledgeLibrary, UploadLimits
from talia_core.knowledge.search import KnowledgeSearch
from talia_core.leads.services import LeadBook
from talia_core.scheduling.services import SchedulingService
from talia_core.shared.clock import SystemClock
from talia_core.shared.jobs import JobRunner
from talia_core.shared.outbox_relay import OutboxRelay


class Core(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)
    # Clients are plain singletons so that what uses them stays synchronous; their
    # Resources close them when the app's lifespan (or the bootstrap) ends.
    engine = providers.Singleton(clients.engine, settings)
    engine_lifetime = providers.Resource(clients.engine_lifetime, engine)


class UseCases(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()
    gateways = providers.DependenciesContainer()

    feedback = providers.Singleton(
        FeedbackService, uow=gateways.unit_of_work.provider, clock=core.clock
    )
    doorbell = providers.Singleton(Doorbell)
    login_throttle = providers.Singleton(
        LoginThrottle,
        gateways.attempt_store,
        account_failures=settings.provided.auth.login_max_failures_per_account,
        address_failures=settings.provided.auth.login_max_failures_per_address,
        window=providers.Factory(timedelta, seconds=settings.provided.auth.login_window_seconds),
    )
    auth = providers.Singleton(
        AuthService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        hasher=gateways.password_hasher,
        common_passwords=gateways.common_passwords,
        tokens=gateways.access_tokens,
        throttle=login_throttle,
        access_token_lifetime=providers.Factory(
            timedelta, minutes=settings.provided.auth.access_token_minutes
        ),
        refresh_token_lifetime=providers.Factory(
            timedelta, days=settings.provided.auth.refresh_token_days
        ),
        session_lifetime=providers.Factory(timedelta, days=settings.provided.auth.session_max_days),
        refresh_key=providers.Callable(
            str.encode, settings.provided.auth.jwt_secret.get_secret_value.call()
        ),
        refresh_grace=providers.Factory(
            timedelta, seconds=settings.provided.auth.refresh_grace_seconds
        ),
        wake=doorbell.provided.ring,
    )
    account_recovery = providers.Singleton(
        AccountRecovery,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        hasher=gateways.password_hasher,
        common_passwords=gateways.common_passwords,
        wake=doorbell.provided.ring,
    )
    account_mail = providers.Singleton(
        email.account_mail,
        settings,
        gateways.unit_of_work.provider,
        core.clock,
        gateways.email_sender,
    )
    catalog = providers.Singleton(
        CatalogService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        currency=settings.provided.commerce.currency,
    )
    carts = providers.Singleton(
        CartService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        currency=settings.provided.commerce.currency,
        backoff=providers.Callable(policies.transaction_backoff),
    )
    coupons = providers.Singleton(
        CouponService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        currency=settings.provided.commerce.currency,
    )
    orders = providers.Singleton(
        OrderService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        currency=settings.provided.commerce.currency,
        pending_lifetime=providers.Factory(
            timedelta, minutes=settings.provided.commerce.pending_order_minutes
        ),
        gateway=gateways.payment_gateway,
        backoff=providers.Callable(policies.transaction_backoff),
        wake=doorbell.provided.ring,
    )
    payments = providers.Singleton(
        PaymentService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        gateway=gateways.payment_gateway,
    )
    users = providers.Singleton(
        UserAdminService,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        hasher=gateways.password_hasher,
        common_passwords=gateways.common_passwords,
    )
    inbox = providers.Singleton(
        InboxService, inbox=gateways.inbox, clock=core.clock, wake=doorbell.provided.ring
    )
    contact_book = providers.Singleton(
        ContactBook, uow=gateways.unit_of_work.provider, clock=core.clock
    )
    knowledge = providers.Singleton(
        KnowledgeLibrary,
        uow=gateways.unit_of_work.provider,
        files=gateways.files,
        extractor=gateways.text_extractor,
        clock=core.clock,
        limits=providers.Factory(UploadLimits, max_bytes=settings.provided.knowledge.max_bytes),
        wake=doorbell.provided.ring,
    )
    ingestion = providers.Singleton(
        Ingestion,
        uow=gateways.unit_of_work.provider,
        files=gateways.files,
        extractor=gateways.text_extractor,
        embedder=gateways.embedder,
        clock=core.clock,
        rules=providers.Factory(ChunkingRules),
        timeout_seconds=settings.provided.knowledge.ingest_timeout_seconds,
        wake=doorbell.provided.ring,
    )
    knowledge_search = providers.Singleton(
        KnowledgeSearch,
        uow=gateways.unit_of_work.provider,
        embedder=gateways.embedder,
        min_similarity=settings.provided.knowledge.min_similarity,
    )
    leads = providers.Singleton(
        LeadBook,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        criteria=providers.Singleton(DefinitionLeadCriteria, gateways.unit_of_work.provider),
        zone=providers.Callable(business_time_zone, settings),
    )
    scheduling = providers.Singleton(
        SchedulingService,
        uow=gateways.unit_of_work.provider,
        calendar=gateways.calendar,
        rules=providers.Singleton(schedule_rules, settings),
        clock=core.clock,
        reminder_lead=providers.Callable(reminder_lead, settings),
    )
    reminders = providers.Singleton(
        reminding.reminders, settings, gateways.unit_of_work.provider, core.clock, doorbell
    )
    desk = providers.Singleton(
        AgentDesk,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        wake=doorbell.provided.ring,
    )
    tools = providers.Singleton(
        tool_catalogue,
        catalog,
        orders,
        users,
        contact_book,
        knowledge_search,
        leads,
        scheduling=scheduling,
        desk=desk,
    )
    usage = providers.Singleton(UsageLedger, uow=gateways.unit_of_work.provider, clock=core.clock)
    # The turns with the deployment's models and limits, given a unit of work, tools and a
    # ledger: the conversations' (``agent_turns``) and each evaluation's own.
    turns_on = providers.Factory(
        AgentTurns,
        clock=core.clock,
        models=gateways.language_models,
        tokens=gateways.token_counters,
        max_transfers=settings.provided.assistant.max_transfers,
        history_tokens=settings.provided.assistant.history_tokens,
    )
    agent_turns = providers.Singleton(
        turns_on, gateways.unit_of_work.provider, tools=tools, ledger=usage
    )
    assistant = providers.Selector(
        providers.Callable(choices.assistant_provider, settings),
        offline=gateways.rules_assistant,
        definitions=providers.Singleton(AgentsAssistant, agent_turns),
    )
    evaluation = providers.Singleton(
        Evaluation,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        turns=turns_on.provider,
        tools=tools,
    )
    direct_chat = providers.Singleton(
        DirectChat,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        turns=turns_on.provider,
        tools=tools,
    )
    voice_calls = providers.Singleton(
        VoiceCalls,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        assistant=assistant,
        transfers=gateways.call_transfers,
        greetings=gateways.call_greetings,
    )
    turn_debounce = providers.Factory(
        timedelta, seconds=settings.provided.channels.debounce_seconds
    )
    pipeline = providers.Singleton(
        ConversationPipeline,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        senders=gateways.channel_senders,
        downloaders=gateways.media_downloaders,
        files=gateways.files,
        assistant=assistant,
        live=gateways.live_feed,
        debounce=turn_debounce,
        wake=doorbell.provided.ring,
        answers=providers.Singleton(reminding.reminder_answers, settings, scheduling),
        understanding=providers.Singleton(
            MediaUnderstanding,
            uow=gateways.unit_of_work.provider,
            clock=core.clock,
            files=gateways.files,
            hearing=gateways.speech_to_text,
            seeing=gateways.image_understanding,
            language=settings.provided.channels.speech_language,
            debounce=turn_debounce,
            wake=doorbell.provided.ring,
        ),
        voice=providers.Singleton(
            VoiceReplies,
            speech=gateways.text_to_speech,
            converter=gateways.audio_converter,
            files=gateways.files,
            links=providers.Singleton(channel_links.media_links, settings),
            language=settings.provided.channels.speech_language,
        ),
    )
    assistants = providers.Singleton(
        AssistantAdmin,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        capabilities=providers.Singleton(assistant_capabilities, tools),
        evaluation=evaluation,
    )
    invitations = providers.Singleton(
        InvitationService,
        gateways.unit_of_work.provider,
        core.clock,
        wake=doorbell.provided.ring,
    )
    invitation_media = providers.Singleton(
        InvitationMediaService,
        uow=gateways.unit_of_work.provider,
        files=gateways.files,
        clock=core.clock,
        wake=doorbell.provided.ring,
    )
    media_processing = providers.Singleton(
        MediaProcessing,
        uow=gateways.unit_of_work.provider,
        files=gateways.files,
        processor=gateways.image_processor,
        clock=core.clock,
    )
    public_invitations = providers.Singleton(
        PublicInvitations, gateways.unit_of_work.provider, core.clock
    )
    rsvp = providers.Singleton(RsvpService, gateways.unit_of_work.provider, core.clock)
    outbox_relay = providers.Singleton(
        OutboxRelay,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        consumers=providers.Callable(
            with_invitations,
            invitations,
            providers.Callable(
                with_leads,
                providers.Callable(
                    reminding.event_consumers, settings, gateways.event_notifier, reminders
                ),
                leads,
                providers.Singleton(lead_bookings, gateways.unit_of_work.provider, core.clock),
                providers.Singleton(
                    desk_announcements,
                    settings,
                    gateways.unit_of_work.provider,
                    core.clock,
                    gateways.outbound,
                    gateways.breakers,
                    desk,
                ),
            ),
        ),
        wake=doorbell.provided.ring,
    )
    job_runner = providers.Singleton(
        JobRunner,
        uow=gateways.unit_of_work.provider,
        clock=core.clock,
        handlers=providers.Callable(
            jobs.job_handlers,
            pipeline.provided.job_handlers.call(),
            ingestion.provided.job_handlers.call(),
            outbox_relay.provided.job_handlers.call(),
            scheduling.provided.job_handlers.call(),
            orders.provided.job_handlers.call(),
            media_processing.provided.job_handlers.call(),
            account_mail.provided.job_handlers.call(),
            account_recovery.provided.job_handlers.call(),
        ),
        retry_delay=providers.Callable(policies.job_retry_delay, settings),
        lease=providers.Factory(timedelta, seconds=settings.provided.jobs.lease_seconds),
        horizon=providers.Factory(timedelta, hours=settings.provided.jobs.retry_horizon_hours),
    )
    job_queue = providers.Selector(
        providers.Callable(choices.job_backend, settings),
        database=providers.Singleton(
            DatabaseJobQueue,
            job_runner,
            concurrency=settings.provided.jobs.concurrency,
            poll_seconds=settings.provided.jobs.poll_seconds,
        ),
        saq=providers.Singleton(jobs.saq_queue, job_runner, settings),
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.Container(Core, settings=settings)
    gateways = providers.Container(Gateways, settings=settings, core=core)
    use_cases = providers.Container(UseCases, settings=settings, core=core, gateways=gateways)


def build_container(settings: Settings) -> Container:
    return Container(settings=providers.Object(settings))


async def open_resources(container: Container) -> None:
    """Open engines and clients (dependency-injector's async resources)."""
    opening = container.init_resources()
    if opening is not None:
        await opening


async def start_jobs(container: Container) -> None:
    """Start running jobs in this process, woken whenever a use case commits new ones."""
    queue = container.use_cases.job_queue()
    container.use_cases.doorbell().connect(queue.wake)
    await queue.start()


async def stop_jobs(container: Container) -> None:
    await container.use_cases.job_queue().stop()


async def close_resources(container: Container) -> None:
    closing = container.shutdown_resources()
    if closing is not None:
        await closing
