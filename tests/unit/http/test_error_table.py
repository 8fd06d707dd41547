"""Every error the core raises has its place in the one table of HTTP statuses."""

from __future__ import annotations

import importlib
import pkgutil

import talia_core
from entrypoints.http.errors import ERROR_TABLE
from talia_core.conversations.errors import DeliveryRefused
from talia_core.notifications.errors import NotificationRefused
from talia_core.shared.email import EmailRefused
from talia_core.shared.errors import TaliaError
from talia_core.shared.jobs import PermanentFailure, UnknownJobKind

JOBS_ONLY = {DeliveryRefused, PermanentFailure, UnknownJobKind, NotificationRefused, EmailRefused}
"""Raised inside background jobs, where the job runner handles them; never to a request."""


def _every_core_error() -> set[type[TaliaError]]:
    for module in pkgutil.walk_packages(talia_core.__path__, "talia_core."):
        importlib.import_module(module.name)
    found: set[type[TaliaError]] = set()
    pending = [TaliaError]
    while pending:
        for subclass in pending.pop().__subclasses__():
            found.add(subclass)
            pending.append(subclass)
    return found


def test_every_core_error_a_request_can_meet_maps_to_a_status() -> None:
    unmapped = {
        error
        for error in _every_core_error()
        if not any(issubclass(error, kind) for kind in ERROR_TABLE)
    }

    assert unmapped == JOBS_ONLY
