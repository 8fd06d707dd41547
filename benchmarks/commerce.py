"""The shop's two figures: the public catalog against a bare Litestar endpoint, and a burst
of concurrent checkouts against one coupon.

    .venv/bin/python -m benchmarks.commerce [--seconds 5] [--concurrency 32] [--checkouts-only]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/talia_bench]

``--postgres`` names an empty, existing database; the script migrates it (drop and create
it again before another run). ``--checkouts-only`` leaves the catalog out.

Each server runs on loopback with one worker and INFO logs, as ``talia serve`` does (on
PostgreSQL with a pool of 20 connections and 20 more on demand). The checkout burst
registers 200 customers (argon2 at its cheapest: this measures checkouts, not password
hashing), puts one plan in each cart, waits until the server has sent their sign-up e-mails
(its jobs), then sends the 200 checkouts at once with a coupon
limited to 50 uses. It prints the burst's checkouts a second, p50 and p99, the server's CPU
time a checkout (read from ``/proc``: what else runs on the machine hardly moves it, where
it moves the rate a great deal), and the exact-limit check: 50 orders discounted, the
coupon's count 50, the other 150 refused ``exhausted``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks.loadgen import Result, cpu_seconds, get, run, summary
from benchmarks.servers import ROOT, free_port, serving, uvicorn

CUSTOMERS = 200
COUPON_LIMIT = 50
PASSWORD = "bench-password-2026"
ADMIN = "admin@example.com"
DEMO_PASSWORD = "talia-demo-2026"
# Shoppers signed up from one address at full speed: cheap hashes, no limit on anonymous
# writes.
FAST_SIGNUPS = {
    "TALIA_AUTH__ARGON2_TIME_COST": "1",
    "TALIA_AUTH__ARGON2_MEMORY_KIB": "64",
    "TALIA_HTTP__PUBLIC_WRITES_PER_MINUTE": "0",
}


async def _login(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _customer(client: httpx.AsyncClient, n: int, plan_id: str) -> dict[str, str]:
    email = f"buyer{n}@example.com"
    body = {"email": email, "password": PASSWORD, "name": f"Buyer {n}"}
    (await client.post("/api/auth/register", json=body)).raise_for_status()
    headers = await _login(client, email, PASSWORD)
    added = await client.post("/api/cart/items", json={"plan_id": plan_id}, headers=headers)
    added.raise_for_status()
    return headers


async def _settled(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """Until the server has run the jobs due now (the sign-ups' e-mails), so that the burst
    runs alone, as a sale does; jobs set for later (the knowledge's own) are left."""
    deadline = time.monotonic() + 60
    while True:
        running = await client.get("/api/admin/jobs?status=running&limit=1", headers=admin)
        pending = await client.get("/api/admin/jobs?status=pending&limit=100", headers=admin)
        now = datetime.now(UTC)
        due = [j for j in pending.json()["items"] if datetime.fromisoformat(j["run_at"]) <= now]
        waiting = running.json()["total"] + len(due)
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server still had {waiting} jobs to run after a minute")
        await asyncio.sleep(0.2)


async def checkout_burst(label: str, port: int, pid: int) -> tuple[str, dict[str, Any]]:
    limits = httpx.Limits(max_connections=CUSTOMERS + 10, max_keepalive_connections=CUSTOMERS + 10)
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        admin = await _login(client, ADMIN, DEMO_PASSWORD)
        plan = await client.post(
            "/api/admin/plans",
            json={"name": "Burst", "price": {"amount": 10_000, "currency": "PEN"}},
            headers=admin,
        )
        plan.raise_for_status()
        coupon = {
            "code": f"BURST{port}",
            "kind": "percentage",
            "percent_off": 20,
            "max_redemptions": COUPON_LIMIT,
        }
        (await client.post("/api/admin/coupons", json=coupon, headers=admin)).raise_for_status()
        customers = []
        for start in range(0, CUSTOMERS, 20):
            customers += await asyncio.gather(
                *(_customer(client, n, plan.json()["id"]) for n in range(start, start + 20))
            )

        await _settled(client, admin)

        async def checkout(headers: dict[str, str]) -> tuple[int, float, int]:
            started = time.perf_counter()
            response = await client.post(
                "/api/orders", json={"coupon_code": coupon["code"]}, headers=headers
            )
            elapsed = (time.perf_counter() - started) * 1000
            discount = response.json()["discount"]["amount"] if response.status_code == 201 else 0
            return response.status_code, elapsed, discount

        cpu, started = cpu_seconds(pid), time.perf_counter()
        outcomes = await asyncio.gather(*(checkout(headers) for headers in customers))
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu
        coupons = (await client.get("/api/admin/coupons", headers=admin)).json()["items"]
    redeemed = next(c["redemptions"] for c in coupons if c["code"] == coupon["code"])
    latencies = sorted(ms for _, ms, _ in outcomes)
    figures = {
        "checkouts": len(outcomes),
        "seconds": seconds,
        "rate": len(outcomes) / seconds,
        "cpu_ms": 1000 * cpu / len(outcomes),
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "placed": sum(1 for status, _, _ in outcomes if status == 201),
        "discounted": sum(1 for status, _, d in outcomes if status == 201 and d > 0),
        "refused": sum(1 for status, _, _ in outcomes if status == 422),
        "other": sum(1 for status, _, _ in outcomes if status not in (201, 422)),
        "redeemed": redeemed,
    }
    line = (
        f"{label:<44} {figures['rate']:>9.0f} checkouts/s   p50 {figures['p50']:7.1f} ms"
        f"   p99 {figures['p99']:7.1f} ms   server CPU {figures['cpu_ms']:.1f} ms a checkout"
        f"   discounted {figures['discounted']}/{COUPON_LIMIT}"
        f"   refused {figures['refused']}   other {figures['other']}"
        f"   coupon redemptions {figures['redeemed']}"
    )
    return line, figures


def _prepare_server_database(url: str, env: dict[str, str]) -> None:
    """Migrate a server database and give it the demo admin (serve only seeds SQLite)."""
    talia = [sys.executable, "-m", "entrypoints"]
    full = {**env, "TALIA_DATABASE__URL": url}
    subprocess.run([*talia, "migrate"], env=full, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(
        [*talia, "create-admin", "--email", ADMIN, "--name", "Admin", "--password-stdin"],
        input=DEMO_PASSWORD + "\n",
        text=True,
        env=full,
        cwd=ROOT,
        capture_output=True,
        check=True,
    )


async def main(
    seconds: float, concurrency: int, postgres: str | None, checkouts_only: bool
) -> None:
    print(f"{platform.node()}: Python {platform.python_version()}, {concurrency} connections")
    if not checkouts_only:
        await catalog_and_sqlite_burst(seconds, concurrency)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            env = {
                **FAST_SIGNUPS,
                "TALIA_DATABASE__URL": f"sqlite+aiosqlite:///{Path(tmp)}/talia.db",
                "TALIA_HTTP__PORT": str(port),
            }
            with serving(["-m", "entrypoints", "serve"], port, env=env, cwd=Path(tmp)) as pid:
                print((await checkout_burst("checkout burst, SQLite", port, pid))[0])
    if postgres:
        port = free_port()
        env = {
            **FAST_SIGNUPS,
            "TALIA_HTTP__PORT": str(port),
            "TALIA_DEMO_DATA": "false",
            "TALIA_DATABASE__POOL_SIZE": "20",
        }
        _prepare_server_database(postgres, {**os.environ, **env})
        with serving(
            ["-m", "entrypoints", "serve"], port, env={**env, "TALIA_DATABASE__URL": postgres}
        ) as pid:
            print((await checkout_burst("checkout burst, PostgreSQL", port, pid))[0])


async def catalog_and_sqlite_burst(seconds: float, concurrency: int) -> None:
    options = {"seconds": seconds, "concurrency": concurrency}
    results: list[Result] = []
    port = free_port()
    with serving(uvicorn("benchmarks.bare_app:app", port), port):
        results.append(await run("bare Litestar GET /health", port, get("/health"), **options))

    bursts = []
    for access_log in ("true", "false"):
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            env = {
                **FAST_SIGNUPS,
                "TALIA_DATABASE__URL": f"sqlite+aiosqlite:///{Path(tmp)}/talia.db",
                "TALIA_HTTP__PORT": str(port),
                "TALIA_HTTP__ACCESS_LOG": access_log,
            }
            with serving(["-m", "entrypoints", "serve"], port, env=env, cwd=Path(tmp)) as pid:
                label = (
                    f"Talia GET /api/plans (access log {'on' if access_log == 'true' else 'off'})"
                )
                results.append(await run(label, port, get("/api/plans"), **options))
                if access_log == "true":
                    bursts.append(await checkout_burst("checkout burst, SQLite", port, pid))
    port = free_port()
    with serving(uvicorn("benchmarks.bare_app:app", port), port):
        again = await run("bare Litestar GET /health, again", port, get("/health"), **options)
    results.append(again)
    bare = (results[0].rate + again.rate) / 2  # runs vary: the baseline is taken before and after
    print(summary(results))
    for result in results[1:-1]:
        print(f"{result.label:<56} {100 * result.rate / bare:5.1f}% of bare (mean {bare:.0f})")
    for line, _ in bursts:
        print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--postgres", help="an empty PostgreSQL database to run the burst on")
    parser.add_argument(
        "--checkouts-only", action="store_true", help="the checkout bursts, not the catalog"
    )
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.postgres, args.checkouts_only))
