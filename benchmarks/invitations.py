"""Requests/s and p99 of what guests open — an invitation's page ``GET /i/{slug}`` (rendered
once per version, then served from the cache; also revalidated with its ETag, a 304) and
its short URL ``GET /r/{code}`` (a 302, its click tallied and written with the others each
second) — each against a bare Litestar endpoint measured in turns with it (``--rounds``
turns of each, ``--seconds`` in all), with Talia's own ``/health`` as the floor every route
shares. Beside requests/s, each server's CPU time a request: on a busy machine the rates
move with what else runs, the CPU a request hardly does.

    .venv/bin/python -m benchmarks.invitations [--seconds 5] [--rounds 5] [--concurrency 32]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/talia_bench]

``--postgres`` names a database the script empties and migrates. Each server runs on
loopback with one worker, as ``talia serve`` does; the invitation is made, filled in with
two events, published and shortened through the use cases before the server starts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.databases import fresh_engine

from benchmarks.loadgen import RequestFactory, Result, get, run, summary
from benchmarks.servers import free_port, serving, uvicorn
from entrypoints.bootstrap import open_talia
from entrypoints.seed import prepare_demo
from entrypoints.settings import Settings
from talia_core.invitations.model import Event
from talia_core.invitations.services import Caller

TARGET = 0.40
LIMA = ZoneInfo("America/Lima")
ADMIN = Caller("benchmark-admin", is_admin=True)
DATA = {
    "partner_one": "Ana María",
    "partner_two": "Luis",
    "date": "2027-02-14",
    "headline": "¡Nos casamos!",
    "message": "Queremos compartir este día contigo. " * 8,
    "dress_code": "Formal",
}


async def _prepare(url: str) -> tuple[str, str]:
    """Migrated and seeded; one published invitation and its short URL: (slug, code)."""
    engine = await fresh_engine("bench", "", url)
    await engine.dispose()
    settings = Settings(database={"url": url})  # type: ignore[arg-type]
    await prepare_demo(settings)
    async with open_talia(settings) as talia:
        made = await talia.invitations.create(
            ADMIN, owner_id="benchmark-owner", template_id=None, plan_id=None
        )
        await talia.invitations.save_data(ADMIN, made.id, DATA, merge=False)
        for kind, hour in (("Ceremonia", 16), ("Fiesta", 20)):
            event = Event(
                type=kind,
                starts_at=datetime(2027, 2, 14, hour, tzinfo=LIMA),
                time_zone="America/Lima",
                venue="Hacienda Los Ficus",
                address="Av. Los Ficus 123, Lima",
            )
            await talia.invitations.add_event(ADMIN, made.id, event)
        published = await talia.invitations.publish(ADMIN, made.id, slug=None)
        short_url = await talia.public_invitations.shorten(ADMIN, made.id)
    return str(published.slug), short_url.code


def _etag(port: int, path: str) -> str:
    """The page's ETag as the load generator's requests get it (the host is in the page)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": "bench"})
    with urllib.request.urlopen(request) as response:
        return str(response.headers["ETag"])


def _load(average: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.2f}" for value in average)


def _ratio(result: Result, bare: Result) -> str:
    rate = result.rate / bare.rate
    verdict = "meets" if rate >= TARGET else "misses"
    line = (
        f"{result.label}: {rate:.0%} of bare requests/s ({verdict} the {TARGET:.0%} target), "
        f"p99 {result.percentile(0.99):.2f} ms vs {bare.percentile(0.99):.2f} ms"
    )
    cpu, bare_cpu = result.cpu_per_request_us, bare.cpu_per_request_us
    return f"{line}; by CPU a request {bare_cpu / cpu:.0%}" if cpu and bare_cpu else line


async def _in_turns(
    label: str,
    served: tuple[int, int, RequestFactory, int],
    bare: tuple[int, int],
    *,
    seconds: float,
    concurrency: int,
    rounds: int,
) -> tuple[Result, Result]:
    """The route and bare Litestar measured in ``rounds`` alternating turns: a shared
    machine's load moves within a run, and both see the same."""
    port, pid, request, status = served
    bare_port, bare_pid = bare
    options: dict[str, Any] = {
        "seconds": seconds / rounds,
        "concurrency": concurrency,
        "warmup_seconds": 0.5,
    }
    bare_turns, turns = [], []
    for _ in range(rounds):
        bare_turns.append(await run("", bare_port, get("/health"), server_pid=bare_pid, **options))
        turns.append(await run("", port, request, ok=status.__eq__, server_pid=pid, **options))
    return (
        Result.merged(f"  bare Litestar, in turns with {label[6:]}", bare_turns),
        Result.merged(label, turns),
    )


async def main(seconds: float, concurrency: int, rounds: int, postgres: str | None) -> None:
    load_before = os.getloadavg()
    results: list[Result] = []
    ratios = []
    bare_port = free_port()
    with (
        serving(uvicorn("benchmarks.bare_app:app", bare_port), bare_port) as bare_pid,
        tempfile.TemporaryDirectory() as tmp,
    ):
        databases = [("SQLite", f"sqlite+aiosqlite:///{Path(tmp)}/talia.db")]
        if postgres:
            databases.append(("PostgreSQL", postgres))
        for name, url in databases:
            slug, code = await _prepare(url)
            port = free_port()
            env = {"TALIA_DATABASE__URL": url, "TALIA_HTTP__PORT": str(port)}
            with serving(["-m", "entrypoints", "serve"], port, env=env, cwd=Path(tmp)) as pid:
                page = f"/i/{slug}"
                routes = [
                    # Every Talia route's floor of work (request id, metrics, log line, auth).
                    (f"Talia GET /health ({name})", get("/health"), 200),
                    (f"Talia GET /i/{{slug}} ({name})", get(page), 200),
                    (
                        f"Talia GET /i/{{slug}} 304 ({name})",
                        get(page, {"If-None-Match": _etag(port, page)}),
                        304,
                    ),
                    (f"Talia GET /r/{{code}} ({name})", get(f"/r/{code}"), 302),
                ]
                for label, request, status in routes:
                    bare, result = await _in_turns(
                        label,
                        (port, pid, request, status),
                        (bare_port, bare_pid),
                        seconds=seconds,
                        concurrency=concurrency,
                        rounds=rounds,
                    )
                    results += [bare, result]
                    ratios.append(_ratio(result, bare))
    print(f"{platform.node()}: Python {platform.python_version()}, {concurrency} connections")
    # The machine may be shared: what else ran shows in the load average (1, 5, 15 min).
    print(f"load average before {_load(load_before)}, after {_load(os.getloadavg())}")
    print(summary(results))
    print("\n".join(ratios))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.rounds, args.postgres))
