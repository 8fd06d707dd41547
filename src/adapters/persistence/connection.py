"""One transaction's connection, translating driver errors into core errors at the edge."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from talia_core.shared.errors import ConcurrentWrite, Conflict, ExternalServiceUnavailable
from talia_core.shared.pagination import Page, PageRequest

T = TypeVar("T")


# What each driver says for a duplicate key and for a broken reference.
_UNIQUE = {"23505", 1062, 1586, "UNIQUE constraint failed"}
_REFERENCE = {"23503", 1451, 1452, "FOREIGN KEY constraint failed"}
# MySQL and MariaDB report a failed CHECK as an operational error: it is a defect, not an outage.
_CHECK = {3819, 4025}


# The database rolled the transaction back for a concurrent one: PostgreSQL's deadlock and
# serialization failure, MySQL's deadlock. (A lock wait timeout, 1205, is not among them: it
# has already waited innodb_lock_wait_timeout, and MySQL undoes only its statement.)
_ABANDONED = {"40P01", "40001", 1213}

# A value the column cannot hold: PostgreSQL's SQLSTATE class 22 (too long, a NUL byte, an
# invalid escape), MySQL's data too long, incorrect string value, out of range, truncated,
# and a check the value fails (MariaDB checks what a JSON column holds: an unpaired
# surrogate's escape fails it).
_MYSQL_DATA = {1264, 1265, 1366, 1406, *_CHECK}


def refuses_value(error: exc.DBAPIError) -> bool:
    """Whether the database refused a value it was given rather than failed itself."""
    if isinstance(error, exc.DataError):
        return True
    codes = _codes(error)
    return bool(codes & _MYSQL_DATA) or any(
        isinstance(code, str) and code.startswith("22") for code in codes
    )


def _codes(error: exc.DBAPIError) -> set[object]:
    """What the driver says the error is: PostgreSQL's SQLSTATE, MySQL's error number."""
    original = error.orig
    found: set[object] = {getattr(original, "sqlstate", None), getattr(original, "pgcode", None)}
    arguments: Sequence[object] = getattr(original, "args", ())
    if arguments:
        found.add(arguments[0])
    return found


def _violation(error: exc.IntegrityError) -> set[object]:
    """The PostgreSQL SQLSTATE, MySQL error number or SQLite message of a violation."""
    found = _codes(error)
    found.update(
        text for text in _UNIQUE | _REFERENCE if isinstance(text, str) and text in str(error.orig)
    )
    return found


def translate(error: exc.DBAPIError) -> Exception:
    """A core error for what the caller may cause; anything else stays a defect."""
    if _codes(error) & _ABANDONED:
        return ConcurrentWrite(
            f"the database gave the transaction up ({type(error.orig).__name__})"
        )
    if isinstance(error, exc.IntegrityError):
        violation = _violation(error)
        if violation & _UNIQUE:
            return Conflict("a record with the same unique key already exists")
        if violation & _REFERENCE:
            return Conflict("the record refers to one that does not exist, or is still referred to")
        return error
    arguments = getattr(error.orig, "args", ())
    if arguments and arguments[0] in _CHECK:
        return error
    if isinstance(error, exc.OperationalError | exc.InterfaceError) or error.connection_invalidated:
        return ExternalServiceUnavailable("database", type(error.orig).__name__)
    return error


def locked(query: sa.Select[Any], lock: bool) -> sa.Select[Any]:
    """``query`` locking the rows it reads (``FOR UPDATE``) when ``lock``: a writing unit."""
    return query.with_for_update() if lock else query


class Transaction:
    """What repositories run their statements through; they never commit."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name

    async def execute(self, statement: Executable, parameters: Any = None) -> sa.CursorResult[Any]:
        try:
            return await self.connection.execute(statement, parameters)
        except exc.DBAPIError as error:
            raise translate(error) from error

    async def one_or_none(
        self, statement: Executable, parameters: Any = None
    ) -> sa.Row[Any] | None:
        return (await self.execute(statement, parameters)).first()

    async def page(
        self,
        statement: sa.Select[Any],
        page: PageRequest,
        order_by: Sequence[sa.ColumnElement[Any]],
        mapper: Callable[[sa.RowMapping], T],
    ) -> Page[T]:
        """One page and the total in one statement (a window count); a page past the end
        has no row to carry the total, so only then is it counted apart."""
        counted = statement.add_columns(sa.func.count().over().label("page_total"))
        rows = (
            await self.execute(counted.order_by(*order_by).limit(page.limit).offset(page.offset))
        ).all()
        if rows:
            total = int(rows[0].page_total)
        else:
            everything = sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
            total = (await self.execute(everything)).scalar_one()
        return Page(
            items=[mapper(row._mapping) for row in rows],
            total=total,
            limit=page.limit,
            offset=page.offset,
        )
