"""The leads' repository contract on the in-memory fake, SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from tests.contracts.leads.lead_repository import LeadRepositoryContract


class LeadRepositoryTests(LeadRepositoryContract):
    pass
