"""Throughput and latency of the platform's routes against a bare Litestar endpoint.

    .venv/bin/python -m benchmarks.platform [--seconds 5] [--concurrency 32]

Starts the bare app and Talia (embedded SQLite, demo data, INFO logs) on loopback, one
worker each, and loads them one after the other from this process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import tempfile
import urllib.request
from pathlib import Path

from benchmarks.loadgen import get, post, run, summary
from benchmarks.servers import free_port, serving, uvicorn

_CREDENTIALS = json.dumps({"email": "admin@example.com", "password": "talia-demo-2026"}).encode()


def _login(port: int) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/auth/login",
        data=_CREDENTIALS,
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return str(json.load(response)["access_token"])


def _message(n: int) -> bytes:
    return json.dumps(
        {"name": "Bench", "email": f"bench{n}@example.com", "body": f"Message {n}"}
    ).encode()


async def main(seconds: float, concurrency: int) -> None:
    options = {"seconds": seconds, "concurrency": concurrency}
    results = []
    port = free_port()
    with serving(uvicorn("benchmarks.bare_app:app", port), port):
        results.append(await run("bare Litestar GET /health", port, get("/health"), **options))

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            "TALIA_DATABASE__URL": f"sqlite+aiosqlite:///{Path(tmp)}/talia.db",
            "TALIA_HTTP__PORT": str(port),
            # One account logging in from one address at full speed: measure the hashing,
            # not the throttle (which would answer 429 past 5 attempts in flight).
            "TALIA_AUTH__LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000000",
            "TALIA_AUTH__LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000",
            # One client writing contact messages at full speed: measure the write, not
            # the limit on anonymous writes.
            "TALIA_HTTP__PUBLIC_WRITES_PER_MINUTE": "0",
        }
        with serving(["-m", "entrypoints", "serve"], port, env=env, cwd=Path(tmp)):
            bearer = {"Authorization": f"Bearer {_login(port)}"}
            scenarios = [
                ("Talia GET /health", get("/health")),
                ("Talia GET /api/testimonials (SQLite read)", get("/api/testimonials")),
                ("Talia GET /api/auth/me (JWT + session)", get("/api/auth/me", bearer)),
                (
                    "Talia POST /api/contact-messages (write)",
                    post("/api/contact-messages", _message, "application/json"),
                ),
                (
                    "Talia POST /api/auth/login (argon2id)",
                    post("/api/auth/login", lambda _: _CREDENTIALS, "application/json"),
                ),
            ]
            for label, request in scenarios:
                results.append(await run(label, port, request, **options))

    print(f"{platform.node()}: Python {platform.python_version()}, {concurrency} connections")
    print(summary(results))
    bare = results[0].rate
    for result in results[1:]:
        print(f"{result.label:<44} {100 * result.rate / bare:5.1f}% of bare")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency))
