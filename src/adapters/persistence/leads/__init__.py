"""The leads' tables and repositories, bound by one bundle. In a writing unit of work
``leads.get`` and ``leads.of_contact`` lock the lead they read (``FOR UPDATE``)."""

from __future__ import annotations

from adapters.persistence.bundle import RepositoryBundle
from adapters.persistence.connection import Transaction
from adapters.persistence.leads.repositories import (
    SqlAlchemyLeadHistory,
    SqlAlchemyLeadRepository,
)


class LeadsRepositories(RepositoryBundle):
    leads: SqlAlchemyLeadRepository
    lead_history: SqlAlchemyLeadHistory

    def bind(self, tx: Transaction, *, lock: bool) -> None:
        self.leads = SqlAlchemyLeadRepository(tx, lock=lock)
        self.lead_history = SqlAlchemyLeadHistory(tx)
        super().bind(tx, lock=lock)
