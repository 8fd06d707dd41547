"""The RSVP repositories' contract on the in-memory fake, SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from tests.contracts.invitations.rsvp_repositories import RsvpRepositoryContract


class RsvpRepositoryTests(RsvpRepositoryContract):
    pass
