"""Assistant definitions: the admins create, read and revise them; every change is a version.

The provider is a plain string here, not an enum: which providers (and models, and tools)
exist is the deployment's data, checked by the core, so an unknown one is a 422 naming
the field like any other broken rule.

Each assistant may carry an eval set (``PUT``/``GET /api/assistants/{id}/eval-set``, a JSON
body ``{"cases": [...]}``, each case an object shaped like a line of the JSON Lines file
``talia assistants eval`` reads); with ``require_eval`` on, a revision goes live only when
it does no worse on it than the live version (``talia_core.assistants.gate``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody
from pydantic import Field, field_validator

from entrypoints.http.auth import admin_only
from entrypoints.http.errors import problems
from entrypoints.http.schemas import (
    Id,
    JsonInt,
    JsonNumber,
    Limit,
    MoneyIn,
    MoneyOut,
    Offset,
    Out,
    PageOut,
    Schema,
    page_out,
    page_request,
)
from talia_core.assistants.admin import AssistantAdmin
from talia_core.assistants.definition import (
    MAX_INSTRUCTIONS_LENGTH,
    MAX_LISTED,
    MAX_MODEL_LENGTH,
    MAX_NAME_LENGTH,
    MAX_OUTPUT_TOKENS,
    MAX_PROMPT_ID_LENGTH,
    MAX_PROMPT_VERSION_LENGTH,
    MAX_TEMPERATURE,
    MAX_TOOL_NAME_LENGTH,
    MAX_TOOL_STEPS,
    MAX_VARIABLE_NAME_LENGTH,
    MAX_VARIABLE_VALUE_LENGTH,
    MAX_VARIABLES,
    MAX_VOICE_LENGTH,
    Assistant,
    AssistantVersion,
    Channel,
    Definition,
    Fallback,
    FallbackKind,
)
from talia_core.assistants.eval_sets import MAX_EVAL_CASES, EvalSet, VersionReport
from talia_core.assistants.language import PromptRef
from talia_core.identity.model import Principal

PROVIDERS = "openai, huggingface or offline (those this deployment runs)."
ToolName = Annotated[str, Field(min_length=1, max_length=MAX_TOOL_NAME_LENGTH)]
Slug = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
_REQUIRED_WHEN_SENT = (
    "provider",
    "model",
    "variables",
    "max_tool_steps",
    "tools",
    "knowledge",
    "handoffs",
    "channels",
    "fallback",
    "enabled",
    "require_eval",
    "voice_replies",
)
Variables = dict[
    Annotated[str, Field(max_length=MAX_VARIABLE_NAME_LENGTH)],
    Annotated[str, Field(max_length=MAX_VARIABLE_VALUE_LENGTH)],
]


class PromptIn(Schema):
    id: str = Field(min_length=1, max_length=MAX_PROMPT_ID_LENGTH)
    version: str | None = Field(None, min_length=1, max_length=MAX_PROMPT_VERSION_LENGTH)
    variables: Variables = Field(default_factory=dict, max_length=MAX_VARIABLES)


class FallbackIn(Schema):
    to: FallbackKind = Field(description="model: another provider's model; offline; human.")
    provider: str | None = Field(None, max_length=16, description="With ``to: model``.")
    model: str | None = Field(None, max_length=MAX_MODEL_LENGTH, description="With ``to: model``.")


# A field left out is kept (PATCH) or takes the core's default (POST): only the fields sent
# are read (``changes``). ``null`` clears instructions, prompt, temperature and
# max_output_tokens; the other fields have a value or are left out.
class AssistantPatch(Schema):
    """The fields sent change; the others are kept."""

    provider: str | None = Field(None, min_length=1, max_length=16, description=PROVIDERS)
    model: str | None = Field(None, min_length=1, max_length=MAX_MODEL_LENGTH)
    instructions: str | None = Field(None, max_length=MAX_INSTRUCTIONS_LENGTH)
    prompt: PromptIn | None = Field(None, description="An OpenAI stored prompt (openai only).")
    variables: Variables | None = Field(
        None, max_length=MAX_VARIABLES, description="Values the instructions refer to by name."
    )
    temperature: JsonNumber | None = Field(None, ge=0, le=MAX_TEMPERATURE)
    max_output_tokens: JsonInt | None = Field(None, ge=1, le=MAX_OUTPUT_TOKENS)
    max_tool_steps: JsonInt | None = Field(
        None, ge=1, le=MAX_TOOL_STEPS, description="Model calls one turn may make (4)."
    )
    tools: list[ToolName] | None = Field(None, max_length=MAX_LISTED)
    knowledge: list[Slug] | None = Field(
        None, max_length=MAX_LISTED, description="Knowledge collection names."
    )
    handoffs: list[Slug] | None = Field(
        None, max_length=MAX_LISTED, description="Names of the assistants it may transfer to."
    )
    channels: list[Channel] | None = Field(
        None, description="Channels it is the entry assistant of, while enabled."
    )
    fallback: FallbackIn | None = Field(
        None, description="Who answers when the provider cannot (a person)."
    )
    enabled: bool | None = Field(None, description="(true)")
    daily_budget: MoneyIn | None = Field(
        None,
        description="In USD cents per UTC day; once spent, turns fall back (null: no limit).",
    )
    leads: dict[str, Any] | None = Field(
        None,
        description="Lead qualification criteria: facts with kind, weight and rule, and "
        "qualified_at (null: none); the README's Leads section has the shape.",
    )
    voice_replies: bool | None = Field(
        None, description="(false) Answer a customer's voice note with a voice note."
    )
    voice: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_VOICE_LENGTH,
        description="The speech engine's voice for those replies (null: its default).",
    )
    require_eval: bool | None = Field(
        None,
        description="(false) A new version goes live only when its pass rate on the eval "
        "set is not below the live version's; set first, it gates the change it comes with.",
    )

    @field_validator(*_REQUIRED_WHEN_SENT, mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("must not be null: leave it out to keep it")
        return value

    def changes(self) -> dict[str, Any]:
        """The definition's fields sent, as the core's ``Definition`` takes them."""
        values = {
            name: getattr(self, name)
            for name in self.model_fields_set
            if name in AssistantPatch.model_fields and name != "require_eval"
        }
        if self.prompt is not None:
            values["prompt"] = PromptRef(self.prompt.id, self.prompt.version, self.prompt.variables)
        if self.fallback is not None:
            sent = self.fallback
            values["fallback"] = Fallback(sent.to, sent.provider, sent.model)
        if self.daily_budget is not None:
            values["daily_budget"] = self.daily_budget.value()
        return values


class AssistantIn(AssistantPatch):
    """A new assistant: the fields left out take their defaults."""

    name: str = Field(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        description="A slug (front-desk) other definitions refer to; fixed once created.",
    )
    provider: str = Field(min_length=1, max_length=16, description=PROVIDERS)
    model: str = Field(min_length=1, max_length=MAX_MODEL_LENGTH)

    def definition(self) -> Definition:
        return Definition(**self.changes())


class PromptOut(Out):
    id: str
    version: str | None
    variables: Variables


class FallbackOut(Out):
    to: FallbackKind
    provider: str | None
    model: str | None


class DefinitionOut(Out):
    provider: str
    model: str
    instructions: str | None
    prompt: PromptOut | None
    variables: Variables
    temperature: float | None
    max_output_tokens: int | None
    max_tool_steps: int
    tools: list[str]
    knowledge: list[str]
    handoffs: list[str]
    channels: list[Channel]
    fallback: FallbackOut
    enabled: bool
    daily_budget: MoneyOut | None
    leads: dict[str, Any] | None
    voice_replies: bool
    voice: str | None


def _definition(definition: Definition) -> dict[str, Any]:
    return DefinitionOut.model_validate(definition).model_dump()


class ReportOut(Out):
    """A version's last evaluation on the eval set."""

    passed: int
    failed: int
    pass_rate: float = Field(description="passed / (passed + failed), from 0 to 1.")
    at: datetime
    eval_set: str = Field(description="The digest of the cases it ran: the same for the same.")
    failing: list[str] = Field(description="The names of the cases that failed.")

    @classmethod
    def of(cls, report: VersionReport | None) -> ReportOut | None:
        return None if report is None else cls.model_validate(report)


class AssistantOut(DefinitionOut):
    id: str
    name: str
    version: int = Field(description="The live version: the one its turns answer with.")
    newest_version: int = Field(
        description="The last version made: the live one unless later ones were rejected."
    )
    require_eval: bool
    report: ReportOut | None = Field(description="The live version's last evaluation.")
    created_at: datetime
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, assistant: Assistant) -> AssistantOut:
        return cls(
            id=assistant.id,
            name=assistant.name,
            version=assistant.version,
            newest_version=assistant.newest,
            require_eval=assistant.require_eval,
            report=ReportOut.of(assistant.current.report),
            created_at=assistant.created_at,
            updated_at=assistant.updated_at,
            updated_by=assistant.current.created_by,
            **_definition(assistant.definition),
        )


class VersionOut(DefinitionOut):
    assistant_id: str
    version: int
    created_by: str
    created_at: datetime
    report: ReportOut | None = Field(description="Its last evaluation on the eval set.")
    rejected: str | None = Field(
        description="Why it never went live: the eval set turned it down (null: it went live)."
    )

    @classmethod
    def of(cls, version: AssistantVersion) -> VersionOut:
        return cls(
            assistant_id=version.assistant_id,
            version=version.version,
            created_by=version.created_by,
            created_at=version.created_at,
            report=ReportOut.of(version.report),
            rejected=version.rejected,
            **_definition(version.definition),
        )


class EvalSetIn(Schema):
    cases: list[Any] = Field(
        max_length=MAX_EVAL_CASES,
        description="The cases, each an object shaped like a line of the JSON Lines file "
        "`talia assistants eval` reads: name, messages, channel, assistant, contact_name, "
        "expect.",
    )


class EvalSetOut(Out):
    assistant_id: str
    cases: list[dict[str, Any]] = Field(description="As checked, defaults left out.")
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, eval_set: EvalSet) -> EvalSetOut:
        return cls(
            assistant_id=eval_set.assistant_id,
            cases=[dict(case) for case in eval_set.cases],
            updated_by=eval_set.updated_by,
            updated_at=eval_set.updated_at,
        )


class AssistantController(Controller):
    path = "/api/assistants"
    tags = ["assistants", "admin"]
    guards = [admin_only]

    @get("/", responses=problems(400, 401, 403))
    async def list_assistants(
        self, assistants: NamedDependency[AssistantAdmin], limit: Limit = 50, offset: Offset = 0
    ) -> PageOut[AssistantOut]:
        """Assistant definitions at their current version, newest first."""
        page = await assistants.list(page_request(limit, offset))
        return page_out(page, AssistantOut.of)

    @post("/", responses=problems(400, 401, 403, 409, 422))
    async def create_assistant(
        self,
        data: JSONBody[AssistantIn],
        assistants: NamedDependency[AssistantAdmin],
        principal: NamedDependency[Principal],
    ) -> AssistantOut:
        """Version 1 of a new assistant. 422 names the field for an unknown provider,
        model, tool or hand-off target; 409 for a taken name or a channel that another
        enabled assistant answers."""
        assistant = await assistants.create(
            data.name,
            data.definition(),
            by=principal.user_id,
            require_eval=bool(data.require_eval),
        )
        return AssistantOut.of(assistant)

    @get("/{assistant_id:str}", responses=problems(400, 401, 403, 404))
    async def get_assistant(
        self, assistant_id: Id, assistants: NamedDependency[AssistantAdmin]
    ) -> AssistantOut:
        return AssistantOut.of(await assistants.get(assistant_id))

    @patch("/{assistant_id:str}", responses=problems(400, 401, 403, 404, 409, 422))
    async def revise_assistant(
        self,
        assistant_id: Id,
        data: JSONBody[AssistantPatch],
        assistants: NamedDependency[AssistantAdmin],
        principal: NamedDependency[Principal],
    ) -> AssistantOut:
        """The next version: the fields sent change, the others are kept. A change that
        changes nothing makes no version.

        With ``require_eval`` on and an eval set, the new version is evaluated on it first
        (a dry run: no tool that acts is performed) and goes live only when its pass rate is
        not below the live version's (evaluated too when its last report was made on other
        cases). Otherwise it is kept as a rejected version, listed with its report and why,
        the live version stays, and the answer is a 422 naming each failing case as
        ``cases[name]`` with its reasons. A change that disables the assistant is never
        held back."""
        assistant = await assistants.revise(
            assistant_id, data.changes(), by=principal.user_id, require_eval=data.require_eval
        )
        return AssistantOut.of(assistant)

    @get("/{assistant_id:str}/versions", responses=problems(400, 401, 403, 404))
    async def list_versions(
        self,
        assistant_id: Id,
        assistants: NamedDependency[AssistantAdmin],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PageOut[VersionOut]:
        """Every version the assistant had, newest first, with the rejected ones."""
        page = await assistants.versions(assistant_id, page_request(limit, offset))
        return page_out(page, VersionOut.of)

    @get("/{assistant_id:str}/eval-set", responses=problems(400, 401, 403, 404))
    async def get_eval_set(
        self, assistant_id: Id, assistants: NamedDependency[AssistantAdmin]
    ) -> EvalSetOut:
        """The assistant's eval set; 404 when it has none."""
        return EvalSetOut.of(await assistants.eval_set(assistant_id))

    @put("/{assistant_id:str}/eval-set", responses=problems(400, 401, 403, 404, 422))
    async def put_eval_set(
        self,
        assistant_id: Id,
        data: JSONBody[EvalSetIn],
        assistants: NamedDependency[AssistantAdmin],
        principal: NamedDependency[Principal],
    ) -> EvalSetOut:
        """Replace the assistant's eval set. 422 names each bad case by its place,
        ``cases[0]`` the first, saying what is wrong with it; nothing is stored then."""
        eval_set = await assistants.put_eval_set(assistant_id, data.cases, by=principal.user_id)
        return EvalSetOut.of(eval_set)


CONTROLLERS = [AssistantController]
