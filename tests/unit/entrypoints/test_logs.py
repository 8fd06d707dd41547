"""Log lines: JSON for machines, readable lines for a person at a terminal."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from entrypoints.logs import (
    ConsoleFormatter,
    JsonFormatter,
    chosen_format,
    configure_logging,
    request_id,
)
from entrypoints.settings import LogFormat, LogSettings


def _record(message: str = "order paid", **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("talia.commerce", logging.WARNING, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    return record


@pytest.mark.parametrize(
    ("asked", "terminal", "chosen"),
    [
        (LogFormat.AUTO, True, LogFormat.CONSOLE),
        (LogFormat.AUTO, False, LogFormat.JSON),
        (LogFormat.JSON, True, LogFormat.JSON),
        (LogFormat.CONSOLE, False, LogFormat.CONSOLE),
    ],
)
def test_auto_logs_readable_lines_on_a_terminal_and_json_elsewhere(
    asked: LogFormat, terminal: bool, chosen: LogFormat
) -> None:
    assert chosen_format(LogSettings(format=asked), terminal) is chosen


def test_a_console_line_reads_level_logger_message_fields_and_request_id() -> None:
    token = request_id.set("req-7")
    try:
        line = ConsoleFormatter(colour=False).format(_record(order_id="o-1", amount=1500))
    finally:
        request_id.reset(token)

    assert line.split("  ")[1:] == [
        "WARNING",
        "talia.commerce",
        "order paid",
        "amount=1500",
        "order_id=o-1",
        "[req-7]",
    ]
    assert "\x1b[" not in line


def test_a_console_line_colours_the_level_only_when_asked() -> None:
    assert "\x1b[33mWARNING\x1b[0m" in ConsoleFormatter(colour=True).format(_record())


def test_a_console_line_carries_the_traceback_below_it() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record(exc_info=sys.exc_info())

    line = ConsoleFormatter(colour=False).format(record)

    assert line.splitlines()[0].endswith("order paid")
    assert "ValueError: boom" in line


def test_a_json_line_is_one_object_with_the_extra_fields() -> None:
    entry = json.loads(JsonFormatter().format(_record(order_id="o-1")))

    assert entry["level"] == "warning"
    assert entry["message"] == "order paid"
    assert entry["order_id"] == "o-1"


def test_configured_logging_uses_the_format_asked_for() -> None:
    root = logging.getLogger()
    before, level = root.handlers[:], root.level
    try:
        configure_logging(LogSettings(level="ERROR", format=LogFormat.CONSOLE))
        assert isinstance(root.handlers[0].formatter, ConsoleFormatter)
        assert root.level == logging.ERROR
        configure_logging(LogSettings(format=LogFormat.JSON))
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
    finally:
        root.handlers[:] = before
        root.setLevel(level)


@pytest.mark.parametrize(("level", "per_job"), [("INFO", False), ("DEBUG", True)])
def test_the_job_queues_line_for_every_job_is_written_only_when_debugging(
    level: str, per_job: bool
) -> None:
    root, saq = logging.getLogger(), logging.getLogger("saq")
    before, root_level, saq_level = root.handlers[:], root.level, saq.level
    try:
        configure_logging(LogSettings(level=level, format=LogFormat.JSON))

        assert saq.isEnabledFor(logging.INFO) is per_job
        assert saq.isEnabledFor(logging.WARNING)
        assert logging.getLogger("talia.jobs").isEnabledFor(logging.INFO)
    finally:
        root.handlers[:] = before
        root.setLevel(root_level)
        saq.setLevel(saq_level)


def test_uvicorns_coloured_copy_of_the_message_is_not_a_field() -> None:
    record = _record("Started", color_message="\x1b[1mStarted\x1b[0m")

    assert "color_message" not in ConsoleFormatter(colour=False).format(record)
    assert "color_message" not in json.loads(JsonFormatter().format(record))
