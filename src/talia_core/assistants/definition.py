"""Assistant definitions held as data, with versions.

An ``Assistant`` is a name (a slug other definitions refer to: fixed once created) and a
history of immutable ``AssistantVersion``s, each holding a whole ``Definition``; the
assistant points at its live one, the one its turns read. A change never edits a version:
it adds the next, which goes live unless the assistant's eval set turned it down (``gate``):
then it is kept, rejected, and the live one stays.

Rules a definition keeps by itself are checked here, whenever one is built (``attrs.evolve``
included). Rules that need more than the definition live in ``AssistantAdmin``: which
providers, models and tools exist (``Capabilities``), that hand-off targets exist, and that
each channel has at most one enabled assistant, its *entry* assistant: the one that
answers a conversation arriving on that channel (it may transfer to the others).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from talia_core.assistants.eval_sets import VersionReport
from talia_core.assistants.language import PromptRef
from talia_core.shared import text
from talia_core.shared.errors import Conflict, RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.money import Money
from talia_core.shared.text import optional_text, required_text

MAX_NAME_LENGTH = 64
MAX_MODEL_LENGTH = 100
MAX_INSTRUCTIONS_LENGTH = 20_000
MAX_PROMPT_ID_LENGTH = 100
MAX_PROMPT_VERSION_LENGTH = 20
MAX_VARIABLES = 30
MAX_VARIABLE_NAME_LENGTH = 64
MAX_VARIABLE_VALUE_LENGTH = 2_000
MAX_TEMPERATURE = 2.0
MAX_OUTPUT_TOKENS = 32_000
MAX_TOOL_STEPS = 10
MAX_LISTED = 20
"""The most tools, knowledge collections or hand-off targets one definition lists."""
MAX_TOOL_NAME_LENGTH = 64
MAX_VOICE_LENGTH = 100
USAGE_CURRENCY = "USD"
"""Model prices, the costs of calls and daily budgets are in US cents: providers price
their models in dollars."""
MAX_DAILY_BUDGET = 100_000_000
"""A million dollars a day, in cents: more is a typo."""

_TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Provider(enum.StrEnum):
    OPENAI = "openai"
    HUGGINGFACE = "huggingface"
    OFFLINE = "offline"


class Channel(enum.StrEnum):
    """The channels an assistant may answer (the conversations context has its own word)."""

    WHATSAPP = "whatsapp"
    TWILIO = "twilio"
    CHATWOOT = "chatwoot"
    WEBCHAT = "webchat"
    VOICE = "voice"


class FallbackKind(enum.StrEnum):
    MODEL = "model"
    OFFLINE = "offline"
    HUMAN = "human"


def slug(field: str, value: str) -> str:
    """An assistant's or a collection's name, as other definitions refer to it."""
    return text.slug(field, value, MAX_NAME_LENGTH)


def known_provider(field: str, value: str) -> Provider:
    """``value`` as a ``Provider``; an unknown one is refused naming ``field``."""
    try:
        return Provider(value)
    except ValueError:
        known = ", ".join(p.value for p in Provider)
        raise RuleViolated(f"{field} must be one of {known}", {field: "unknown"}) from None


def to_provider(value: str) -> Provider:
    return known_provider("provider", value)


def _fallback_provider(value: str | None) -> Provider | None:
    return None if value is None else known_provider("fallback.provider", value)


def _names(field: str, values: Iterable[str], check: Callable[[str, str], str]) -> tuple[str, ...]:
    names = tuple(check(field, value) for value in values)
    if len(names) > MAX_LISTED:
        raise RuleViolated(f"{field} lists at most {MAX_LISTED} names", {field: "too many"})
    if len(set(names)) != len(names):
        raise RuleViolated(f"{field} lists a name twice", {field: "duplicate"})
    return names


def _tool_name(field: str, value: str) -> str:
    cleaned = required_text(field, value, MAX_TOOL_NAME_LENGTH)
    if not _TOOL_NAME.match(cleaned):
        raise RuleViolated(f"{field}: {cleaned!r} is not a tool name", {field: "invalid"})
    return cleaned


def _tools(values: Iterable[str]) -> tuple[str, ...]:
    return _names("tools", values, _tool_name)


def _knowledge(values: Iterable[str]) -> tuple[str, ...]:
    return _names("knowledge", values, slug)


def _handoffs(values: Iterable[str]) -> tuple[str, ...]:
    return _names("handoffs", values, slug)


def _channels(values: Iterable[str]) -> tuple[Channel, ...]:
    try:
        channels = tuple(Channel(value) for value in values)
    except ValueError:
        known = ", ".join(c.value for c in Channel)
        raise RuleViolated(f"channels must be among {known}", {"channels": "unknown"}) from None
    if len(set(channels)) != len(channels):
        raise RuleViolated("channels lists a channel twice", {"channels": "duplicate"})
    return channels


def _variables(field: str, values: Mapping[str, str]) -> dict[str, str]:
    if len(values) > MAX_VARIABLES:
        raise RuleViolated(f"{field} holds at most {MAX_VARIABLES} values", {field: "too many"})
    checked = {}
    for name, value in values.items():
        if len(name) > MAX_VARIABLE_NAME_LENGTH or not _VARIABLE_NAME.match(name):
            raise RuleViolated(f"{field}: {name[:80]!r} is not a variable name", {field: "name"})
        checked[name] = required_text(f"{field}.{name}", value, MAX_VARIABLE_VALUE_LENGTH)
    return checked


def _prompt(prompt: PromptRef | None) -> PromptRef | None:
    if prompt is None:
        return None
    return PromptRef(
        id=required_text("prompt.id", prompt.id, MAX_PROMPT_ID_LENGTH),
        version=optional_text("prompt.version", prompt.version, MAX_PROMPT_VERSION_LENGTH),
        variables=_variables("prompt.variables", prompt.variables),
    )


def _temperature(value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not 0 <= value <= MAX_TEMPERATURE:
        raise RuleViolated(
            f"temperature must be between 0 and {MAX_TEMPERATURE}", {"temperature": "out of range"}
        )
    return float(value)


def _positive(field: str, value: int, most: int) -> int:
    if isinstance(value, bool) or not 1 <= value <= most:
        raise RuleViolated(f"{field} must be between 1 and {most}", {field: "out of range"})
    return value


def _max_output_tokens(value: int | None) -> int | None:
    return None if value is None else _positive("max_output_tokens", value, MAX_OUTPUT_TOKENS)


def _max_tool_steps(value: int) -> int:
    return _positive("max_tool_steps", value, MAX_TOOL_STEPS)


def to_model(value: str) -> str:
    return required_text("model", value, MAX_MODEL_LENGTH)


def _fallback_model(value: str | None) -> str | None:
    return optional_text("fallback.model", value, MAX_MODEL_LENGTH)


def _instructions(value: str | None) -> str | None:
    return optional_text("instructions", value, MAX_INSTRUCTIONS_LENGTH)


def _definition_variables(values: Mapping[str, str]) -> dict[str, str]:
    return _variables("variables", values)


def _daily_budget(value: Money | None) -> Money | None:
    if value is None:
        return None
    if value.currency != USAGE_CURRENCY:
        raise RuleViolated(
            f"daily_budget is in {USAGE_CURRENCY}, like the model prices",
            {"daily_budget.currency": f"must be {USAGE_CURRENCY}"},
        )
    if not 0 <= value.amount <= MAX_DAILY_BUDGET:
        raise RuleViolated(
            f"daily_budget must be between 0 and {MAX_DAILY_BUDGET} cents",
            {"daily_budget.amount": "out of range"},
        )
    return value


def _voice(value: str | None) -> str | None:
    return optional_text("voice", value, MAX_VOICE_LENGTH)


def _leads(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise RuleViolated("leads must be an object", {"leads": "not an object"})
    return dict(value)


@attrs.frozen
class Fallback:
    """What answers when the provider cannot: another provider's model, the offline
    assistant, or a person (the conversation is handed to the agents)."""

    to: FallbackKind = FallbackKind.HUMAN
    provider: Provider | None = attrs.field(default=None, converter=_fallback_provider)
    model: str | None = attrs.field(default=None, converter=_fallback_model)

    def __attrs_post_init__(self) -> None:
        if self.to is FallbackKind.MODEL:
            if self.provider in (None, Provider.OFFLINE) or self.model is None:
                raise RuleViolated(
                    "a fallback model names an openai or huggingface provider and its model",
                    {"fallback": "needs provider and model"},
                )
        elif self.provider is not None or self.model is not None:
            raise RuleViolated(
                f"a fallback to {self.to.value} names no provider or model",
                {"fallback": "provider or model given"},
            )


@attrs.frozen
class Definition:
    """How an assistant answers. ``instructions`` (text held as data) or ``prompt`` (a
    prompt stored at OpenAI), or both; ``variables`` are values the instructions refer to
    by name (the business's name, its hours). ``temperature`` and ``max_output_tokens``
    left unset take the provider's defaults. ``daily_budget`` (US cents, none: no limit)
    caps what its model calls cost per UTC day; once spent, its turns fall back (see
    ``UsageLedger.within_budget``); 0 stops calling the model at all. ``leads``: how its
    customers are qualified as leads, held as data the leads context reads (``Capabilities``
    checks it with that context's rules); none: this assistant qualifies no one.
    ``voice_replies``: a customer who sent a voice note is answered with one, spoken by
    the speech engine's ``voice`` (its default when none)."""

    provider: Provider = attrs.field(converter=to_provider)
    model: str = attrs.field(converter=to_model)
    instructions: str | None = attrs.field(default=None, converter=_instructions)
    prompt: PromptRef | None = attrs.field(default=None, converter=_prompt)
    variables: Mapping[str, str] = attrs.field(factory=dict, converter=_definition_variables)
    temperature: float | None = attrs.field(default=None, converter=_temperature)
    max_output_tokens: int | None = attrs.field(default=None, converter=_max_output_tokens)
    max_tool_steps: int = attrs.field(default=4, converter=_max_tool_steps)
    tools: tuple[str, ...] = attrs.field(default=(), converter=_tools)
    knowledge: tuple[str, ...] = attrs.field(default=(), converter=_knowledge)
    handoffs: tuple[str, ...] = attrs.field(default=(), converter=_handoffs)
    channels: tuple[Channel, ...] = attrs.field(default=(), converter=_channels)
    fallback: Fallback = attrs.field(factory=Fallback)
    enabled: bool = True
    daily_budget: Money | None = attrs.field(default=None, converter=_daily_budget)
    leads: Mapping[str, Any] | None = attrs.field(default=None, converter=_leads)
    voice_replies: bool = False
    voice: str | None = attrs.field(default=None, converter=_voice)

    def __attrs_post_init__(self) -> None:
        if self.instructions is None and self.prompt is None:
            raise RuleViolated(
                "a definition needs instructions or a stored prompt", {"instructions": "missing"}
            )
        if self.prompt is not None and self.provider is not Provider.OPENAI:
            raise RuleViolated(
                "a stored prompt is OpenAI's: only the openai provider takes one",
                {"prompt": "openai only"},
            )
        fallback = self.fallback
        if (fallback.provider, fallback.model) == (self.provider, self.model):
            raise RuleViolated(
                "the fallback model is the assistant's own", {"fallback": "same model"}
            )

    @property
    def entry_channels(self) -> tuple[Channel, ...]:
        """The channels this definition is the entry assistant of: none when disabled."""
        return self.channels if self.enabled else ()

    def revised(self, changes: Mapping[str, Any]) -> Definition:
        """This definition with ``changes`` (field name → new value); the rest is kept."""
        unknown = set(changes) - {field.name for field in attrs.fields(Definition)}
        if unknown:
            raise RuleViolated(
                "a definition has no such field", dict.fromkeys(sorted(unknown), "unknown")
            )
        return attrs.evolve(self, **changes)


@attrs.frozen
class AssistantVersion:
    """One definition an assistant had, from ``created_at`` on; its definition never
    changes. ``report``: its last evaluation on the assistant's eval set, if any;
    ``rejected``: why it never went live, for a candidate the eval set turned down."""

    assistant_id: str
    version: int
    definition: Definition
    created_by: str
    created_at: datetime
    report: VersionReport | None = None
    rejected: str | None = None


@attrs.define
class Assistant:
    """``current`` is the live version; ``newest`` the number of the last one made, the live
    one unless later candidates were rejected. With ``require_eval``, a new version goes
    live only when it does no worse than the live one on the eval set."""

    name: str
    current: AssistantVersion
    created_at: datetime
    id: str
    newest: int = attrs.field()
    require_eval: bool = False

    @newest.default
    def _live_is_newest(self) -> int:
        return self.current.version

    @classmethod
    def create(
        cls,
        *,
        name: str,
        definition: Definition,
        by: str,
        at: datetime,
        require_eval: bool = False,
    ) -> Assistant:
        assistant_id = new_id()
        name = slug("name", name)
        _not_itself(name, definition)
        first = AssistantVersion(assistant_id, 1, definition, by, at)
        return cls(
            name=name, current=first, created_at=at, id=assistant_id, require_eval=require_eval
        )

    @property
    def version(self) -> int:
        return self.current.version

    @property
    def definition(self) -> Definition:
        return self.current.definition

    @property
    def updated_at(self) -> datetime:
        return self.current.created_at

    def draft(self, definition: Definition, *, by: str, at: datetime) -> AssistantVersion | None:
        """The next version, holding ``definition``, not yet taken (``adopt``); None when
        ``definition`` is the live one's."""
        if definition == self.definition:
            return None
        _not_itself(self.name, definition)
        return AssistantVersion(self.id, self.newest + 1, definition, by, at)

    def adopt(self, version: AssistantVersion) -> None:
        """Take ``version``, the next one: live unless it was rejected. ``Conflict`` when
        another version was made since it was drafted."""
        if version.assistant_id != self.id or version.version != self.newest + 1:
            raise Conflict(
                f"assistant {self.name!r} changed while version {version.version} was being "
                "made: send the change again"
            )
        self.newest = version.version
        if version.rejected is None:
            self.current = version


def _not_itself(name: str, definition: Definition) -> None:
    if name in definition.handoffs:
        raise RuleViolated("an assistant does not hand off to itself", {"handoffs": "itself"})
