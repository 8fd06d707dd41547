"""A nightly job using Talia in-process: expire stale pending orders, then print the last
30 days of sales.

TALIA_DATABASE__URL=sqlite+aiosqlite:///./talia.db python examples/expire_and_report.py
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from entrypoints.bootstrap import open_talia
from entrypoints.settings import load_settings
from talia_core.commerce.actor import Actor
from talia_core.shared.clock import SystemClock


async def nightly() -> list[str]:
    async with open_talia(load_settings()) as talia:
        report = await talia.orders.expire_stale()
        today = SystemClock().now().date()
        # A batch job acts as the system, with an admin's rights.
        summary = await talia.orders.sales_summary(
            Actor("system:nightly-report", is_admin=True), today - timedelta(days=29), today
        )
    lines = [f"{report.expired} of {report.examined} stale pending orders expired"]
    for day in summary.days:
        revenue = f"{day.revenue.amount / 100:.2f} {day.revenue.currency}"
        lines.append(f"{day.day}  {day.orders:>4} orders  {revenue:>14}")
    lines.append(f"30 days: {summary.orders} orders, {summary.revenue.amount / 100:.2f} revenue")
    return lines


if __name__ == "__main__":
    print("\n".join(asyncio.run(nightly())))
