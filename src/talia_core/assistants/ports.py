"""What assistant definitions need from storage."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from talia_core.assistants.definition import Assistant, AssistantVersion, Channel
from talia_core.assistants.eval_sets import EvalSet
from talia_core.assistants.prices import PriceTable
from talia_core.assistants.usage import DailyUsage, ModelCall, Outcome
from talia_core.shared.pagination import Page, PageRequest
from talia_core.shared.ports import UnitOfWork


class AssistantRepository(Protocol):
    """Names are unique, and so is each channel's entry assistant (see ``definition``):
    ``add`` and ``update`` raise ``Conflict`` on a clash, whatever the caller checked. Reads
    give each assistant with its live version, never a newer rejected one."""

    async def add(self, assistant: Assistant) -> None:
        """Store a new assistant with its first version."""
        ...

    async def get(self, assistant_id: str) -> Assistant:
        """With its live version; ``NotFound`` when missing, locked in a writing unit."""
        ...

    async def by_name(self, name: str) -> Assistant | None: ...

    async def entry_for(self, channel: Channel) -> Assistant | None:
        """The enabled assistant that answers ``channel``, if one does."""
        ...

    async def add_version(self, version: AssistantVersion) -> None:
        """Store a new version of a stored assistant; ``Conflict`` when its number is taken."""
        ...

    async def update(self, assistant: Assistant) -> None:
        """Store which version is live and the newest, ``require_eval``, and the live
        version's report; the channels it enters by follow the live definition. The
        versions themselves are stored by ``add`` and ``add_version``."""
        ...

    async def find(self, page: PageRequest) -> Page[Assistant]:
        """Most recently created first."""
        ...

    async def versions(self, assistant_id: str, page: PageRequest) -> Page[AssistantVersion]:
        """The assistant's versions, rejected ones included, newest first; an unknown id
        has none."""
        ...


class EvalSetRepository(Protocol):
    async def get(self, assistant_id: str) -> EvalSet | None:
        """The assistant's eval set, if it has one."""
        ...

    async def put(self, eval_set: EvalSet) -> None:
        """Store ``eval_set`` as its assistant's, in place of any earlier one."""
        ...


class AssistantsUnitOfWork(UnitOfWork, Protocol):
    @property
    def assistants(self) -> AssistantRepository: ...

    @property
    def eval_sets(self) -> EvalSetRepository: ...


class ModelCallRepository(Protocol):
    """Days are UTC and ``first`` to ``last`` includes both; ``assistant`` is a name."""

    async def add(self, call: ModelCall) -> None:
        """``Conflict`` when a call with its id is stored already."""
        ...

    async def daily(
        self, first: date, last: date, assistant: str | None = None
    ) -> list[DailyUsage]:
        """The calls summed per day, assistant, provider and model, in that order."""
        ...

    async def find(
        self,
        first: date,
        last: date,
        page: PageRequest,
        *,
        assistant: str | None = None,
        outcome: Outcome | None = None,
    ) -> Page[ModelCall]:
        """The calls themselves, newest first."""
        ...


class ModelPriceRepository(Protocol):
    async def table(self) -> PriceTable: ...

    async def replace(self, table: PriceTable) -> None:
        """Make ``table`` the whole price table."""
        ...


class UsageUnitOfWork(UnitOfWork, Protocol):
    @property
    def model_calls(self) -> ModelCallRepository: ...

    @property
    def model_prices(self) -> ModelPriceRepository: ...


class EvaluationUnitOfWork(AssistantsUnitOfWork, UsageUnitOfWork, Protocol):
    """What an evaluation reads its assistants through and records its model calls in."""
