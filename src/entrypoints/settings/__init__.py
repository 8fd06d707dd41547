"""One settings tree, read from ``TALIA_*`` variables and ``.env``, validated at start."""

from __future__ import annotations

import os
import re
from enum import StrEnum
from typing import Annotated

import pydantic_settings
from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from entrypoints.settings.ai import AiSettings
from entrypoints.settings.calendar import CalendarProvider, CalendarSettings
from entrypoints.settings.database import DatabaseSettings
from entrypoints.settings.email import EmailSettings
from entrypoints.settings.invitation_pages import InvitationPageSettings
from entrypoints.settings.knowledge import KnowledgeSettings
from entrypoints.settings.leads import LeadSettings
from entrypoints.settings.notifications import NotificationSettings
from entrypoints.settings.outlook import OutlookSettings
from entrypoints.settings.perception import PerceptionSettings
from entrypoints.settings.storage import StorageSettings
from entrypoints.settings.voice import VoiceSettings
from entrypoints.wiring.capabilities import MODELS
from talia_core.assistants.definition import Provider

DEMO_JWT_SECRET = "change-me-this-is-the-embedded-demo-secret"


class ThrottleBackend(StrEnum):
    MEMORY = "memory"
    REDIS = "redis"


# RFC 7518 §3.2: an HMAC key at least as long as the hash output.
SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}


class AuthSettings(BaseModel):
    jwt_algorithm: str = Field("HS256", pattern="^HS(256|384|512)$")
    jwt_secret: SecretStr = SecretStr(DEMO_JWT_SECRET)
    jwt_issuer: str = "talia"
    access_token_minutes: Annotated[int, Field(ge=1, le=60)] = 15
    refresh_token_days: Annotated[int, Field(ge=1, le=90)] = 7
    session_max_days: Annotated[int, Field(ge=1, le=365)] = 30
    refresh_grace_seconds: Annotated[int, Field(ge=0, le=300)] = 30
    argon2_time_cost: Annotated[int, Field(ge=1, le=10)] = 3
    argon2_memory_kib: Annotated[int, Field(ge=32, le=1_048_576)] = 65_536
    login_max_failures_per_account: Annotated[int, Field(ge=1)] = 5
    login_max_failures_per_address: Annotated[int, Field(ge=1)] = 20
    login_window_seconds: Annotated[int, Field(ge=1)] = 900
    throttle_backend: ThrottleBackend = ThrottleBackend.MEMORY

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        needed = SECRET_BYTES.get(info.data.get("jwt_algorithm", "HS256"), 32)
        if len(value.get_secret_value().encode()) < needed:
            raise ValueError(f"must be at least {needed} bytes for the chosen algorithm")
        return value


class RedisSettings(BaseModel):
    url: str = "redis://127.0.0.1:6379/0"


class PolicySettings(BaseModel):
    """The resilience policy every outbound adapter runs under."""

    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    retry_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    retry_base_delay_seconds: Annotated[float, Field(gt=0)] = 0.2
    retry_max_delay_seconds: Annotated[float, Field(gt=0)] = 5.0
    retry_max_retry_after_seconds: Annotated[float, Field(gt=0)] = 30.0
    breaker_failure_threshold: Annotated[int, Field(ge=1)] = 5
    breaker_open_seconds: Annotated[float, Field(gt=0)] = 30.0
    breaker_half_open_probes: Annotated[int, Field(ge=1)] = 1
    bulkhead_max_concurrent: Annotated[int, Field(ge=1)] = 32
    bulkhead_max_wait_seconds: Annotated[float, Field(gt=0)] = 2.0

    @field_validator("retry_max_delay_seconds")
    @classmethod
    def _not_below_base(cls, value: float, info: ValidationInfo) -> float:
        if value < info.data.get("retry_base_delay_seconds", 0):
            raise ValueError("must not be below TALIA_RESILIENCE__RETRY_BASE_DELAY_SECONDS")
        return value


class CommerceSettings(BaseModel):
    currency: str = Field("PEN", pattern="^[A-Z]{3}$", description="The shop's one currency.")
    pending_order_minutes: Annotated[int, Field(ge=5, le=43_200)] = Field(
        120, description="How long an unpaid order stays pending before the expiry job ends it."
    )
    catalog_cache_seconds: Annotated[float, Field(ge=0, le=300)] = Field(
        2.0,
        description="How long a worker serves the public catalog from memory; its own admin "
        "writes clear it at once, other workers' within this time.",
    )


class PaymentProvider(StrEnum):
    SANDBOX = "sandbox"
    IZIPAY = "izipay"


DEMO_SANDBOX_SECRET = "change-me-this-is-the-payment-sandbox-secret"


class PaymentSettings(BaseModel):
    provider: PaymentProvider = PaymentProvider.SANDBOX
    izipay_api_url: str = Field("https://api.micuentaweb.pe", pattern="^https?://")
    izipay_shop_id: str = ""
    izipay_password: SecretStr = Field(
        SecretStr(""), description="The REST API password; it also keys the IPN's kr-hash."
    )
    izipay_public_key: str = Field(
        "", description="For the embedded form, e.g. 12345678:testpublickey_..."
    )
    izipay_ipn_url: str = Field(
        "", description="Sent as ipnTargetUrl; empty: the URL set in Izipay's back office."
    )
    sandbox_secret: SecretStr = SecretStr(DEMO_SANDBOX_SECRET)

    @model_validator(mode="after")
    def _izipay_complete(self) -> PaymentSettings:
        if self.provider is PaymentProvider.IZIPAY:
            missing = [
                f"TALIA_PAYMENTS__{name.upper()}"
                for name, value in (
                    ("izipay_shop_id", self.izipay_shop_id),
                    ("izipay_password", self.izipay_password.get_secret_value()),
                    ("izipay_public_key", self.izipay_public_key),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"the izipay provider needs {', '.join(missing)}")
        return self


class ChannelSettings(BaseModel):
    """The messaging channels; a channel whose credentials are empty answers 404."""

    public_base_url: str = Field(
        "",
        pattern="^(https?://[^/]+)?$",
        description="The scheme and host providers call (https://api.example.com), for "
        "Twilio's signature behind a proxy and its status callback; empty: the request's own.",
    )
    debounce_seconds: Annotated[float, Field(ge=0, le=60)] = Field(
        2.0, description="Quick messages from one contact within this window get one answer."
    )
    whatsapp_app_secret: SecretStr = Field(
        SecretStr(""), description="Meta app secret: keys X-Hub-Signature-256."
    )
    whatsapp_verify_token: SecretStr = Field(
        SecretStr(""), description="The token Meta echoes in the webhook verification."
    )
    whatsapp_access_token: SecretStr = SecretStr("")
    whatsapp_phone_number_id: str = ""
    whatsapp_api_url: str = Field("https://graph.facebook.com", pattern="^https?://")
    whatsapp_api_version: str = Field("v21.0", pattern=r"^v\d+\.\d+$")
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = Field(
        SecretStr(""), description="Signs X-Twilio-Signature and authenticates API calls."
    )
    twilio_whatsapp_from: str = Field(
        "", description="The sender, e.g. whatsapp:+14155238886.", pattern=r"^(whatsapp:\+\d+)?$"
    )
    twilio_api_url: str = Field("https://api.twilio.com", pattern="^https?://")
    chatwoot_url: str = Field("", pattern="^(https?://.+)?$")
    chatwoot_account_id: str = ""
    chatwoot_api_token: SecretStr = SecretStr("")
    chatwoot_webhook_token: SecretStr = Field(
        SecretStr(""), description="Expected in the agent bot's webhook URL as ?token=..."
    )
    chatwoot_webhook_secret: SecretStr = Field(
        SecretStr(""),
        description="The agent bot's secret (Chatwoot 4.13+ signs deliveries with it); when "
        "set, every delivery must carry a valid X-Chatwoot-Signature.",
    )
    webchat_session_days: Annotated[int, Field(ge=1, le=365)] = 30
    speech_language: str = Field(
        "es",
        pattern=r"^[a-z]{2}$",
        description="The language (ISO 639-1) voice notes are heard in and replies spoken in.",
    )

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.whatsapp_app_secret.get_secret_value())

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_auth_token.get_secret_value())

    @property
    def chatwoot_enabled(self) -> bool:
        return bool(
            self.chatwoot_webhook_token.get_secret_value()
            or self.chatwoot_webhook_secret.get_secret_value()
        )


class JobBackend(StrEnum):
    DATABASE = "database"
    SAQ = "saq"


class JobSettings(BaseModel):
    backend: JobBackend = Field(
        JobBackend.DATABASE,
        description="database: workers poll the jobs table; saq: claimed jobs go through "
        "SAQ on TALIA_REDIS__URL to every worker.",
    )
    run_in_process: bool = Field(
        True, description="Run jobs inside the API process; false: only `talia worker` runs them."
    )
    concurrency: Annotated[int, Field(ge=1, le=256)] = 8
    poll_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0
    retry_attempts: Annotated[int, Field(ge=1, le=50)] = 8
    retry_base_delay_seconds: Annotated[float, Field(gt=0)] = 2.0
    retry_max_delay_seconds: Annotated[float, Field(gt=0)] = 900.0
    retry_horizon_hours: Annotated[float, Field(gt=0, le=24 * 30)] = Field(
        24.0, description="No job is retried later than this after it was created."
    )
    lease_seconds: Annotated[float, Field(ge=3, le=3600)] = Field(
        30.0,
        description="How long a claimed job is held by its worker; renewed every third of it "
        "while the job runs, so a dead worker's jobs run again within this.",
    )
    saq_queue: str = Field("talia", pattern="^[A-Za-z0-9_.-]{1,64}$")


class AssistantProvider(StrEnum):
    OFFLINE = "offline"
    DEFINITIONS = "definitions"


class AssistantSettings(BaseModel):
    provider: AssistantProvider = Field(
        AssistantProvider.DEFINITIONS,
        description="Who answers; definitions: the assistants held as data (/api/assistants), "
        "each on its provider's model; offline: the rules of one JSON definition alone.",
    )
    max_transfers: Annotated[int, Field(ge=0, le=10)] = Field(
        3, description="Transfers between assistants in one turn before the last one answers."
    )
    history_tokens: Annotated[int, Field(ge=100, le=100_000)] = Field(
        3000,
        description=(
            "The most conversation history a model is sent, in tokens: exact for OpenAI's"
            " models, estimated as characters / 4 for the others."
        ),
    )
    definition: str = Field(
        "", description="Path of the offline assistant's JSON definition; empty: the demo one."
    )
    demo_provider: Provider = Field(
        Provider.OFFLINE,
        description="The provider the demo assistants answer with (offline, openai or "
        "huggingface); they follow it and TALIA_ASSISTANT__DEMO_MODEL at every start.",
    )
    demo_model: str = Field(
        "",
        description="The demo assistants' model, one the provider serves here; empty: the "
        "provider's default (rules, gpt-4.1-mini, meta-llama/Llama-3.1-8B-Instruct).",
    )

    @field_validator("demo_model")
    @classmethod
    def _served(cls, value: str, info: ValidationInfo) -> str:
        provider = info.data.get("demo_provider")
        if value and provider is not None and value not in MODELS[provider]:
            served = ", ".join(MODELS[provider])
            raise ValueError(f"{value!r} is not one of {provider.value}'s models: {served}")
        return value


class OpenAISettings(BaseModel):
    """OpenAI's Responses API; an empty key leaves its models unavailable."""

    api_key: SecretStr = SecretStr("")
    base_url: str = Field(
        "https://api.openai.com/v1",
        pattern="^https?://",
        description="The API root, /v1 included; another one for a proxy or a compatible server.",
    )


class HuggingFaceSettings(BaseModel):
    """Chat completions through huggingface_hub; an empty token leaves its models unavailable."""

    token: SecretStr = Field(
        SecretStr(""),
        description="A Hugging Face token (hf_...) for its router; for another server, its key "
        "(any value when it checks none).",
    )
    base_url: str = Field(
        "",
        pattern="^(https?://.+)?$",
        description="A server speaking OpenAI's chat completions (vLLM, Ollama, llama.cpp, "
        "Mistral, TGI); empty: Hugging Face's router, which picks the inference provider.",
    )

    @model_validator(mode="after")
    def _router_token(self) -> HuggingFaceSettings:
        token = self.token.get_secret_value()
        if token and not self.base_url and not token.startswith("hf_"):
            raise ValueError(
                "Hugging Face's router takes only Hugging Face tokens (hf_...): set "
                "TALIA_HUGGINGFACE__BASE_URL to use another server's key"
            )
        return self


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1_048_576
    access_log: bool = Field(
        True,
        description="One log line per request; false logs only the 4xx and 5xx answers, for "
        "a proxy in front that keeps the access log.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses whose X-Forwarded-For is believed for the client address.",
    )
    public_writes_per_minute: Annotated[int, Field(ge=0)] = Field(
        20,
        description="Writes a minute one client may make to each public route (a web chat "
        "session or message, a contact message, a claim, a registration, an RSVP); 0: no limit.",
    )


class LogFormat(StrEnum):
    AUTO = "auto"
    JSON = "json"
    CONSOLE = "console"


class LogSettings(BaseModel):
    level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    format: LogFormat = Field(
        LogFormat.AUTO,
        description="json, console, or auto: console on a terminal and JSON anywhere else.",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TALIA_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="forbid",
    )

    environment: str = Field("development", pattern="^(development|test|production)$")
    log: LogSettings = Field(default_factory=LogSettings)
    demo_data: bool = Field(True, description="Seed demo data into an empty database.")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    resilience: PolicySettings = Field(default_factory=PolicySettings)
    commerce: CommerceSettings = Field(default_factory=CommerceSettings)
    payments: PaymentSettings = Field(default_factory=PaymentSettings)
    channels: ChannelSettings = Field(default_factory=ChannelSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    assistant: AssistantSettings = Field(default_factory=AssistantSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    huggingface: HuggingFaceSettings = Field(default_factory=HuggingFaceSettings)
    outlook: OutlookSettings = Field(default_factory=OutlookSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    leads: LeadSettings = Field(default_factory=LeadSettings)
    invitation_pages: InvitationPageSettings = Field(default_factory=InvitationPageSettings)
    perception: PerceptionSettings = Field(default_factory=PerceptionSettings)
    ai: AiSettings = Field(default_factory=AiSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)

    @model_validator(mode="after")
    def _demo_provider_credentials(self) -> Settings:
        needed = {
            Provider.OPENAI: ("TALIA_OPENAI__API_KEY", self.openai.api_key),
            Provider.HUGGINGFACE: ("TALIA_HUGGINGFACE__TOKEN", self.huggingface.token),
        }.get(self.assistant.demo_provider)
        if needed is not None and not needed[1].get_secret_value():
            raise PydanticCustomError(
                "demo_provider_credentials",
                "TALIA_ASSISTANT__DEMO_PROVIDER is {provider}, which needs {variable}",
                {"provider": self.assistant.demo_provider.value, "variable": needed[0]},
            )
        return self

    @model_validator(mode="after")
    def _chatwoot_for_leads(self) -> Settings:
        chatwoot = self.channels
        configured = chatwoot.chatwoot_url and chatwoot.chatwoot_account_id
        if self.leads.chatwoot_label and not (
            configured and chatwoot.chatwoot_api_token.get_secret_value()
        ):
            raise ValueError(
                "TALIA_LEADS__CHATWOOT_LABEL needs TALIA_CHANNELS__CHATWOOT_URL, "
                "TALIA_CHANNELS__CHATWOOT_ACCOUNT_ID and TALIA_CHANNELS__CHATWOOT_API_TOKEN"
            )
        return self

    @model_validator(mode="after")
    def _outlook_configured(self) -> Settings:
        missing = self.outlook.missing()
        if self.calendar.provider is CalendarProvider.OUTLOOK and missing:
            raise ValueError(f"the outlook calendar needs {', '.join(missing)}")
        return self

    def production_problems(self) -> list[str]:
        """What must not reach production as it is: the published demo secret and data."""
        problems = []
        if self.auth.jwt_secret.get_secret_value() == DEMO_JWT_SECRET:
            problems.append("TALIA_AUTH__JWT_SECRET is the demo secret")
        if self.payments.provider is PaymentProvider.SANDBOX:
            problems.append("TALIA_PAYMENTS__PROVIDER is sandbox: nobody would really pay")
        if self.demo_data:
            problems.append("TALIA_DEMO_DATA must be false (the demo users' password is public)")
        return problems


class SettingsError(Exception):
    """Start-up stops with this: every line names the variable and what is wrong with it."""


def _variable(loc: tuple[int | str, ...]) -> str:
    name = "__".join(str(part) for part in loc).upper()
    # An unknown variable of the .env file comes back under its own, prefixed name.
    return name if name.startswith("TALIA_") else f"TALIA_{name}"


def _unparsable(error: pydantic_settings.SettingsError) -> str:
    """pydantic-settings names the top-level field only; name the variables that feed it."""
    field = re.search(r'field "(\w+)"', str(error))
    prefix = f"TALIA_{field.group(1).upper()}" if field else "TALIA_"
    suspects = sorted(name for name in os.environ if name.upper().startswith(prefix))
    return (
        f"{', '.join(suspects) or prefix}: cannot be parsed; lists are written as JSON, "
        'e.g. ["https://app.example.com"]'
    )


def load_settings(**overrides: object) -> Settings:
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = [
            f"{_variable(p['loc'])}: {p['msg']}" if p["loc"] else p["msg"] for p in error.errors()
        ]
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from None
    except pydantic_settings.SettingsError as error:
        raise SettingsError(f"invalid configuration:\n  {_unparsable(error)}") from None
    if settings.environment == "production" and (problems := settings.production_problems()):
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(problems))
    return settings
