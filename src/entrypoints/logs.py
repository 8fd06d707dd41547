"""Logs on stderr, each line carrying the request id when there is one.

JSON lines for machines (the default off a terminal), readable lines for a person at a
terminal; ``TALIA_LOG__FORMAT`` picks one explicitly.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import time
from typing import Any

import msgspec

from entrypoints.settings import LogFormat, LogSettings

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Record attributes that are not fields of the line; uvicorn's ``color_message`` repeats the
# message with terminal colour codes.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}
_encoder = msgspec.json.Encoder(enc_hook=str)


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Every request writes one, so it is kept cheap: the second
    of the timestamp is formatted once, and msgspec encodes."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._second_text = ""

    def _timestamp(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._second_text}.{int((created - second) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self._timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (current := request_id.get()) is not None:
            entry["request_id"] = current
        fields = record.__dict__
        for key in fields.keys() - _STANDARD:
            entry[key] = fields[key]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _encoder.encode(entry).decode()


class ConsoleFormatter(logging.Formatter):
    """``12:04:05.123 INFO  talia.http  message  key=value … [request id]``, for a terminal."""

    _LEVELS = {
        "DEBUG": "\x1b[2m",
        "WARNING": "\x1b[33m",
        "ERROR": "\x1b[31m",
        "CRITICAL": "\x1b[31m",
    }

    def __init__(self, *, colour: bool) -> None:
        super().__init__()
        self._colour = colour

    def format(self, record: logging.LogRecord) -> str:
        clock = time.strftime("%H:%M:%S", time.localtime(record.created))
        level = f"{record.levelname:<5}"
        if self._colour and (shade := self._LEVELS.get(record.levelname)):
            level = f"{shade}{level}\x1b[0m"
        parts = [f"{clock}.{int(record.msecs):03d}", level, record.name, record.getMessage()]
        fields = record.__dict__
        parts.extend(f"{key}={fields[key]}" for key in sorted(fields.keys() - _STANDARD))
        if (current := request_id.get()) is not None:
            parts.append(f"[{current}]")
        line = "  ".join(parts)
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def chosen_format(settings: LogSettings, terminal: bool) -> LogFormat:
    """The format asked for; ``auto`` is console on a terminal and JSON anywhere else."""
    if settings.format is not LogFormat.AUTO:
        return settings.format
    return LogFormat.CONSOLE if terminal else LogFormat.JSON


def configure_logging(settings: LogSettings) -> None:
    # The logging HOWTO's "Optimization": the lines carry none of the caller's file and line,
    # thread or process, so do not collect them (about a third of a request's log cost).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    terminal = sys.stderr.isatty()
    if chosen_format(settings, terminal) is LogFormat.CONSOLE:
        handler.setFormatter(ConsoleFormatter(colour=terminal))
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True
    # Lines about each job or run, not worth one each above DEBUG: SAQ writes three for
    # every job (the job store keeps how each ended), Alembic one per plugin it loads.
    for chatty in ("saq", "alembic.runtime.plugins"):
        logging.getLogger(chatty).setLevel("DEBUG" if settings.level == "DEBUG" else "WARNING")
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
