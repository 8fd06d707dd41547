"""A small keep-alive HTTP/1.1 load generator on asyncio streams.

It runs in its own process so it competes with the server only for CPU, as an external
tool would; figures from it are comparable within one run (server vs. bare baseline).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

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

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0

    def line(self) -> str:
        return (
            f"{self.label:<44} {self.rate:>9.0f} req/s   p50 {self.percentile(0.5):6.2f} ms"
            f"   p99 {self.percentile(0.99):6.2f} ms   errors {self.errors}"
        )


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


async def run(
    label: str,
    port: int,
    request: RequestFactory,
    *,
    concurrency: int = 32,
    seconds: float = 5.0,
    warmup_seconds: float = 1.0,
    ok: Callable[[int], bool] = lambda status: status < 400,
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
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    measuring = False
    elapsed = time.perf_counter() - started
    done = True
    await asyncio.gather(*tasks, return_exceptions=True)
    return Result(label, len(latencies), errors, elapsed, latencies, completed)


def summary(results: list[Result]) -> str:
    return "\n".join(result.line() for result in results)
