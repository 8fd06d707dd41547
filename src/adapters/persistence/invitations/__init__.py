"""The invitations' table and repositories, bound by one bundle. In a writing unit of work
``invitations.get`` and ``invitations.of_order`` lock what they read (``FOR UPDATE``)."""

from __future__ import annotations

from adapters.persistence.bundle import RepositoryBundle
from adapters.persistence.connection import Transaction
from adapters.persistence.invitations.repositories import (
    SqlAlchemyInvitationRepository,
    SqlAlchemyInvitationTerms,
)
from adapters.persistence.invitations.short_urls import SqlAlchemyShortUrlRepository


class InvitationsRepositories(RepositoryBundle):
    invitations: SqlAlchemyInvitationRepository
    invitation_terms: SqlAlchemyInvitationTerms
    short_urls: SqlAlchemyShortUrlRepository

    def bind(self, tx: Transaction, *, lock: bool) -> None:
        self.invitations = SqlAlchemyInvitationRepository(tx, lock=lock)
        self.invitation_terms = SqlAlchemyInvitationTerms(tx)
        self.short_urls = SqlAlchemyShortUrlRepository(tx)
        super().bind(tx, lock=lock)
