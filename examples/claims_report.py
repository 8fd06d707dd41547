"""A batch job using Talia in-process: print the open claims of the claims book.

TALIA_DATABASE__URL=sqlite+aiosqlite:///./talia.db python examples/claims_report.py
"""

from __future__ import annotations

import asyncio

from entrypoints.bootstrap import open_talia
from entrypoints.settings import load_settings
from talia_core.feedback.model import ClaimStatus
from talia_core.shared.pagination import PageRequest


async def report() -> list[str]:
    async with open_talia(load_settings()) as talia:
        page = await talia.feedback.list_claims(PageRequest(limit=200), status=ClaimStatus.OPEN)
    lines = [f"{page.total} open claim(s)"]
    lines += [
        f"#{claim.number:>5}  {claim.filed_at:%Y-%m-%d}  {claim.customer_name}: {claim.subject}"
        for claim in page.items
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(asyncio.run(report())))
