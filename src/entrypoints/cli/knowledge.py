"""``talia knowledge reindex [--batch N]``: give every passage a vector of the configured
embedder (``TALIA_KNOWLEDGE__EMBEDDER``), then drop the vectors of any other model.

Searches keep answering all along: each batch commits on its own, and passages still
waiting for their vector are found by full-text search. A progress bar on a terminal, one
summary line otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from rich.progress import Progress

from entrypoints.bootstrap import open_talia
from entrypoints.settings import Settings
from talia_core.knowledge.ingestion import Reindexed


def add_commands(commands: Any) -> None:
    """``knowledge reindex`` among ``commands``, the subparsers of ``talia``."""
    actions = commands.add_parser("knowledge", help="look after the knowledge base").add_subparsers(
        dest="action", required=True
    )
    reindex = actions.add_parser(
        "reindex", help="rebuild the passages' vectors for the configured embedder"
    )
    reindex.add_argument("--batch", type=int, default=64, help="passages embedded per call")


def run(settings: Settings, args: argparse.Namespace) -> int:
    report = asyncio.run(_reindex(settings, args.batch))
    print(
        f"talia: {report.embedded} passages embedded, "
        f"{report.forgotten} vectors of other models dropped"
    )
    return 0


async def _reindex(settings: Settings, batch: int) -> Reindexed:
    async with open_talia(settings) as talia:
        if not sys.stdout.isatty():
            return await talia.ingestion.reindex(batch)
        with Progress(transient=True) as bar:
            task = bar.add_task("embedding passages", total=None)

            def advance(done: int) -> None:
                bar.update(task, completed=done)

            return await talia.ingestion.reindex(batch, progress=advance)
