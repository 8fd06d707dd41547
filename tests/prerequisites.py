"""What a test needs from the machine (a database server, a browser, espeak-ng): without it
the test is skipped with the reason, except under ``CI=true``, where every suite must run
and a missing one fails the run."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest


def missing(message: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI runs every suite", pytrace=False)
    pytest.skip(message)


def espeak() -> str:
    """The path of Debian's espeak-ng, which makes the tests' Spanish speech."""
    found = shutil.which("espeak-ng")
    if found is None:
        missing("espeak-ng is not installed (apt-get install espeak-ng)")
    return found
