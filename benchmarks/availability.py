"""Latency of ``GET /api/availability`` for a month of 30-minute slots with 500 appointments
booked in it, on SQLite and PostgreSQL, beside a bare Litestar endpoint; and 50 bookings
racing for 10 slots over HTTP.

    .venv/bin/python -m benchmarks.availability [--seconds 5] [--concurrency 8]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/talia_bench]

The PostgreSQL database is emptied first. Business hours are every day 08:00-20:00, so the
month holds 720 slots; 500 of them are booked before the server starts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import tempfile
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
from tests.databases import fresh_engine

from benchmarks.loadgen import get, run, summary
from benchmarks.servers import free_port, serving, uvicorn
from entrypoints.bootstrap import open_talia
from entrypoints.seed import prepare_demo
from entrypoints.settings import Settings

HOURS = "mon-sun 08:00-20:00"
CREDENTIALS = {"email": "admin@example.com", "password": "talia-demo-2026"}


def _environment(url: str, port: int) -> dict[str, str]:
    return {
        "TALIA_DATABASE__URL": url,
        "TALIA_HTTP__PORT": str(port),
        "TALIA_CALENDAR__BUSINESS_HOURS": HOURS,
        "TALIA_CALENDAR__HORIZON_DAYS": "90",
        "TALIA_AUTH__LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000000",
        "TALIA_AUTH__LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000",
    }


async def _prepare(url: str, start: datetime) -> None:
    """Migrated, seeded, and 500 appointments booked through the use case."""
    settings = Settings(
        database={"url": url},  # type: ignore[arg-type]
        calendar={"business_hours": HOURS, "horizon_days": 90},  # type: ignore[arg-type]
    )
    engine = await fresh_engine("bench", "", url)
    await engine.dispose()
    await prepare_demo(settings)
    async with open_talia(settings) as talia:
        free = await talia.scheduling.availability(start, start + timedelta(days=30))
        for slot in free[:: max(1, len(free) // 500)][:500]:
            await talia.scheduling.book(starts_at=slot.start, booked_by="benchmark")


def _token(port: int) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/auth/login",
        data=json.dumps(CREDENTIALS).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return str(json.load(response)["access_token"])


async def _race(port: int, month_end: datetime) -> str:
    """50 bookings for the first 10 free slots after the month, five per slot, at once."""
    headers = {"Authorization": f"Bearer {_token(port)}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        query = {"from": month_end.isoformat(), "to": (month_end + timedelta(days=2)).isoformat()}
        slots = (await client.get("/api/availability", params=query)).json()["slots"][:10]
        bodies = [{"starts_at": s["starts_at"]} for s in slots for _ in range(5)]
        answers = await asyncio.gather(
            *(client.post("/api/appointments", json=b, headers=headers) for b in bodies)
        )
    booked = sum(a.status_code == 201 for a in answers)
    gone = sum(a.status_code == 409 for a in answers)
    return f"50 bookings for 10 slots: {booked} booked, {gone} told the slot is gone"


async def main(seconds: float, concurrency: int, warmup: float, postgres: str | None) -> None:
    options = {"seconds": seconds, "concurrency": concurrency, "warmup_seconds": warmup}
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    start = start.replace(microsecond=0)
    window = {"from": start.isoformat(), "to": (start + timedelta(days=30)).isoformat()}
    month = f"/api/availability?{urlencode(window)}"
    results = []
    races = []
    port = free_port()
    with serving(uvicorn("benchmarks.bare_app:app", port), port):
        results.append(await run("bare Litestar GET /health", port, get("/health"), **options))
    with tempfile.TemporaryDirectory() as tmp:
        databases = [("SQLite", f"sqlite+aiosqlite:///{Path(tmp)}/talia.db")]
        if postgres:
            databases.append(("PostgreSQL", postgres))
        for name, url in databases:
            await _prepare(url, start)
            port = free_port()
            env = {**_environment(url, port), "TALIA_DEMO_DATA": "true"}
            with serving(["-m", "entrypoints", "serve"], port, env=env, cwd=Path(tmp)):
                label = f"Talia GET /api/availability, month ({name})"
                results.append(await run(label, port, get(month), **options))
                races.append(f"{name}: {await _race(port, start + timedelta(days=30))}")
    print(f"{platform.node()}: Python {platform.python_version()}, {concurrency} connections")
    print(summary(results))
    print("\n".join(races))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--warmup",
        type=float,
        default=10.0,
        help="seconds before measuring (the jobs run "
        "in the server drain the 500 bookings' events meanwhile)",
    )
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.warmup, args.postgres))
