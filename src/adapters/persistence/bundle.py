"""A context's repositories bound to one transaction: what the SQL unit of work is made of."""

from __future__ import annotations

from adapters.persistence.connection import Transaction


class RepositoryBundle:
    """The base of every context's bundle of repositories.

    ``SqlAlchemyUnitOfWork`` inherits one bundle per context. When its transaction opens it
    calls ``bind`` once; each bundle binds its own repositories and passes the transaction
    on with ``super().bind`` (cooperative inheritance), so a new context is one more base.
    ``lock`` is true in a writing unit: its repositories lock the rows they read to change.
    """

    def bind(self, tx: Transaction, *, lock: bool) -> None:
        """The end of the chain: every bundle has bound its repositories."""
