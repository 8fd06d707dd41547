"""The invitations' repository contract on the in-memory fake, SQLite, PostgreSQL and
MariaDB."""

from __future__ import annotations

from tests.contracts.invitations.invitation_repository import InvitationRepositoryContract


class InvitationRepositoryTests(InvitationRepositoryContract):
    pass
