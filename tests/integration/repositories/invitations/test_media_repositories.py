"""Invitations' media repository contract on the in-memory fake, SQLite, PostgreSQL and
MariaDB."""

from __future__ import annotations

from tests.contracts.invitations.media_repository import MediaRepositoryContract


class MediaRepositoryTests(MediaRepositoryContract):
    pass
