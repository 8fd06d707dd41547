"""The ``talia`` command line on a temporary SQLite file, and the examples that use the library."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import bcrypt
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
from talia_core.shared.jobs import Job
from talia_core.shared.pagination import PageRequest

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


def test_users_imported_with_their_old_bcrypt_hashes_sign_in_with_their_old_passwords(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["migrate"])
    old = bcrypt.hashpw(b"vieja-clave-2019", bcrypt.gensalt(rounds=4)).decode()
    file = workdir / "clientes.csv"
    file.write_text(
        "email,name,password_hash,role\n"
        f"rosa@example.com,Rosa,{old},\n"
        f"eva@example.com,Eva,{old},agent\n"
        "raro@example.com,Raro,md5-5f4dcc3b,\n"
        f"rosa@example.com,Rosa,{old},\n",
        encoding="utf-8",
    )
    capsys.readouterr()

    code = run(["users", "import", str(file)])

    captured = capsys.readouterr()
    assert code == 1
    assert "2 users imported, 1 already there, 1 refused" in captured.out
    assert "line 4" in captured.err
    assert can_log_in("rosa@example.com", "vieja-clave-2019")
    assert can_log_in("eva@example.com", "vieja-clave-2019")


def test_a_backup_taken_while_writes_go_on_restores_the_database_as_it_was(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["migrate"])
    run(["seed"])
    database = workdir / "talia.db"
    writing = threading.Event()

    def write_meanwhile() -> None:
        with sqlite3.connect(database) as connection:
            connection.execute("CREATE TABLE busy (n INTEGER)")
            writing.set()
            for n in range(2000):
                connection.execute("INSERT INTO busy VALUES (?)", (n,))
                connection.commit()

    writer = threading.Thread(target=write_meanwhile)
    writer.start()
    writing.wait(5)
    assert run(["backup", str(workdir / "copy.db")]) == 0
    writer.join()
    run(
        ["create-admin", "--email", "late@example.com", "--name", "Late", "--password-stdin"],
        stdin="a-strong-pass-42\n",
    )
    capsys.readouterr()

    assert run(["restore", str(workdir / "copy.db")]) == 0

    assert "restored" in capsys.readouterr().out
    assert can_log_in(DEMO_ADMIN, DEMO_PASSWORD)
    assert not can_log_in("late@example.com", "a-strong-pass-42")


def test_a_backup_of_a_server_database_points_to_its_own_tools(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALIA_DATABASE__URL", "postgresql+asyncpg://talia@db.example/talia")

    assert run(["backup", str(workdir / "copy.db")]) == 1
    assert "pg_dump" in capsys.readouterr().err


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


def test_forget_done_deletes_the_jobs_done_long_ago_and_says_how_many(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["migrate"])
    asyncio.run(record_done_jobs(days_ago=40, count=3))
    asyncio.run(record_done_jobs(days_ago=1, count=1))
    capsys.readouterr()

    assert run(["jobs", "forget-done", "--days", "30"]) == 0

    assert "talia: 3 jobs done more than 30 days ago deleted" in capsys.readouterr().out
    assert asyncio.run(jobs_kept()) == 1


def test_forget_done_refuses_less_than_a_day(workdir: Path) -> None:
    with pytest.raises(SystemExit) as refused:
        run(["jobs", "forget-done", "--days", "0"])

    assert refused.value.code == 2


async def record_done_jobs(*, days_ago: int, count: int) -> None:
    container = build_container(load_settings())
    await open_resources(container)
    try:
        at = SystemClock().now() - timedelta(days=days_ago)
        async with container.gateways.unit_of_work() as uow:
            for n in range(count):
                job = Job.new("notifications.webhook", {"n": n}, at=at)
                job.start(at, timedelta(seconds=30))
                job.succeed(at)
                await uow.jobs.add(job)
            await uow.commit()
    finally:
        await close_resources(container)


async def jobs_kept() -> int:
    async with open_talia(load_settings()) as talia:
        return (await talia.job_runner.list(PageRequest())).total


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


# --- assistants eval ---------------------------------------------------------------------


DEMO_EVAL = EXAMPLES / "demo_assistants_eval.jsonl"
DEMO_CASES = DEMO_EVAL.read_text(encoding="utf-8").splitlines()
BROKEN_PROMISE = json.dumps(  # fails on purpose: the offline rules never transfer
    {
        "name": "the router hands sales over",
        "messages": ["quiero comprar el plan premium"],
        "expect": {"tools": ["transfer_to_assistant"], "assistant": "ventas", "max_steps": 1},
    }
)


@pytest.fixture
def demo(workdir: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The working directory, with the demo data (its assistants) seeded."""
    run(["migrate"])
    run(["seed"])
    capsys.readouterr()
    return workdir


def evaluate(*cases: str, options: tuple[str, ...] = ()) -> int:
    """``talia assistants eval`` of ``cases``, written to a file, against the receptionist."""
    written = Path("cases.jsonl")
    written.write_text("".join(f"{case}\n" for case in cases), encoding="utf-8")
    return run(["assistants", "eval", str(written), "--assistant", "recepcion", *options])


def test_the_shipped_eval_file_passes_against_the_demo_assistants_offline(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["assistants", "eval", str(DEMO_EVAL), "--assistant", "recepcion"])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert len(lines) == len(DEMO_CASES) + 1
    assert all(line.startswith("PASS ") for line in lines[:-1])
    assert lines[-1] == f"{len(DEMO_CASES)} passed, 0 failed"


def test_a_failing_case_is_printed_with_its_reasons_and_exits_1(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = evaluate(*DEMO_CASES, BROKEN_PROMISE)

    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines[-2] == (
        "FAIL the router hands sales over: transfer_to_assistant was not called; "
        "catalog_prices was called, not expected; "
        "expected ventas to answer at the end, recepcion did; "
        "a turn took 2 model steps, at most 1 expected"
    )
    assert lines[-1] == f"{len(DEMO_CASES)} passed, 1 failed"


def test_the_report_as_json_gives_each_case_and_the_pass_rate(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = evaluate(DEMO_CASES[0], BROKEN_PROMISE, options=("--json",))

    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert (report["assistant"], report["version"]) == ("recepcion", 1)
    assert (report["passed"], report["failed"], report["pass_rate"]) == (1, 1, 0.5)
    assert [case["passed"] for case in report["cases"]] == [True, False]
    assert report["cases"][1]["reasons"][0] == "transfer_to_assistant was not called"


def test_a_bad_eval_file_exits_2_naming_its_lines(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = evaluate(BROKEN_PROMISE, '{"name": "x"', '{"name": "y", "messages": ["hola"]}')

    output = capsys.readouterr()
    assert code == 2
    assert output.out == ""
    assert output.err.splitlines() == [
        "talia: cases.jsonl: line 2: not JSON: Expecting ',' delimiter at column 13",
        "talia: cases.jsonl: line 3: expect is a JSON object",
    ]


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        ([str(DEMO_EVAL), "--assistant", "nadie"], "assistant 'nadie' does not exist"),
        (["missing.jsonl", "--assistant", "recepcion"], "cannot read missing.jsonl"),
    ],
)
def test_an_unknown_assistant_or_a_missing_file_exits_2(
    demo: Path, capsys: pytest.CaptureFixture[str], argv: list[str], error: str
) -> None:
    assert run(["assistants", "eval", *argv]) == 2
    assert error in capsys.readouterr().err
