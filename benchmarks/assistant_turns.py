"""The assistant turn's own overhead, against a model that answers at once.

    .venv/bin/python -m benchmarks.assistant_turns [--turns 300] [--concurrency 8]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

Talia runs in this process on a fresh SQLite file (and, with ``--postgres``, on a fresh
database the script creates on that server and drops afterwards), with one assistant
definition on the ``openai`` provider whose ``TALIA_OPENAI__BASE_URL`` is a local instant
model (``benchmarks.responses_app``, served by uvicorn in its own process). Every turn is
one customer message; the model answers its first step with a call of ``catalog_prices``
(which reads the catalog) and its second with text, so a turn is two model calls, one tool
run and one usage-ledger transaction recording both calls.

The model's own time is measured in the same run: the same two request bodies the turn
sent, posted with a plain httpx client to the same server (the bare baseline). A turn's
overhead is its time less the baseline's median one at once, so what is left is Talia's:
the definition read, counting the history's tokens, building the requests, the OpenAI
SDK, the resilience runner, the tool and the ledger; with several turns at once it also
holds their wait for the one event loop. The pipeline rows take the same turn through the
worker's jobs, one message after the other: a WhatsApp message into the inbox (the HTTP
acknowledge path before it is ``benchmarks.webhooks``'s), the job that stores it, the
turn's job and the delivery job handing the reply to a fake sender.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from dependency_injector import providers
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.memory.channels import FakeChannelSender
from adapters.persistence import migrations
from adapters.persistence.engine import create_database_engine
from benchmarks.loadgen import Result
from benchmarks.servers import free_port, serving, uvicorn
from entrypoints.bootstrap import Talia
from entrypoints.container import build_container, close_resources, open_resources
from entrypoints.settings import load_settings
from talia_core.assistants.definition import Definition
from talia_core.assistants.language import Role, Said
from talia_core.assistants.turn import AgentTurns, TurnRequest
from talia_core.conversations.events import InboundMessage, Sender
from talia_core.conversations.ports import Outbound
from talia_core.conversations.vocabulary import Channel, ChannelIdentity, MessageType
from talia_core.shared.ids import new_id
from talia_core.shared.money import Money

API_KEY = "sk-benchmark-" + "b" * 40
ASSISTANT = "ventas"
QUESTION = "Hola, ¿cuánto cuesta el plan Celebration?"
TARGET_P99_MS = 15.0
WARMUP_TURNS = 20
INSTRUCTIONS = (
    "Eres el asistente de ventas de {business}. Responde en español, breve y amable. "
    "Para precios usa siempre la herramienta catalog_prices; no inventes precios."
)


async def timed(
    label: str, count: int, concurrency: int, one: Callable[[int], Awaitable[object]]
) -> Result:
    """Run ``one(0 .. count-1)`` from ``concurrency`` tasks, timing each call."""
    numbers = iter(range(count))
    latencies: list[float] = []

    async def worker() -> None:
        for number in numbers:
            started = time.perf_counter()
            await one(number)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(label, count, 0, time.perf_counter() - started, latencies)


@asynccontextmanager
async def fresh_postgres(server: str) -> AsyncIterator[str]:
    """A new database on the server of ``server`` (whose own database is only connected
    to), dropped on the way out."""
    url = make_url(server)
    name = f"talia_bench_turns_{secrets.token_hex(4)}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@asynccontextmanager
async def talia_on(
    url: str, model_url: str
) -> AsyncIterator[tuple[Talia, AgentTurns, list[Outbound]]]:
    """Talia on a migrated ``url`` with its OpenAI models at ``model_url``, as
    ``open_talia`` opens it, but with the WhatsApp sender a fake (its ``sent`` list is
    handed back) and the turn use case, which ``Talia`` does not list, at hand."""
    engine = create_database_engine(url)
    try:
        await migrations.upgrade(engine)
    finally:
        await engine.dispose()
    settings = load_settings(
        demo_data=False,
        database={"url": url, "pool_size": 20},
        openai={"api_key": API_KEY, "base_url": f"{model_url}/v1"},
        assistant={"provider": "definitions"},
        channels={"debounce_seconds": 0},
    )
    container = build_container(settings)
    sender = FakeChannelSender()
    container.gateways.channel_senders.override(providers.Object({Channel.WHATSAPP: sender}))
    await open_resources(container)
    try:
        yield Talia.of(container), container.use_cases.agent_turns(), sender.sent
    finally:
        await close_resources(container)


async def prepare(talia: Talia) -> None:
    """The catalog the tool reads, and the assistant answering WhatsApp."""
    currency = talia.catalog.currency
    for name, amount in (("Essential", 4_900), ("Celebration", 9_900), ("Premium", 19_900)):
        features = ["Invitaciones", "Confirmación por enlace"]
        await talia.catalog.create_plan(name=name, price=Money(amount, currency), features=features)
    for name, category, amount in (("Olivo", "wedding", 2_900), ("Confeti", "birthday", 1_900)):
        await talia.catalog.create_template(
            name=name, category=category, price=Money(amount, currency)
        )
    definition = Definition(
        provider="openai",
        model="gpt-4.1-mini",
        instructions=INSTRUCTIONS,
        variables={"business": "Talia Invitaciones"},
        tools=("catalog_prices",),
        channels=("whatsapp",),
    )
    await talia.assistants.create(ASSISTANT, definition, by=new_id())


def turn_request(number: int) -> TurnRequest:
    """A new conversation's first message, to the assistant by name."""
    return TurnRequest(
        conversation_id=new_id(),
        contact_id=new_id(),
        channel="whatsapp",
        contact_name=f"Cliente {number}",
        history=(Said(Role.USER, QUESTION),),
        assistant=ASSISTANT,
    )


def inbound(run: str, number: int) -> InboundMessage:
    wa_id = f"5198{number:07d}"
    return InboundMessage(
        channel=Channel.WHATSAPP,
        external_id=f"wamid.{run}.{number}",
        sender=Sender((ChannelIdentity.of("wa_id", wa_id),), name=f"Cliente {number}"),
        type=MessageType.TEXT,
        sent_at=datetime.now(UTC),
        text=QUESTION,
    )


async def through_pipeline(talia: Talia, sent: list[Outbound], message: InboundMessage) -> None:
    """Into the inbox, then run due jobs until the reply reaches the fake sender."""
    before = len(sent)
    await talia.inbox.receive([message])
    deadline = time.monotonic() + 10
    while len(sent) == before:
        if not await talia.job_runner.run_due(8) and time.monotonic() > deadline:
            raise RuntimeError("the reply never reached the sender")


async def bare(client: httpx.AsyncClient, bodies: dict[str, str]) -> None:
    """The two steps of a turn as plain HTTP: the model's time and nothing else."""
    for step in ("call", "answer"):
        response = await client.post(
            "/v1/responses",
            content=bodies[step],
            headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
        )
        response.raise_for_status()


def own(result: Result, model_ms: float) -> Result:
    """``result`` less the model's time: what Talia spent."""
    latencies = [ms - model_ms for ms in result.latencies_ms]
    return Result(result.label, result.requests, 0, result.seconds, latencies)


def row(result: Result, model_ms: float | None = None) -> str:
    """Rate and time per turn; with ``model_ms``, also what is left without the model."""
    line = (
        f"{result.label:<40} {result.rate:>6.0f}/s   total p50 {result.percentile(0.5):6.2f}"
        f"  p99 {result.percentile(0.99):6.2f} ms"
    )
    if model_ms is None:
        return line
    overhead = own(result, model_ms)
    return (
        f"{line}   overhead p50 {overhead.percentile(0.5):6.2f}"
        f"  p99 {overhead.percentile(0.99):6.2f} ms"
    )


async def measure(database: str, url: str, model_url: str, turns: int, concurrency: int) -> float:
    """Print the rows of one database; return the sequential turns' overhead p99."""
    async with talia_on(url, model_url) as (talia, agent_turns, sent):
        await prepare(talia)
        run = secrets.token_hex(4)
        for number in range(WARMUP_TURNS):
            await agent_turns.take(turn_request(number))
            await through_pipeline(talia, sent, inbound(f"warm-{run}", number))
        async with httpx.AsyncClient(base_url=model_url) as client:
            bodies = (await client.get("/bodies")).json()
            models = [
                await timed(
                    f"{database}: bare HTTP, 2 posts, {parallel} at once",
                    turns,
                    parallel,
                    lambda _: bare(client, bodies),
                )
                for parallel in (1, concurrency)
            ]
        results = [
            await timed(
                f"{database}: turns, {parallel} at once",
                turns,
                parallel,
                lambda n: agent_turns.take(turn_request(n)),
            )
            for parallel in (1, concurrency)
        ]
        results.append(
            await timed(
                f"{database}: pipeline, 1 at once",
                turns,
                1,
                lambda n: through_pipeline(talia, sent, inbound(run, n)),
            )
        )
    model_ms = models[0].percentile(0.5)
    for result in models:
        print(row(result))
    for result in results:
        print(row(result, model_ms))
    return own(results[0], model_ms).percentile(0.99)


async def main(turns: int, concurrency: int, postgres: str | None) -> None:
    print(
        f"{platform.node()}: Python {platform.python_version()}, {turns} turns a row; "
        "overhead: time less the median of the bare HTTP baseline, 1 at once"
    )
    port = free_port()
    model_url = f"http://127.0.0.1:{port}"
    p99s = {}
    with serving(uvicorn("benchmarks.responses_app:app", port), port):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp)}/talia.db"
            p99s["SQLite"] = await measure("sqlite", url, model_url, turns, concurrency)
        if postgres:
            async with fresh_postgres(postgres) as url:
                p99s["PostgreSQL"] = await measure("postgresql", url, model_url, turns, concurrency)
    for database, p99 in p99s.items():
        verdict = "met" if p99 < TARGET_P99_MS else "NOT met"
        target = f"target < {TARGET_P99_MS:g} ms"
        print(f"{database}: overhead p99 {p99:.2f} ms a turn, 1 at once; {target}: {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--postgres", help="a PostgreSQL server URL; a fresh database is created on it"
    )
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.concurrency, args.postgres))
