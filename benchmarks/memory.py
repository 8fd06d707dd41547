"""Resident memory of ``talia serve``: idle, and its growth over many requests, against a
bare Litestar app under uvicorn.

    .venv/bin/python -m benchmarks.memory [--requests 1000000] [--warmup 10000]
        [--concurrency 32] [--idle 5]

Idle: the server's RSS (``VmRSS`` of its process) once ``/health`` answers and ``--idle``
seconds passed, on a first start with the defaults (embedded SQLite in a temporary
directory, migrated and seeded, offline providers, jobs in process).

Growth: Talia is started again on that database with the jobs left to a separate worker
(``TALIA_JOBS__RUN_IN_PROCESS=false``, as ``benchmarks.webhooks``; none runs here, so the
stored messages wait), then ``--warmup`` requests, then ``--requests`` more, from
``--concurrency`` keep-alive connections. The mix, in turns of 20: 8 ``GET /health``,
3 ``GET /api/plans`` and 2 ``GET /api/templates`` (the public catalog), 3 signed WhatsApp
webhooks (``benchmarks.webhooks``: a text message with a unique id), 1 web chat message,
3 ``GET /api/auth/me`` signed in as the demo admin. RSS is printed every 100 000 requests;
the growth is the RSS after the run minus the RSS after the warm-up (what start-up and the
first requests allocate once is not growth). The bare app gets the same number of requests,
``GET /health`` and ``POST /webhook`` with the same bodies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from benchmarks.loadgen import RequestFactory, get, post, send_all
from benchmarks.servers import free_port, serving, uvicorn
from benchmarks.webhooks import APP_SECRET, notification, signed_webhooks

MiB = 1024 * 1024
SAMPLE_EVERY = 100_000
_CREDENTIALS = json.dumps({"email": "admin@example.com", "password": "talia-demo-2026"}).encode()


def rss(pid: int) -> int:
    """Bytes of process ``pid`` resident in memory (Linux's ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def _call(port: int, path: str, body: bytes, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=body,
        headers={"content-type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def _talia_mix(port: int, run_id: str) -> tuple[RequestFactory, Callable[[], None]]:
    """The request of each turn, and what renews the admin's access token (it expires)."""
    me: list[RequestFactory] = []

    def sign_in() -> None:
        token = _call(port, "/api/auth/login", _CREDENTIALS)["access_token"]
        me[:] = [get("/api/auth/me", {"Authorization": f"Bearer {token}"})]

    sign_in()
    chats = []
    for visitor in range(8):
        session = _call(port, "/api/webchat/sessions", json.dumps({"name": f"v{visitor}"}).encode())
        token = session["token"]
        chats.append(
            post(
                "/api/webchat/messages",
                lambda n: json.dumps({"text": f"Hola, ¿qué planes tienen? ({n})"}).encode(),
                "application/json",
                {"Authorization": f"Bearer {token}"},
            )
        )
    health, plans, templates = get("/health"), get("/api/plans"), get("/api/templates")
    webhook = cast(RequestFactory, signed_webhooks(run_id))

    def request(n: int) -> bytes:
        turn = n % 20
        if turn < 8:
            return health(n)
        if turn < 11:
            return plans(n)
        if turn < 13:
            return templates(n)
        if turn < 16:
            return webhook(n)
        if turn < 17:
            return chats[n % len(chats)](n)
        return me[0](n)

    return request, sign_in


def _bare_mix() -> RequestFactory:
    health = get("/health")
    webhook = post("/webhook", lambda n: notification(n, "bare"), "application/json")
    return lambda n: webhook(n) if 13 <= n % 20 < 16 else health(n)


async def _load(
    port: int,
    request: RequestFactory,
    total: int,
    concurrency: int,
    every: Callable[[int], None] = lambda done: None,
) -> int:
    """Send ``total`` requests; ``every`` is called each ``SAMPLE_EVERY``. The failures."""
    failures = done = 0

    def answered(status: int) -> None:
        nonlocal failures, done
        failures += status >= 400
        done += 1
        if done % SAMPLE_EVERY == 0:
            every(done)

    await send_all(port, request, range(total), concurrency=concurrency, answered=answered)
    return failures


async def _measure(
    label: str,
    pid: int,
    port: int,
    request: RequestFactory,
    args: argparse.Namespace,
    renew: Callable[[], None] = lambda: None,
) -> tuple[int, int, int]:
    """RSS idle, after the warm-up and after the run, printing it along the way."""
    idle = rss(pid)
    failures = await _load(port, request, args.warmup, args.concurrency)
    warm = rss(pid)
    print(f"{label}: RSS {idle / MiB:.1f} MiB idle, {warm / MiB:.1f} MiB after the warm-up")

    def sample(done: int) -> None:
        renew()
        print(f"{label}: {done:>9} requests  RSS {rss(pid) / MiB:7.1f} MiB", flush=True)

    started = time.perf_counter()
    failures += await _load(port, request, args.requests, args.concurrency, sample)
    elapsed = time.perf_counter() - started
    final = rss(pid)
    print(
        f"{label}: {args.requests} requests in {elapsed:.0f} s ({args.requests / elapsed:.0f}"
        f" req/s), {failures} failed; RSS {final / MiB:.1f} MiB, growth"
        f" {(final - warm) / MiB:+.1f} MiB",
        flush=True,
    )
    return idle, warm, final


async def main(args: argparse.Namespace) -> None:
    print(f"{platform.node()}: Python {platform.python_version()}, {args.concurrency} connections")
    port = free_port()
    with serving(uvicorn("benchmarks.bare_app:app", port), port) as pid:
        await asyncio.sleep(args.idle)
        bare = await _measure("bare", pid, port, _bare_mix(), args)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            "TALIA_HTTP__PORT": str(port),
            "TALIA_DATABASE__URL": f"sqlite+aiosqlite:///{tmp}/talia.db",
        }
        with serving(["-m", "entrypoints", "serve"], port, env=env, cwd=Path(tmp)) as pid:
            await asyncio.sleep(args.idle)
            idle = rss(pid)
        print(f"talia: RSS {idle / MiB:.1f} MiB idle (first start, defaults)")
        env |= {
            "TALIA_CHANNELS__WHATSAPP_APP_SECRET": APP_SECRET,
            "TALIA_JOBS__RUN_IN_PROCESS": "false",
            "TALIA_HTTP__PUBLIC_WRITES_PER_MINUTE": "0",
        }
        with serving(["-m", "entrypoints", "serve"], port, env=env, cwd=Path(tmp)) as pid:
            await asyncio.sleep(args.idle)
            request, renew = _talia_mix(port, f"m{int(time.time())}")
            talia = await _measure("talia", pid, port, request, args, renew)
    print()
    print(f"{'':<8}{'idle':>12}{'after warm-up':>16}{'after run':>12}{'growth':>10}")
    for label, (first, warm, final) in (("bare", bare), ("talia", (idle, *talia[1:]))):
        print(
            f"{label:<8}{first / MiB:>8.1f} MiB{warm / MiB:>12.1f} MiB{final / MiB:>8.1f} MiB"
            f"{(final - warm) / MiB:>+6.1f} MiB"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--warmup", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before reading")
    asyncio.run(main(parser.parse_args()))
