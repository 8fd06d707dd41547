"""The leads' tables and repositories, bound by one bundle. In a writing unit of work
``leads.get`` and ``leads.of_contact`` lock the lead they read (``FOR UPDATE``)."""

from __future__ import annotations

from adapters.persistence.bundle import RepositoryBundle, bound
from adapters.persistence.leads.repositories import (
    SqlAlchemyLeadHistory,
    SqlAlchemyLeadRepository,
)


class LeadsRepositories(RepositoryBundle):
    leads = bound(SqlAlchemyLeadRepository, locks=True)
    lead_history = bound(SqlAlchemyLeadHistory)
