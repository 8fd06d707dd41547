"""The SQL unit of work: one connection, one transaction, every repository bound to it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence.assistants import AssistantsRepositories
from adapters.persistence.catalog import CatalogRepositories
from adapters.persistence.commerce import CommerceRepositories
from adapters.persistence.connection import Transaction, translate
from adapters.persistence.conversations import ConversationsRepositories
from adapters.persistence.engine import READ_ONLY, write_lock
from adapters.persistence.feedback import FeedbackRepositories
from adapters.persistence.identity import IdentityRepositories
from adapters.persistence.invitations import InvitationsRepositories
from adapters.persistence.invitations.media import InvitationMediaRepositories
from adapters.persistence.invitations.rsvp import RsvpRepositories
from adapters.persistence.jobs import JobRepositories
from adapters.persistence.kernel import KernelRepositories
from adapters.persistence.knowledge import KnowledgeRepositories
from adapters.persistence.leads import LeadsRepositories
from adapters.persistence.scheduling import SchedulingRepositories
from adapters.persistence.usage import UsageRepositories
from talia_core.shared.errors import ExternalServiceUnavailable


class SqlAlchemyUnitOfWork(
    KernelRepositories,
    IdentityRepositories,
    FeedbackRepositories,
    CatalogRepositories,
    CommerceRepositories,
    ConversationsRepositories,
    JobRepositories,
    AssistantsRepositories,
    UsageRepositories,
    KnowledgeRepositories,
    SchedulingRepositories,
    LeadsRepositories,
    InvitationsRepositories,
    InvitationMediaRepositories,
    RsvpRepositories,
):
    """Satisfies every context's unit-of-work port; repositories never commit.

    Each base is one context's bundle of repositories (see ``RepositoryBundle``): a new
    context adds its bundle to this list.
    """

    def __init__(self, engine: AsyncEngine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        self._connection: AsyncConnection | None = None
        self._lock = None if read_only else write_lock(engine)

    async def __aenter__(self) -> Self:
        if self._lock is not None:
            await self._lock.acquire()
        try:
            connection = await self._engine.connect()
            if self._read_only:
                connection = await connection.execution_options(**{READ_ONLY: True})
        except exc.DBAPIError as error:
            self._release()
            raise translate(error) from error
        except OSError as error:  # asyncpg lets a refused or timed-out connect through as is
            self._release()
            raise ExternalServiceUnavailable("database", type(error).__name__) from error
        except exc.TimeoutError as error:  # every pooled connection stayed busy
            self._release()
            raise ExternalServiceUnavailable("database", "no free connection", 1) from error
        except BaseException:
            self._release()
            raise
        # The transaction begins with the first statement (SQLAlchemy's autobegin).
        self._connection = connection
        # A writing unit locks the rows it reads to change; a reading unit locks nothing.
        self.bind(Transaction(connection), lock=not self._read_only)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if connection.in_transaction():
                await connection.rollback()
        finally:
            await connection.close()
            self._release()

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        connection = self._live()
        if connection.in_transaction():
            try:
                await connection.commit()
            except exc.DBAPIError as error:
                raise translate(error) from error

    def _release(self) -> None:
        if self._lock is not None and self._lock.locked():
            self._lock.release()

    def _live(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the unit of work is used outside its 'async with' block")
        return self._connection
