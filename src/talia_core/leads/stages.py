"""The stages of a lead and the moves between them."""

from __future__ import annotations

import enum


class Stage(enum.StrEnum):
    NEW = "new"
    QUALIFYING = "qualifying"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    BOOKED = "booked"
    WON = "won"
    LOST = "lost"


ASSESSED = frozenset({Stage.NEW, Stage.QUALIFYING, Stage.QUALIFIED, Stage.DISQUALIFIED})
"""Stages the facts move a lead between by themselves; past them only people (or a
booking) move it."""

MOVES: dict[Stage, frozenset[Stage]] = {
    Stage.NEW: frozenset(
        {Stage.QUALIFYING, Stage.QUALIFIED, Stage.DISQUALIFIED, Stage.BOOKED, Stage.LOST}
    ),
    Stage.QUALIFYING: frozenset(
        {Stage.NEW, Stage.QUALIFIED, Stage.DISQUALIFIED, Stage.BOOKED, Stage.LOST}
    ),
    Stage.QUALIFIED: frozenset({Stage.QUALIFYING, Stage.DISQUALIFIED, Stage.BOOKED, Stage.LOST}),
    Stage.DISQUALIFIED: frozenset({Stage.QUALIFYING, Stage.QUALIFIED, Stage.BOOKED, Stage.LOST}),
    Stage.BOOKED: frozenset({Stage.QUALIFIED, Stage.WON, Stage.LOST}),
    Stage.WON: frozenset(),
    Stage.LOST: frozenset({Stage.QUALIFYING}),
}
"""Where a lead may go from each stage; a won lead stays won, a lost one may be reopened.
A booked appointment outweighs the facts: any assessed lead may become booked."""


def may_move(origin: Stage, target: Stage) -> bool:
    return target in MOVES[origin]
