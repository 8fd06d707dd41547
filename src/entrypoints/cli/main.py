"""``talia serve | worker | migrate | seed | create-admin | jobs expire-orders |
jobs forget-done | assistants eval | knowledge reindex | users import | backup |
restore``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import multiprocessing
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta

from rich.progress import Progress
from sqlalchemy.engine import make_url

from adapters.persistence import migrations
from entrypoints.bootstrap import open_talia
from entrypoints.cli import assistants, backups, knowledge, users
from entrypoints.container import (
    build_container,
    close_resources,
    open_resources,
    start_jobs,
    stop_jobs,
)
from entrypoints.logs import configure_logging
from entrypoints.seed import DEMO_ADMIN, prepare_demo
from entrypoints.settings import Settings, SettingsError, load_settings
from entrypoints.wiring import clients
from talia_core.commerce.order_service import ExpiryReport
from talia_core.identity.model import Role
from talia_core.shared.errors import TaliaError

logger = logging.getLogger("talia.cli")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="talia", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", help="overrides TALIA_HTTP__HOST")
    serve.add_argument("--port", type=int, help="overrides TALIA_HTTP__PORT")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    commands.add_parser(
        "worker", help="run background jobs (replies, media, statuses) until stopped"
    )
    commands.add_parser("migrate", help="apply the database migrations")
    commands.add_parser(
        "seed",
        help="seed the demo data into an empty database; move the demo assistants to "
        "TALIA_ASSISTANT__DEMO_PROVIDER and __DEMO_MODEL",
    )
    admin = commands.add_parser("create-admin", help="create an admin user")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    jobs = commands.add_parser("jobs", help="run a batch job once").add_subparsers(
        dest="job", required=True
    )
    jobs.add_parser(
        "expire-orders",
        help="expire pending orders older than TALIA_COMMERCE__PENDING_ORDER_MINUTES",
    )
    forget = jobs.add_parser(
        "forget-done", help="delete the jobs done more than --days ago (dead ones stay)"
    )
    forget.add_argument("--days", type=_days, default=30, help="at least 1; 30 by default")
    assistants.add_commands(commands)
    knowledge.add_commands(commands)
    users.add_commands(commands)
    backups.add_commands(commands)
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"talia: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log)
    try:
        if args.command == "serve":
            return _serve(settings, args.host, args.port, args.workers)
        if args.command == "worker":
            asyncio.run(_work(settings))
            return 0
        if args.command == "migrate":
            asyncio.run(_migrate(settings))
            print("talia: the database is at the latest migration")
            return 0
        if args.command == "seed":
            seeded = asyncio.run(prepare_demo(settings))
            print("talia: demo data seeded" if seeded else "talia: demo data was there already")
            return 0
        if args.command == "assistants":
            return assistants.run(settings, args)
        if args.command == "knowledge":
            return knowledge.run(settings, args)
        if args.command == "users":
            return users.run(settings, args)
        if args.command in ("backup", "restore"):
            return backups.run(settings, args)
        if args.command == "jobs" and args.job == "forget-done":
            forgotten = asyncio.run(_forget_done(settings, args.days))
            print(f"talia: {forgotten} jobs done more than {args.days} days ago deleted")
            return 0
        if args.command == "jobs":
            report = asyncio.run(_expire_orders(settings))
            print(f"talia: {report.expired} of {report.examined} stale pending orders expired")
            return 0
        password = _read_password(args.password_stdin)
        asyncio.run(_create_admin(settings, args.email, args.name, password))
        print(f"talia: admin {args.email} created")
        return 0
    except TaliaError as error:
        print(f"talia: {error.detail}", file=sys.stderr)
        return 1


def _serve(settings: Settings, host: str | None, port: int | None, workers: int) -> int:
    import uvicorn

    # The database is made ready in a process of its own, so the server never holds what
    # that took: Alembic, the demo data, the list of common passwords the seed checks.
    preparing = multiprocessing.Process(target=_prepare, args=(settings,), name="talia-prepare")
    preparing.start()
    preparing.join()
    if preparing.exitcode:
        return preparing.exitcode
    uvicorn.run(
        "entrypoints.http.asgi:make_app",
        factory=True,
        host=host or settings.http.host,
        port=port or settings.http.port,
        workers=workers,
        log_config=None,
        access_log=False,  # the app logs each request itself, with its request id
        proxy_headers=False,
        server_header=False,
    )
    return 0


def _prepare(settings: Settings) -> None:
    """On SQLite, migrate and seed the demo data; on a server database, refuse to serve
    until ``talia migrate`` has run."""
    configure_logging(settings.log)
    if make_url(settings.database.url).get_backend_name() != "sqlite":
        asyncio.run(_require_head(settings))
        return
    asyncio.run(_migrate(settings))
    if settings.demo_data and asyncio.run(prepare_demo(settings)):
        logger.info(
            "demo data seeded; see the README for the demo users", extra={"admin": DEMO_ADMIN}
        )


async def _work(settings: Settings) -> None:
    """Run jobs until SIGINT or SIGTERM; jobs still running then are finished first."""
    await _require_head(settings)
    container = build_container(settings)
    await open_resources(container)
    try:
        await start_jobs(container)
        logger.info("worker started", extra={"backend": settings.jobs.backend.value})
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stopping.set)
        await stopping.wait()
        await stop_jobs(container)
    finally:
        await close_resources(container)


async def _migrate(settings: Settings) -> None:
    engine = clients.migration_engine(settings)
    try:
        await migrations.upgrade(engine)
    finally:
        await engine.dispose()


async def _require_head(settings: Settings) -> None:
    engine = clients.engine(settings)
    try:
        if not await migrations.is_at_head(engine):
            raise SystemExit(
                "talia: the database is not at the latest migration; run `talia migrate`"
            )
    finally:
        await engine.dispose()


async def _create_admin(settings: Settings, email: str, name: str, password: str) -> None:
    async with open_talia(settings) as talia:
        await talia.users.provision(email=email, name=name, password=password, role=Role.ADMIN)


async def _expire_orders(settings: Settings) -> ExpiryReport:
    async with open_talia(settings) as talia:
        if not sys.stdout.isatty():
            return await talia.orders.expire_stale()
        with Progress(transient=True) as bar:
            task = bar.add_task("expiring orders", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return await talia.orders.expire_stale(progress=advance)


async def _forget_done(settings: Settings, days: int) -> int:
    async with open_talia(settings) as talia:
        return await talia.job_runner.forget_done(timedelta(days=days))


def _days(text: str) -> int:
    days = int(text)
    if days < 1:
        raise argparse.ArgumentTypeError("at least 1 day")
    return days


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("talia: the passwords differ")
    return first
