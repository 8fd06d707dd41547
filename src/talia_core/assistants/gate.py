"""The eval gate: with ``require_eval`` on, a new version goes live only when its pass rate
on the assistant's eval set is not below the live version's.

Both are played by the same ``Evaluation`` (a dry run: no tool that acts is performed),
the candidate in the live one's place. The live version's stored report counts when it
was made on the same cases (the set's digest); otherwise the live version is evaluated
first, and that report kept too. A disabled live version answers nothing, so any candidate
passes it; a candidate that disables the assistant is not evaluated at all (it answers
nothing either): switching an assistant off is never held back.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from talia_core.assistants.definition import Assistant, AssistantVersion
from talia_core.assistants.eval_parser import cases_from_data
from talia_core.assistants.eval_sets import EvalSet, VersionReport
from talia_core.assistants.evaluation import EvalReport, Evaluation
from talia_core.shared.clock import Clock
from talia_core.shared.errors import RuleViolated


class RevisionRejected(RuleViolated):
    """The eval set turned a revision down: ``version`` is kept, rejected, and the live one
    stays; ``fields`` name each failing case (``cases[name]``) with its reasons."""

    def __init__(self, version: AssistantVersion, failures: Mapping[str, str]) -> None:
        failing = ", ".join(failures) or "none"
        super().__init__(
            f"version {version.version} was not made live: {version.rejected}; "
            f"failing cases: {failing}",
            {f"cases[{name}]": reasons for name, reasons in failures.items()},
        )
        self.version = version


@attrs.frozen
class Judgement:
    """``candidate`` with its report (and, when turned down, why); ``live_report``: the
    live version's, when it was evaluated now; ``failures``: the candidate's failing
    cases, each with its reasons."""

    candidate: AssistantVersion
    live_report: VersionReport | None
    failures: Mapping[str, str]

    def refused(self) -> RevisionRejected | None:
        """The error that says why the candidate is not live, when it is not."""
        if self.candidate.rejected is None:
            return None
        return RevisionRejected(self.candidate, self.failures)


def gated(assistant: Assistant, candidate: AssistantVersion) -> bool:
    """Whether ``candidate`` must pass the gate to go live, when there is an eval set."""
    return assistant.require_eval and candidate.definition.enabled


class EvalGate:
    def __init__(self, evaluation: Evaluation, clock: Clock) -> None:
        self._evaluation = evaluation
        self._clock = clock

    async def judge(
        self, assistant: Assistant, candidate: AssistantVersion, eval_set: EvalSet
    ) -> Judgement:
        """``candidate`` evaluated on ``eval_set`` against ``assistant``'s live version
        (evaluated too when its report is missing or made on other cases)."""
        cases = cases_from_data(eval_set.cases)
        digest = eval_set.digest
        live = assistant.current
        bar, live_report = live.report, None
        if not live.definition.enabled:
            bar = None
        elif bar is None or bar.eval_set != digest:
            played = await self._evaluation.run(cases, assistant=assistant.name)
            bar = live_report = self._report(played, digest)
        played = await self._evaluation.run(cases, assistant=assistant.name, candidate=candidate)
        report = self._report(played, digest)
        failures = {r.name: "; ".join(r.reasons) for r in played.results if not r.passed}
        rejected = None
        if bar is not None and not report.not_below(bar):
            rejected = (
                f"its pass rate, {_rate(report)}, is below live version {live.version}'s, "
                f"{_rate(bar)}"
            )
        judged = attrs.evolve(candidate, report=report, rejected=rejected)
        return Judgement(judged, live_report, failures)

    def _report(self, played: EvalReport, digest: str) -> VersionReport:
        failing = tuple(result.name for result in played.results if not result.passed)
        return VersionReport(played.passed, played.failed, self._clock.now(), digest, failing)


def _rate(report: VersionReport) -> str:
    total = report.passed + report.failed
    return f"{report.passed} of {total} cases ({report.pass_rate:.0%})"
