"""The short URLs' repository contract on the in-memory fake, SQLite, PostgreSQL and
MariaDB."""

from __future__ import annotations

from tests.contracts.invitations.short_url_repository import ShortUrlRepositoryContract


class ShortUrlRepositoryTests(ShortUrlRepositoryContract):
    pass
