"""A small keep-alive HTTP/1.1 load generator on asyncio streams.

It runs in its own process so it competes with the server only for CPU, as an external
tool would; figures from it are comparable within one run (server vs. bare baseline).
"""

from __future__ import annotations

import asyncio
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

RequestFactory = Callable[[int], bytes]


@attrs.frozen
class Result:
    label: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    completed: int = 0
    """Every successful response, warm-up and the in-flight tail included."""
    cpu_seconds: float | None = None
    """The server's CPU time while measured, when its process was named."""

    @classmethod
    def merged(cls, label: str, parts: Sequence[Result]) -> Result:
        """One result of several measured in turns."""
        cpu = [part.cpu_seconds for part in parts]
        return cls(
            label,
            requests=sum(part.requests for part in parts),
            errors=sum(part.errors for part in parts),
            seconds=sum(part.seconds for part in parts),
            latencies_ms=[ms for part in parts for ms in part.latencies_ms],
            completed=sum(part.completed for part in parts),
            cpu_seconds=None if None in cpu else sum(c or 0.0 for c in cpu),
        )

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_per_request_us(self) -> float | None:
        """The server's CPU time a request, which what else runs on the machine barely moves."""
        if self.cpu_seconds is None or not self.requests:
            return None
        return self.cpu_seconds / self.requests * 1e6

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0

    def line(self) -> str:
        cpu = self.cpu_per_request_us
        return (
            f"{self.label:<44} {self.rate:>9.0f} req/s   p50 {self.percentile(0.5):6.2f} ms"
            f"   p99 {self.percentile(0.99):6.2f} ms   errors {self.errors}"
            + (f"   CPU {cpu:5.0f} µs/req" if cpu is not None else "")
        )


def cpu_seconds(pid: int) -> float:
    """The user and system CPU time process ``pid`` has used so far (Linux's ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def get(path: str, headers: dict[str, str] | None = None) -> RequestFactory:
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    raw = f"GET {path} HTTP/1.1\r\nHost: bench\r\n{extra}\r\n".encode()
    return lambda _: raw


def post(
    path: str,
    body: Callable[[int], bytes],
    content_type: str,
    headers: dict[str, str] | None = None,
) -> RequestFactory:
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())

    def build(n: int) -> bytes:
        payload = body(n)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(payload)}\r\n{extra}\r\n"
        )
        return head.encode() + payload

    return build


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


def machine() -> str:
    """The host, Python, its cores and the load average when a run starts."""
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.node()}: Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"load average {load}"
    )


async def send_all(
    port: int,
    request: RequestFactory,
    numbers: range,
    *,
    concurrency: int = 32,
    rate: float | None = None,
    answered: Callable[[int], None] = lambda status: None,
) -> None:
    """Post ``request(n)`` for every ``n`` of ``numbers`` from ``concurrency`` keep-alive
    connections, as fast as they are answered or, with ``rate``, at most that many a second;
    ``answered`` hears each answer's status."""
    pending = iter(numbers)
    start = time.monotonic()

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for n in pending:
                if rate is not None:
                    due = start + (n - numbers.start) / rate
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                writer.write(request(n))
                answered(await _read_response(reader))
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))


async def run(
    label: str,
    port: int,
    request: RequestFactory,
    *,
    concurrency: int = 32,
    seconds: float = 5.0,
    warmup_seconds: float = 1.0,
    ok: Callable[[int], bool] = lambda status: status < 400,
    server_pid: int | None = None,
) -> Result:
    counter = iter(range(10**12))
    latencies: list[float] = []
    errors = 0
    completed = 0
    measuring = False
    done = False

    async def client() -> None:
        nonlocal errors, completed
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while not done:
                raw = request(next(counter))
                started = time.perf_counter()
                writer.write(raw)
                status = await _read_response(reader)
                completed += ok(status)
                if measuring:
                    latencies.append((time.perf_counter() - started) * 1000)
                    if not ok(status):
                        errors += 1
        finally:
            writer.close()

    tasks = [asyncio.create_task(client()) for _ in range(concurrency)]
    await asyncio.sleep(warmup_seconds)
    measuring = True
    cpu = cpu_seconds(server_pid) if server_pid is not None else None
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    measuring = False
    elapsed = time.perf_counter() - started
    if server_pid is not None and cpu is not None:
        cpu = cpu_seconds(server_pid) - cpu
    done = True
    await asyncio.gather(*tasks, return_exceptions=True)
    return Result(label, len(latencies), errors, elapsed, latencies, completed, cpu)


def summary(results: list[Result]) -> str:
    return "\n".join(result.line() for result in results)
