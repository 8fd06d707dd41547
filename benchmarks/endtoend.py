"""WhatsApp messages answered per second, from the signed webhook to the reply at Graph.

    .venv/bin/python -m benchmarks.endtoend [--messages 20000] [--concurrency 32]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/talia_e2e]
        [--redis redis://127.0.0.1:6379/14] [--only sqlite|postgresql] [--profile DIR]
        [--statuses]

Everything runs as deployed, each in a process of its own: ``talia serve`` takes the
webhooks (``benchmarks.webhooks`` signs them as Meta does), ``talia worker`` processes run
the jobs (the inbox job, the assistant's turn, the delivery), the offline assistant answers,
and the WhatsApp Cloud API sender hands each reply to a local Graph server
(``benchmarks.graph_app``) that records it. Two set-ups: (a) one worker on an embedded
SQLite file with the database job queue; (b) two workers on PostgreSQL with the jobs spread
through SAQ on Redis, as several processes are deployed.

A burst of ``--messages`` webhooks goes out from ``--concurrency`` connections, each
message from a customer number of its own; the script then waits until every number has its
reply. Figures: webhooks acknowledged per second, messages answered per second from the
first webhook sent to the last reply recorded, and the exactly-once check: every number
must get its reply once, none lost, no text twice (the offline assistant answers the
question with three texts: a greeting, the plans and a question back, so every number must
get the same count of distinct texts). The channel's debounce stays at its default, so the
last reply comes that long after its message at least.

``--postgres`` names a database that is dropped and made anew (it must be yours);
``--statuses`` has the Graph server send a ``sent`` status for each reply to the webhook,
as Meta does (three more webhooks and jobs a message).
``--redis`` names a Redis database that is flushed. ``--profile DIR`` records the first
worker with py-spy into ``DIR/<setup>.speedscope.json`` and prints where its time went.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks.graph_app import PHONE_NUMBER_ID, TOKEN, VERSION
from benchmarks.loadgen import RequestFactory, cpu_seconds, machine, send_all
from benchmarks.servers import free_port, serving
from benchmarks.webhooks import APP_SECRET, signed_webhooks

TARGETS = {"sqlite": 500.0, "postgresql": 800.0}
IDLE_SECONDS = 90.0
"""How long without a new reply before the wait for the rest gives up."""


def talia_env(database_url: str, graph_url: str, redis_url: str | None) -> dict[str, str]:
    """``talia serve`` and ``talia worker`` as deployed: jobs only in the workers, on SAQ
    when a Redis is given, replies to the local Graph server."""
    env = {
        "TALIA_DATABASE__URL": database_url,
        "TALIA_DEMO_DATA": "false",
        "TALIA_ASSISTANT__PROVIDER": "offline",
        "TALIA_JOBS__RUN_IN_PROCESS": "false",
        "TALIA_CHANNELS__WHATSAPP_APP_SECRET": APP_SECRET,
        "TALIA_CHANNELS__WHATSAPP_ACCESS_TOKEN": TOKEN,
        "TALIA_CHANNELS__WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "TALIA_CHANNELS__WHATSAPP_API_URL": graph_url,
        "TALIA_CHANNELS__WHATSAPP_API_VERSION": VERSION,
    }
    if redis_url:
        env |= {"TALIA_JOBS__BACKEND": "saq", "TALIA_REDIS__URL": redis_url}
    if not database_url.startswith("sqlite"):
        env["TALIA_DATABASE__POOL_SIZE"] = "20"
    return env


@attrs.define
class Sent:
    """What the load generator saw: acknowledged webhooks and when."""

    acknowledged: int = 0
    errors: int = 0
    first: float = 0.0
    last: float = 0.0

    @property
    def rate(self) -> float:
        return self.acknowledged / (self.last - self.first) if self.last > self.first else 0.0


async def send(
    port: int,
    request: RequestFactory,
    numbers: range,
    *,
    concurrency: int = 32,
    rate: float | None = None,
) -> Sent:
    """``loadgen.send_all``, counting what was acknowledged and when."""
    sent = Sent(first=time.time())

    def answered(status: int) -> None:
        if status < 400:
            sent.acknowledged += 1
        else:
            sent.errors += 1

    await send_all(port, request, numbers, concurrency=concurrency, rate=rate, answered=answered)
    sent.last = time.time()
    return sent


def replies_since(graph_url: str, since: int) -> list[tuple[str, str, float]]:
    with urllib.request.urlopen(f"{graph_url}/replies?since={since}", timeout=30) as response:
        return [tuple(reply) for reply in json.load(response)["replies"]]


async def wait_for_replies(
    graph_url: str, recipients: set[str], idle_seconds: float = IDLE_SECONDS
) -> list[tuple[str, str, float]]:
    """Every reply recorded, once each of ``recipients`` has as many texts as any of them
    (a reply's later texts wait with its delivery job when a worker is killed), or none came
    for ``idle_seconds``; a second more is waited for, so a late duplicate shows too."""
    replies: list[tuple[str, str, float]] = []
    texts: Counter[str] = Counter()

    def complete() -> bool:
        return recipients <= texts.keys() and min(texts.values()) == max(texts.values())

    idle_since = time.monotonic()
    while not complete() and time.monotonic() - idle_since < idle_seconds:
        await asyncio.sleep(0.5)
        new = await asyncio.to_thread(replies_since, graph_url, len(replies))
        if new:
            idle_since = time.monotonic()
        replies += new
        texts.update(recipient for recipient, _, _ in new if recipient in recipients)
    await asyncio.sleep(1)
    return replies + await asyncio.to_thread(replies_since, graph_url, len(replies))


@attrs.frozen
class Check:
    """The exactly-once check over the replies to ``recipients``."""

    expected: int
    answered: int
    lost: int
    duplicates: int
    parts: Counter[int]
    """How many customers got how many distinct reply texts."""
    sample: tuple[str, ...]
    """The texts one customer got."""
    duplicated: tuple[tuple[str, str], ...]
    """Each (customer, text) handed over more than once."""

    @classmethod
    def of(cls, recipients: set[str], replies: list[tuple[str, str, float]]) -> Check:
        ours = [(recipient, text) for recipient, text, _ in replies if recipient in recipients]
        texts: dict[str, set[str]] = {}
        for recipient, text in ours:
            texts.setdefault(recipient, set()).add(text)
        return cls(
            expected=len(recipients),
            answered=len(texts),
            lost=len(recipients - texts.keys()),
            duplicates=len(ours) - sum(len(t) for t in texts.values()),
            parts=Counter(len(t) for t in texts.values()),
            sample=tuple(sorted(next(iter(texts.values()), ()))),
            duplicated=tuple(pair for pair, n in Counter(ours).items() if n > 1),
        )

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicates == 0 and len(self.parts) == 1

    def line(self) -> str:
        """The verdict; each customer's reply is the same few texts (``sample``)."""
        parts = ", ".join(f"{n} with {k} text(s)" for k, n in sorted(self.parts.items()))
        verdict = "exactly once: OK" if self.ok else "exactly once: FAILED"
        return (
            f"{self.answered}/{self.expected} customers answered ({parts}), "
            f"{self.lost} lost, {self.duplicates} duplicate replies -> {verdict}"
        )


def recipient(n: int) -> str:
    """The customer number ``benchmarks.webhooks.notification(n)`` writes from."""
    return f"5198{n % 10_000_000:07d}"


def start_worker(env: dict[str, str], cwd: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """``talia worker`` in ``cwd`` (where its files go), its output to ``log``."""
    command = [sys.executable, "-m", "entrypoints", "worker"]
    return subprocess.Popen(command, env={**os.environ, **env}, cwd=cwd, stdout=log, stderr=log)


async def started(log: Path, workers: int) -> None:
    """Until ``workers`` workers logged their start into ``log`` (two minutes at most)."""
    deadline = time.monotonic() + 120
    while (await asyncio.to_thread(log.read_text, errors="replace")).count(
        "worker started"
    ) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the workers did not start; see {log}")
        await asyncio.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def graph_server(statuses_to: int | None = None) -> Iterator[str]:
    """The fake Graph; with ``statuses_to``, it sends a status for each message it takes to
    the WhatsApp webhook on that port, as Meta does."""
    port = free_port()
    command = ["-m", "benchmarks.graph_app", "--port", str(port)]
    if statuses_to is not None:
        webhook = f"http://127.0.0.1:{statuses_to}/api/whatsapp/webhook"
        command += ["--webhook", webhook, "--app-secret", APP_SECRET]
    with serving(command, port):
        yield f"http://127.0.0.1:{port}"


async def fresh_postgres(url: str) -> None:
    """Drop the database of ``url`` and make it anew (it is the benchmark's own)."""
    target = make_url(url)
    admin = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(
                sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
            )
            await connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    finally:
        await admin.dispose()


def flush_redis(url: str) -> None:
    from redis import Redis

    with Redis.from_url(url) as redis:
        redis.flushdb()


def migrate(env: dict[str, str], cwd: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "entrypoints", "migrate"],
        env={**os.environ, **env},
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@contextlib.contextmanager
def profiled(pid: int, out: Path | None) -> Iterator[None]:
    """py-spy records ``pid`` meanwhile into ``out`` (speedscope), when ``out`` is given."""
    if out is None:
        yield
        return
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(pid),
            "--rate",
            "50",
            "--format",
            "speedscope",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)


def hot_spots(speedscope: Path, top: int = 15) -> str:
    """The frames most samples were on top of (own) and, of Talia's, in (inclusive), in
    per cent of the event loop thread's samples."""
    document = json.loads(speedscope.read_text())
    frames = document["shared"]["frames"]
    own: Counter[int] = Counter()
    inclusive: Counter[int] = Counter()
    total = 0
    # The event loop's thread; the others are aiosqlite's, waiting for work most of the time.
    for profile in (p for p in document["profiles"] if "MainThread" in p["name"]):
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            total += weight
            if stack:
                own[stack[-1]] += weight
            for index in set(stack):
                inclusive[index] += weight

    def name(index: int) -> str:
        frame = frames[index]
        where = Path(frame.get("file", "")).name
        return f"{frame['name']} ({where}:{frame.get('line', '')})"

    lines = [f"the worker's event loop thread, {total:.0f} samples; own time:"]
    lines += [f"  {100 * w / total:5.1f}%  {name(i)}" for i, w in own.most_common(top)]
    lines.append("inclusive time, Talia's own functions:")
    ours = [(i, w) for i, w in inclusive.most_common() if "/src/" in frames[i].get("file", "")]
    lines += [f"  {100 * w / total:5.1f}%  {name(i)}" for i, w in ours[:top]]
    return "\n".join(lines)


async def measure(
    setup: str, database_url: str, redis_url: str | None, workers: int, options: argparse.Namespace
) -> Check:
    port = free_port()
    statuses_to = port if options.statuses else None
    with tempfile.TemporaryDirectory() as tmp, graph_server(statuses_to) as graph_url:
        env = talia_env(database_url, graph_url, redis_url)
        if redis_url:
            flush_redis(redis_url)
        if not database_url.startswith("sqlite"):
            await fresh_postgres(database_url)
            migrate(env, Path(tmp))
        log_path = Path(tmp) / "workers.log"
        log = log_path.open("wb")
        served = {**env, "TALIA_HTTP__PORT": str(port)}
        with serving(["-m", "entrypoints", "serve"], port, env=served, cwd=Path(tmp)):
            running = [start_worker(env, Path(tmp), log) for _ in range(workers)]
            profile = (
                Path(options.profile) / f"{setup}.speedscope.json" if options.profile else None
            )
            try:
                await started(log_path, workers)
                numbers = range(options.messages)
                with profiled(running[0].pid, profile):
                    sent = await send(
                        port, signed_webhooks(setup), numbers, concurrency=options.concurrency
                    )
                    recipients = {recipient(n) for n in numbers}
                    replies = await wait_for_replies(graph_url, recipients)
                busy = [cpu_seconds(process.pid) for process in running]
            finally:
                for process in running:
                    stop(process)
    check = Check.of(recipients, replies)
    last = max((at for _, _, at in replies), default=sent.first)
    answered = check.answered / (last - sent.first) if last > sent.first else 0.0
    target = TARGETS[setup]
    verdict = "met" if answered >= target else "NOT met"
    print(
        f"{setup}, {workers} worker(s){' on SAQ' if redis_url else ''}: "
        f"{sent.acknowledged} webhooks acknowledged at {sent.rate:.0f}/s "
        f"({sent.errors} refused); {answered:.0f} messages answered/s over "
        f"{last - sent.first:.1f} s (target >= {target:.0f}/s: {verdict})"
    )
    print(f"  {check.line()}")
    wall = last - sent.first
    if wall > 0:
        shares = ", ".join(f"{100 * cpu / wall:.0f}%" for cpu in busy)
        print(f"  workers' CPU: {shares} of a core")
    print("  one customer's texts: " + " | ".join(text[:50] for text in check.sample))
    if profile is not None and profile.exists():
        print(hot_spots(profile))
    return check


async def main(options: argparse.Namespace) -> int:
    print(f"{machine()}; {options.messages} messages, {options.concurrency} connections")
    checks = []
    if options.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/talia.db"
            checks.append(await measure("sqlite", url, None, 1, options))
    if options.only in (None, "postgresql"):
        checks.append(await measure("postgresql", options.postgres, options.redis, 2, options))
    return 0 if all(check.ok for check in checks) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/talia_e2e"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--profile", help="a directory for py-spy's profiles of the first worker")
    parser.add_argument(
        "--statuses", action="store_true", help="Graph sends a status for each reply, as Meta"
    )
    arguments = parser.parse_args()
    if arguments.profile:
        Path(arguments.profile).mkdir(parents=True, exist_ok=True)
    sys.exit(asyncio.run(main(arguments)))
