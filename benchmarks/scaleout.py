"""Two job workers on PostgreSQL and SAQ, one of them killed mid-run: nothing lost, nothing twice.

    .venv/bin/python -m benchmarks.scaleout [--seconds 30] [--rate 20]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/talia_scale]
        [--redis redis://127.0.0.1:6379/14]

``talia serve --workers 2`` takes signed WhatsApp webhooks and two ``talia worker``
processes run the jobs through SAQ on Redis (the set-up of ``benchmarks.endtoend``, whose
pieces this reuses); the offline assistant answers, and the replies go to the local Graph
server (``benchmarks.graph_app``), which sends a ``sent`` status back for each as Meta does:
a reply Graph took from a worker killed before it recorded the send is recognised by its
status, so its delivery, run again, does not send it twice. A separately started
``talia serve`` (one process,
"process A") holds a web chat socket.

1. The web chat across processes: a visitor's session opens a socket on process A, the
   visitor's message is posted to the ``--workers 2`` server, a worker process answers, and
   the reply must arrive on A's socket (the Redis live feed; ``TALIA_JOBS__BACKEND=saq``
   selects it).
2. ``--rate`` webhooks a second for ``--seconds``, each from a customer number of its own.
   At a third of the time one worker is SIGKILLed; at two thirds it is started again.
3. The jobs the killed worker held: at the kill, every job ``running`` in the job store is
   noted with its attempt; those whose attempt later grew were claimed again after their
   lease ran out, which is what a dead worker's jobs wait for. Recovery time: from the kill
   until the last of them is done.
4. At the end every customer must have the same reply once (none lost, none twice), and
   the answers per second with 2, 1 and again 2 workers are printed (from the time each
   customer's reply was complete; when ``--rate`` is above what the workers manage, a
   phase's rate is their capacity).

Both databases named are dropped and made anew (flushed, for Redis): they must be yours.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
import websockets

from adapters.persistence.engine import create_database_engine
from benchmarks.endtoend import (
    Check,
    flush_redis,
    fresh_postgres,
    graph_server,
    migrate,
    recipient,
    send,
    start_worker,
    stop,
    talia_env,
    wait_for_replies,
)
from benchmarks.endtoend import (
    started as workers_started,
)
from benchmarks.loadgen import machine
from benchmarks.servers import free_port, serving
from benchmarks.webhooks import signed_webhooks

WEBCHAT_TIMEOUT = 60.0


async def webchat_across(process_a: int, other: int) -> str:
    """A web chat reply made by a worker reaches the socket on ``process_a``'s server."""
    async with httpx.AsyncClient(timeout=10) as client:
        opened = await client.post(
            f"http://127.0.0.1:{process_a}/api/webchat/sessions", json={"name": "Visitante"}
        )
        token = opened.raise_for_status().json()["token"]
        socket_url = f"ws://127.0.0.1:{process_a}/api/webchat/ws?token={token}"
        async with websockets.connect(socket_url) as socket:
            started = time.perf_counter()
            posted = await client.post(
                f"http://127.0.0.1:{other}/api/webchat/messages",
                json={"text": "Hola, ¿qué planes tienen?", "client_id": "scaleout-1"},
                headers={"Authorization": f"Bearer {token}"},
            )
            posted.raise_for_status()
            deadline = started + WEBCHAT_TIMEOUT
            while (left := deadline - time.perf_counter()) > 0:
                try:
                    frame = json.loads(await asyncio.wait_for(socket.recv(), left))
                except TimeoutError:
                    break
                message = frame.get("message", {})
                if frame.get("type") == "message" and message.get("direction") == "out":
                    seconds = time.perf_counter() - started
                    return (
                        f"web chat: the reply reached the socket on process A {seconds:.2f} s "
                        f"after the message was posted to the other server: "
                        f"{message['text'][:60]!r} -> OK"
                    )
    return f"web chat: no reply on process A's socket within {WEBCHAT_TIMEOUT:.0f} s -> FAILED"


async def running_jobs(url: str) -> dict[str, int]:
    """The jobs ``running`` in the job store now, with their attempts."""
    engine = create_database_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                sa.text("SELECT id, attempts FROM jobs WHERE status = 'running'")
            )
            return {str(row.id): int(row.attempts) for row in rows}
    finally:
        await engine.dispose()


async def watch_recovery(url: str, held: dict[str, int], killed_at: float) -> str:
    """Until every job of ``held`` is done or dead: which were claimed again (the killed
    worker's), and when the last of those was done."""
    engine = create_database_engine(url)
    query = sa.text("SELECT id, attempts, status FROM jobs WHERE id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True)
    )
    retaken: set[str] = set()
    finished: dict[str, float] = {}
    try:
        while len(finished) < len(held):
            async with engine.connect() as connection:
                rows = (await connection.execute(query, {"ids": list(held)})).all()
            now = time.time()
            for row in rows:
                if int(row.attempts) > held[str(row.id)]:
                    retaken.add(str(row.id))
                if row.status in ("done", "dead"):
                    finished.setdefault(str(row.id), now)
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    last_done = max((finished[job] for job in retaken), default=killed_at)
    if not retaken:
        return f"recovery: none of the {len(held)} running jobs at the kill had to be claimed again"
    return (
        f"recovery: {len(retaken)} of the {len(held)} jobs running at the kill were claimed "
        f"again after their lease; the last of them was done {last_done - killed_at:.1f} s "
        "after the kill"
    )


def phase_rates(
    replies: list[tuple[str, str, float]], marks: list[tuple[str, float, float]]
) -> list[str]:
    """Customers whose reply was complete within each phase, a second."""
    complete: dict[str, float] = {}
    for who, _, at in replies:
        complete[who] = max(at, complete.get(who, 0.0))
    lines = []
    for label, start, end in marks:
        done = sum(1 for at in complete.values() if start < at <= end)
        lines.append(
            f"  {label}: {done / (end - start):.1f} answered/s ({done} in {end - start:.1f} s)"
        )
    return lines


async def main(options: argparse.Namespace) -> int:
    print(f"{machine()}; {options.rate:g} webhooks/s for {options.seconds:g} s")
    url = options.postgres
    api, process_a = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp, graph_server(api) as graph_url:
        cwd = Path(tmp)
        env = talia_env(url, graph_url, options.redis)
        flush_redis(options.redis)
        await fresh_postgres(url)
        migrate(env, cwd)
        log_path = cwd / "workers.log"
        log = log_path.open("wb")
        served = ["-m", "entrypoints", "serve", "--workers", "2"]
        with (
            serving(served, api, env={**env, "TALIA_HTTP__PORT": str(api)}, cwd=cwd),
            serving(
                ["-m", "entrypoints", "serve"],
                process_a,
                env={**env, "TALIA_HTTP__PORT": str(process_a)},
                cwd=cwd,
            ),
        ):
            workers = [start_worker(env, cwd, log) for _ in range(2)]
            try:
                await workers_started(log_path, 2)
                print(await webchat_across(process_a, api))
                count = int(options.rate * options.seconds)
                numbers = range(count)
                sending = asyncio.create_task(
                    send(api, signed_webhooks("scaleout"), numbers, rate=options.rate)
                )
                started = time.time()
                await asyncio.sleep(options.seconds / 3)
                held = await running_jobs(url)
                workers[0].send_signal(signal.SIGKILL)
                killed_at = time.time()
                workers[0].wait()
                recovery = asyncio.create_task(watch_recovery(url, held, killed_at))
                await asyncio.sleep(options.seconds / 3)
                workers[0] = start_worker(env, cwd, log)
                restarted_at = time.time()
                sent = await sending
                recipients = {recipient(n) for n in numbers}
                replies = await wait_for_replies(graph_url, recipients)
                recovered = await recovery
            finally:
                for process in workers:
                    stop(process)
    check = Check.of(recipients, replies)
    last = max((at for _, _, at in replies), default=sent.last)
    print(
        f"{sent.acknowledged} webhooks acknowledged ({sent.errors} refused) at {sent.rate:.1f}/s; "
        f"the last reply {last - sent.last:.1f} s after the last webhook"
    )
    print(f"exactly once: {check.line()}")
    for who, text in check.duplicated:
        times = ", ".join(
            f"{at - killed_at:+.1f} s" for r, t, at in replies if (r, t) == (who, text)
        )
        print(f"  {who} got {text[:30]!r} twice: at {times} from the kill")
    print(recovered)
    print("answers a second by phase (the killed worker's jobs wait for their lease):")
    first = min((at for _, _, at in replies), default=started)
    marks = [
        ("2 workers, from the first reply to the kill", first, killed_at),
        ("1 worker, until the restart", killed_at, restarted_at),
        ("2 workers, from the restart to the last reply", restarted_at, last),
    ]
    for line in phase_rates(replies, marks):
        print(line)
    return 0 if check.ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=20.0, help="webhooks a second")
    parser.add_argument(
        "--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/talia_scale"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    sys.exit(asyncio.run(main(parser.parse_args())))
