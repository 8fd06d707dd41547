"""Signed WhatsApp webhooks acknowledged per second, against a bare Litestar endpoint.

    .venv/bin/python -m benchmarks.webhooks [--seconds 10] [--concurrency 32]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/talia_bench]

Each request is a Meta Cloud API notification carrying one text message with a unique
message id, signed ``X-Hub-Signature-256`` as Meta signs it. Talia runs as ``talia serve``
does (one worker, JSON request logs) with the jobs left to a separate ``talia worker``
(``TALIA_JOBS__RUN_IN_PROCESS=false``), so the figure is the acknowledge path: verify,
parse, commit to the inbox with its job, answer. After the run the script counts the inbox
rows and jobs: every acknowledged message must be there exactly once. Then it starts a
worker and times how long it takes to drain what was stored.

``--postgres`` names an empty, existing database; the script migrates it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from benchmarks.loadgen import Result, post, run, summary
from benchmarks.servers import ROOT, free_port, serving, uvicorn

APP_SECRET = "benchmark-app-secret"
PATH = "/api/whatsapp/webhook"


def notification(n: int, run_id: str) -> bytes:
    message = {
        "from": f"5198{n % 10_000_000:07d}",
        "id": f"wamid.{run_id}.{n}",
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": f"Hola, quisiera información sobre los planes ({n})"},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "51999999999", "phone_number_id": "1234567890"},
        "contacts": [{"profile": {"name": f"Cliente {n}"}, "wa_id": message["from"]}],
        "messages": [message],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def signed_webhooks(run_id: str) -> object:
    """A request factory: the signature header depends on each body."""
    key = APP_SECRET.encode()

    def build(n: int) -> bytes:
        body = notification(n, run_id)
        digest = hmac.new(key, body, hashlib.sha256).hexdigest()
        return post(
            PATH, lambda _: body, "application/json", {"X-Hub-Signature-256": f"sha256={digest}"}
        )(n)

    return build


async def _count(url: str) -> tuple[int, int, int]:
    """Inbox rows, distinct message keys among them, and inbox jobs."""
    from adapters.persistence.engine import create_database_engine

    engine = create_database_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(sa.text("SELECT COUNT(*) FROM inbox"))).scalar_one()
            keys = (
                await connection.execute(sa.text("SELECT COUNT(DISTINCT key) FROM inbox"))
            ).scalar_one()
            jobs = (
                await connection.execute(
                    sa.text("SELECT COUNT(*) FROM jobs WHERE kind = 'conversations.inbox'")
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    return int(rows), int(keys), int(jobs)


async def _pending(url: str) -> int:
    from adapters.persistence.engine import create_database_engine

    engine = create_database_engine(url)
    try:
        async with engine.connect() as connection:
            query = sa.text(
                "SELECT COUNT(*) FROM jobs WHERE kind = 'conversations.inbox'"
                " AND status IN ('pending', 'running')"
            )
            return int((await connection.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def _drain(url: str, env: dict[str, str], cwd: Path, limit: float) -> str:
    """Start a worker and time how fast it stores the inbox's messages as conversations.

    The replies it then schedules fail (no WhatsApp account here) and wait for their retries;
    the figure counts the inbox jobs only, for at most ``limit`` seconds."""
    before = await _pending(url)
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "entrypoints",
        "worker",
        env={**os.environ, **env, "TALIA_DATABASE__URL": url},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = time.perf_counter()
    try:
        left = before
        while left and time.perf_counter() - started < limit:
            await asyncio.sleep(1)
            left = await _pending(url)
    finally:
        worker.terminate()
        await asyncio.wait_for(worker.wait(), 30)
    elapsed = time.perf_counter() - started
    return (
        f"worker drained {before - left} of {before} jobs in {elapsed:.1f} s "
        f"({(before - left) / elapsed:.0f} inbound messages/s)"
    )


async def _talia(label: str, url: str, env: dict[str, str], cwd: Path, options: dict) -> Result:
    port = free_port()
    served = {**env, "TALIA_HTTP__PORT": str(port), "TALIA_DATABASE__URL": url}
    with serving(["-m", "entrypoints", "serve"], port, env=served, cwd=cwd):
        result = await run(label, port, signed_webhooks(label.split()[0]), **options)
    rows, keys, jobs = await _count(url)
    verdict = "OK" if rows == keys == jobs == result.completed else "MISMATCH"
    print(
        f"{label}: {result.completed} acknowledged, {rows} inbox rows, {keys} distinct ids, "
        f"{jobs} jobs -> {verdict}"
    )
    return result


async def main(seconds: float, concurrency: int, postgres: str | None, drain: float) -> None:
    options = {"seconds": seconds, "concurrency": concurrency}
    env = {
        "TALIA_CHANNELS__WHATSAPP_APP_SECRET": APP_SECRET,
        "TALIA_JOBS__RUN_IN_PROCESS": "false",
        "TALIA_DEMO_DATA": "false",
        # The figures below were taken with the rules assistant, which needs no definitions.
        "TALIA_ASSISTANT__PROVIDER": "offline",
    }
    print(f"{platform.node()}: Python {platform.python_version()}, {concurrency} connections")
    results: list[Result] = []
    port = free_port()
    with serving(uvicorn("benchmarks.bare_app:app", port), port):
        bare = post("/webhook", lambda n: notification(n, "bare"), "application/json")
        results.append(await run("bare Litestar POST (reads the body)", port, bare, **options))
    drained: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp)}/talia.db"
        label = "sqlite signed WhatsApp webhooks"
        results.append(await _talia(label, url, env, Path(tmp), options))
        if drain:
            drained.append("SQLite: " + await _drain(url, env, Path(tmp), drain))
    if postgres:
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "entrypoints", "migrate"],
            env={**os.environ, **env, "TALIA_DATABASE__URL": postgres},
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        env_pg = {**env, "TALIA_DATABASE__POOL_SIZE": "20"}
        with tempfile.TemporaryDirectory() as tmp:
            label = "postgresql signed WhatsApp webhooks"
            results.append(await _talia(label, postgres, env_pg, Path(tmp), options))
            if drain:
                drained.append("PostgreSQL: " + await _drain(postgres, env_pg, Path(tmp), drain))
    print(summary(results))
    for result in results[1:]:
        print(f"{result.label:<44} {100 * result.rate / results[0].rate:5.1f}% of bare")
    for line in drained:
        print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--postgres", help="an empty PostgreSQL database to run on too")
    parser.add_argument(
        "--drain", type=float, default=60.0, help="seconds to time the worker for (0: skip)"
    )
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.postgres, args.drain))
