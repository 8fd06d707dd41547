"""The ``talia`` command line on a temporary SQLite file, and the examples that use the library."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from dependency_injector import providers

from entrypoints.bootstrap import Talia, open_talia
from entrypoints.cli.main import main
from entrypoints.container import build_container, close_resources, open_resources
from entrypoints.seed import DEMO_ADMIN, DEMO_CUSTOMER, DEMO_PASSWORD
from entrypoints.settings import load_settings
from talia_core.commerce.actor import Actor
from talia_core.commerce.products import ProductKind, ProductRef
from talia_core.shared.clock import FakeClock, SystemClock
from talia_core.shared.errors import Unauthorized

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A fresh directory with its own SQLite file and no TALIA_* variable from outside."""
    for name in list(os.environ):
        if name.upper().startswith("TALIA_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TALIA_DATABASE__URL", f"sqlite+aiosqlite:///{tmp_path}/talia.db")
    monkeypatch.setenv("TALIA_AUTH__ARGON2_TIME_COST", "1")
    monkeypatch.setenv("TALIA_AUTH__ARGON2_MEMORY_KIB", "64")
    # The command configures logging for the process; give the test run its own back.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield tmp_path
    root.handlers[:] = handlers
    root.setLevel(level)


def run(argv: list[str], stdin: str | None = None) -> int:
    if stdin is None:
        return main(argv)
    saved, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        return main(argv)
    finally:
        sys.stdin = saved


def can_log_in(email: str, password: str) -> bool:
    async def attempt() -> bool:
        async with open_talia(load_settings()) as talia:
            try:
                await talia.auth.login(email=email, password=password, ip=None, user_agent=None)
            except Unauthorized:
                return False
            return True

    return asyncio.run(attempt())


def test_migrate_then_seed_seeds_once_and_says_so_the_second_time(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["migrate"]) == 0
    assert "latest migration" in capsys.readouterr().out

    assert run(["seed"]) == 0
    assert "demo data seeded" in capsys.readouterr().out

    assert run(["seed"]) == 0
    assert "was there already" in capsys.readouterr().out
    assert can_log_in(DEMO_ADMIN, DEMO_PASSWORD)


def test_migrate_twice_is_harmless(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["migrate"]) == 0
    assert run(["migrate"]) == 0


def test_create_admin_reads_the_password_from_stdin_and_the_admin_can_log_in(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["migrate"])

    code = run(
        ["create-admin", "--email", "Boss@Example.com", "--name", "Boss", "--password-stdin"],
        stdin="a-strong-pass-42\n",
    )

    assert code == 0
    assert "admin Boss@Example.com created" in capsys.readouterr().out
    assert can_log_in("boss@example.com", "a-strong-pass-42")
    assert not can_log_in("boss@example.com", "another-pass-42")


def test_create_admin_refuses_a_weak_password_naming_the_policy(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["migrate"])
    capsys.readouterr()

    code = run(
        ["create-admin", "--email", "boss@example.com", "--name", "Boss", "--password-stdin"],
        stdin="short\n",
    )

    assert code != 0
    assert "password must be at least" in capsys.readouterr().err
    assert not can_log_in("boss@example.com", "short")


def test_create_admin_refuses_an_e_mail_that_is_taken(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["migrate"])
    argv = ["create-admin", "--email", "boss@example.com", "--name", "Boss", "--password-stdin"]
    run(argv, stdin="a-strong-pass-42\n")
    capsys.readouterr()

    code = run(argv, stdin="another-pass-42\n")

    assert code != 0
    assert "boss@example.com" in capsys.readouterr().err
    assert can_log_in("boss@example.com", "a-strong-pass-42")


@pytest.mark.parametrize("command", [["migrate"], ["seed"]])
def test_an_invalid_setting_exits_2_naming_the_variable(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    monkeypatch.setenv("TALIA_DATABASE__URL", "mysql://x")

    assert run(command) == 2
    assert "TALIA_DATABASE__URL" in capsys.readouterr().err


def test_an_unparsable_list_setting_exits_2_naming_the_variable(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TALIA_HTTP__CORS_ORIGINS", "https://app.example.com")

    assert run(["migrate"]) == 2
    assert "TALIA_HTTP__CORS_ORIGINS" in capsys.readouterr().err


def test_production_with_the_demo_secret_exits_2(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TALIA_ENVIRONMENT", "production")

    assert run(["migrate"]) == 2
    assert "TALIA_AUTH__JWT_SECRET" in capsys.readouterr().err
    assert not (workdir / "talia.db").exists()


def test_an_unknown_command_exits_with_usage(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(["frobnicate"])

    assert exited.value.code == 2
    assert "usage: talia" in capsys.readouterr().err


# --- examples ----------------------------------------------------------------------------


EXAMPLE_SCRIPTS = sorted(EXAMPLES.glob("*.py"))


def test_the_examples_are_there() -> None:
    assert EXAMPLE_SCRIPTS


@pytest.mark.parametrize("script", EXAMPLE_SCRIPTS, ids=lambda script: script.name)
def test_each_example_runs_against_a_seeded_database(
    workdir: Path, capsys: pytest.CaptureFixture[str], script: Path
) -> None:
    run(["migrate"])
    run(["seed"])

    finished = subprocess.run(  # the example as a user runs it: its own process
        [sys.executable, str(script)],
        cwd=workdir,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr
    if script.name.endswith("claims_report.py"):
        assert finished.stdout.splitlines()[0] == "1 open claim(s)"
        assert "Rosa Huaman" in finished.stdout


# --- batch jobs --------------------------------------------------------------------------


def test_expire_orders_expires_stale_pending_orders_and_prints_a_summary(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["migrate"])
    run(["seed"])
    stale = asyncio.run(place_order(hours_ago=3))
    fresh = asyncio.run(place_order(hours_ago=0))
    capsys.readouterr()

    assert run(["jobs", "expire-orders"]) == 0

    assert "1 of 1 stale pending orders expired" in capsys.readouterr().out
    assert asyncio.run(status_of(stale)) == "expired"
    assert asyncio.run(status_of(fresh)) == "pending"


async def place_order(*, hours_ago: int) -> str:
    """The demo customer checks out a demo plan, ``hours_ago`` in the past."""
    container = build_container(load_settings())
    container.core.clock.override(
        providers.Object(FakeClock(SystemClock().now() - timedelta(hours=hours_ago)))
    )
    await open_resources(container)
    try:
        talia = Talia.of(container)
        customer = await talia.auth.login(
            email=DEMO_CUSTOMER, password=DEMO_PASSWORD, ip=None, user_agent=None
        )
        buyer = Actor(customer.user.id)
        plan = (await talia.catalog.list_plans())[0]
        await talia.carts.add_item(buyer.id, ProductRef(ProductKind.PLAN, plan.id), 1)
        return (await talia.orders.checkout(buyer)).id
    finally:
        await close_resources(container)


async def status_of(order_id: str) -> str:
    async with open_talia(load_settings()) as talia:
        order = await talia.orders.get(Actor("system:test", is_admin=True), order_id)
    return order.status.value
