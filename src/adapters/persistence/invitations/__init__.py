"""The invitations' table and repositories, bound by one bundle. In a writing unit of work
``invitations.get`` and ``invitations.of_order`` lock what they read (``FOR UPDATE``)."""

from __future__ import annotations

from adapters.persistence.bundle import RepositoryBundle, bound
from adapters.persistence.invitations.repositories import (
    SqlAlchemyInvitationRepository,
    SqlAlchemyInvitationTerms,
)
from adapters.persistence.invitations.short_urls import SqlAlchemyShortUrlRepository


class InvitationsRepositories(RepositoryBundle):
    invitations = bound(SqlAlchemyInvitationRepository, locks=True)
    invitation_terms = bound(SqlAlchemyInvitationTerms)
    short_urls = bound(SqlAlchemyShortUrlRepository)
