"""``talia assistants eval FILE.jsonl --assistant NAME [--json]``: scripted conversations
run against an assistant's current definition (``talia_core.assistants.evaluation``).

One line a case as it ends, ``PASS name`` or ``FAIL name: reason; reason``, then
``N passed, M failed`` (or, with ``--json``, the report as one JSON document). Exit code
0 when every case passes, 1 when one fails, 2 for a bad file or an unknown assistant.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from entrypoints.bootstrap import open_talia
from entrypoints.settings import Settings
from talia_core.assistants.eval_parser import BadCases, parse_cases
from talia_core.assistants.evaluation import CaseResult, EvalCase, EvalReport
from talia_core.shared.errors import NotFound, RuleViolated

BAD_INPUT = 2


def add_commands(commands: Any) -> None:
    """``assistants eval`` among ``commands``, the subparsers of ``talia``."""
    actions = commands.add_parser("assistants", help="check assistant definitions").add_subparsers(
        dest="action", required=True
    )
    evaluate = actions.add_parser(
        "eval", help="run scripted conversations against an assistant; exit 1 when one fails"
    )
    evaluate.add_argument("file", type=Path, help="the cases, one JSON object a line")
    evaluate.add_argument("--assistant", required=True, help="the assistant's name")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        cases = parse_cases(args.file.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError) as error:
        print(f"talia: cannot read {args.file}: {error}", file=sys.stderr)
        return BAD_INPUT
    except BadCases as bad:
        for problem in bad.problems:
            print(f"talia: {args.file}: {problem}", file=sys.stderr)
        return BAD_INPUT
    show = None if args.json else _print_line
    try:
        report = asyncio.run(_evaluate(settings, cases, args.assistant, show))
    except (NotFound, RuleViolated) as error:
        print(f"talia: {error.detail}", file=sys.stderr)
        return BAD_INPUT
    if args.json:
        print(json.dumps(_document(report), ensure_ascii=False, indent=2))
    else:
        print(f"{report.passed} passed, {report.failed} failed")
    return 0 if report.failed == 0 else 1


async def _evaluate(
    settings: Settings,
    cases: Sequence[EvalCase],
    assistant: str,
    show: Callable[[CaseResult], None] | None,
) -> EvalReport:
    async with open_talia(settings) as talia:
        return await talia.evaluation.run(cases, assistant=assistant, on_result=show)


def _print_line(result: CaseResult) -> None:
    if result.passed:
        print(f"PASS {result.name}", flush=True)
    else:
        print(f"FAIL {result.name}: {'; '.join(result.reasons)}", flush=True)


def _document(report: EvalReport) -> dict[str, Any]:
    return {
        "assistant": report.assistant,
        "version": report.version,
        "passed": report.passed,
        "failed": report.failed,
        "pass_rate": report.pass_rate,
        "cases": [
            {"name": r.name, "passed": r.passed, "reasons": list(r.reasons)} for r in report.results
        ],
    }
