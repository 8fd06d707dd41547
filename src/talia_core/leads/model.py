"""A lead: one per contact and business line, with its facts, score, stage and owner.

Every change of a fact, the score, the stage, the owner or the notes is returned as a
``LeadChange`` naming its cause, for the history; the use cases store them with the lead.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime

import attrs

from talia_core.leads.criteria import Criteria, FactValue
from talia_core.leads.scoring import assessed_stage, score
from talia_core.leads.stages import ASSESSED, Stage, may_move
from talia_core.shared.errors import Conflict, RuleViolated
from talia_core.shared.ids import new_id
from talia_core.shared.text import optional_text, required_text

MAX_REASON_LENGTH = 500
MAX_NOTES_LENGTH = 5_000
MAX_CHANNEL_LENGTH = 32
MAX_BY_LENGTH = 100


class Cause(enum.StrEnum):
    """What made a change: the contact writing, a model's tool call, an extraction rule
    reading the contact's message, a person of the team, or an appointment booked or
    cancelled."""

    CONTACT = "contact"
    TOOL_CALL = "tool_call"
    RULE = "rule"
    AGENT = "agent"
    APPOINTMENT = "appointment"


class ChangeKind(enum.StrEnum):
    CREATED = "created"
    FACT = "fact"
    SCORE = "score"
    STAGE = "stage"
    OWNER = "owner"
    NOTES = "notes"


def _by(value: str | None) -> str | None:
    return optional_text("by", value, MAX_BY_LENGTH)


@attrs.frozen
class Origin:
    """Who or what caused a change: ``by`` is a user id, a tool and assistant, a rule."""

    cause: Cause
    by: str | None = attrs.field(default=None, converter=_by)


@attrs.frozen
class LeadChange:
    lead_id: str
    at: datetime
    kind: ChangeKind
    cause: Cause
    by: str | None = None
    field: str | None = None
    before: str | None = None
    after: str | None = None
    reason: str | None = None
    id: str = attrs.field(factory=new_id)


def _text(value: FactValue | Stage | int | None) -> str | None:
    return None if value is None else str(value)


@attrs.define
class Lead:
    contact_id: str
    business_line: str
    channel: str
    first_contact_at: datetime
    last_contact_at: datetime
    created_at: datetime
    updated_at: datetime
    stage: Stage = Stage.NEW
    score: int = 0
    facts: dict[str, FactValue] = attrs.field(factory=dict)
    owner_id: str | None = None
    notes: str | None = None
    id: str = attrs.field(factory=new_id)

    @classmethod
    def open(
        cls, contact_id: str, business_line: str, channel: str, at: datetime
    ) -> tuple[Lead, LeadChange]:
        lead = cls(
            contact_id=contact_id,
            business_line=business_line,
            channel=required_text("channel", channel, MAX_CHANNEL_LENGTH),
            first_contact_at=at,
            last_contact_at=at,
            created_at=at,
            updated_at=at,
        )
        change = LeadChange(lead.id, at, ChangeKind.CREATED, Cause.CONTACT, after=Stage.NEW.value)
        return lead, change

    def touch(self, at: datetime) -> None:
        """The contact wrote again: a late delivery never moves the times back."""
        self.last_contact_at = max(self.last_contact_at, at)
        self.first_contact_at = min(self.first_contact_at, at)

    def learn(
        self, facts: Mapping[str, object], criteria: Criteria, origin: Origin, at: datetime
    ) -> list[LeadChange]:
        """Take ``facts`` (all or none: one of the wrong type refuses them all, naming it),
        then the score and, while the facts decide it, the stage they imply."""
        if not facts:
            raise RuleViolated("no facts were given", {"facts": "empty"})
        checked: dict[str, FactValue] = {}
        for name, value in facts.items():
            rule = criteria.rule(name)
            if rule is None:
                known = ", ".join(criteria.names) or "none"
                raise RuleViolated(
                    f"{name!r} is not a fact of this business; known: {known}",
                    {f"facts.{name}": "unknown"},
                )
            checked[name] = rule.checked(value)
        changes = []
        for name, value in checked.items():
            before = self.facts.get(name)
            if before != value:
                self.facts[name] = value
                changes.append(self._change(ChangeKind.FACT, origin, at, before, value, name))
        if changes:
            changes.extend(self.reassess(criteria, origin, at))
            self.updated_at = at
        return changes

    def reassess(self, criteria: Criteria, origin: Origin, at: datetime) -> list[LeadChange]:
        changes = []
        points = score(self.facts, criteria)
        if points != self.score:
            changes.append(self._change(ChangeKind.SCORE, origin, at, self.score, points))
            self.score = points
        if self.stage in ASSESSED:
            stage = assessed_stage(self.facts, criteria)
            if stage is not self.stage:
                changes.append(self._change(ChangeKind.STAGE, origin, at, self.stage, stage))
                self.stage = stage
        return changes

    def move(self, target: Stage, *, reason: str, origin: Origin, at: datetime) -> LeadChange:
        """A person (or a booking) sets the stage; the reason is mandatory."""
        why = required_text("reason", reason, MAX_REASON_LENGTH)
        if target is self.stage:
            raise Conflict(f"the lead is already {target.value}")
        if not may_move(self.stage, target):
            raise Conflict(f"a {self.stage.value} lead cannot become {target.value}")
        change = self._change(ChangeKind.STAGE, origin, at, self.stage, target, reason=why)
        self.stage = target
        self.updated_at = at
        return change

    def assign(self, owner_id: str | None, origin: Origin, at: datetime) -> LeadChange | None:
        if owner_id == self.owner_id:
            return None
        change = self._change(ChangeKind.OWNER, origin, at, self.owner_id, owner_id)
        self.owner_id = owner_id
        self.updated_at = at
        return change

    def annotate(self, notes: str | None, origin: Origin, at: datetime) -> LeadChange | None:
        cleaned = optional_text("notes", notes, MAX_NOTES_LENGTH)
        if cleaned == self.notes:
            return None
        change = self._change(ChangeKind.NOTES, origin, at, self.notes, cleaned)
        self.notes = cleaned
        self.updated_at = at
        return change

    def _change(
        self,
        kind: ChangeKind,
        origin: Origin,
        at: datetime,
        before: FactValue | Stage | None,
        after: FactValue | Stage | None,
        field: str | None = None,
        reason: str | None = None,
    ) -> LeadChange:
        return LeadChange(
            lead_id=self.id,
            at=at,
            kind=kind,
            cause=origin.cause,
            by=origin.by,
            field=field,
            before=_text(before),
            after=_text(after),
            reason=reason,
        )
