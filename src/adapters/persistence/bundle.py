"""A context's repositories bound to one transaction: what the SQL unit of work is made of."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, Self, TypeVar, overload

from adapters.persistence.connection import Transaction

R = TypeVar("R")


class RepositoryBundle:
    """The base of every context's bundle of repositories.

    ``SqlAlchemyUnitOfWork`` inherits one bundle per context, so a new context is one more
    base. Each bundle declares its repositories as ``repository`` attributes; when the unit's
    transaction opens it calls ``bind`` once, and each repository is made the first time it
    is used in that transaction: a unit of work pays only for the few it uses, not for the
    fifty every context has. ``lock`` is true in a writing unit: its repositories lock the
    rows they read to change.
    """

    _bound_tx: Transaction | None = None
    _bound_lock = False
    _repositories: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._repositories = tuple(
            name
            for kind in cls.__mro__
            for name, value in vars(kind).items()
            if isinstance(value, repository)
        )

    def bind(self, tx: Transaction, *, lock: bool) -> None:
        self._bound_tx, self._bound_lock = tx, lock
        for name in self._repositories:  # those made for an earlier transaction
            self.__dict__.pop(name, None)


class repository(Generic[R]):  # noqa: N801 - used as a declaration, like a field
    """A repository of a bundle: ``make(transaction, lock)``, called on first use in a
    transaction and kept for the rest of it."""

    def __init__(self, make: Callable[[Transaction, bool], R]) -> None:
        self._make = make
        self._name = ""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, bundle: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, bundle: RepositoryBundle, owner: type[Any]) -> R: ...

    def __get__(self, bundle: RepositoryBundle | None, owner: type[Any]) -> Self | R:
        if bundle is None:
            return self
        tx = bundle._bound_tx
        if tx is None:
            raise RuntimeError("the unit of work is used outside its 'async with' block")
        made = self._make(tx, bundle._bound_lock)
        bundle.__dict__[self._name] = made  # found before this descriptor from now on
        return made


def bound(kind: Callable[..., R], *, locks: bool = False) -> repository[R]:
    """A repository made as ``kind(tx)``, or ``kind(tx, lock=lock)`` when it ``locks`` the
    rows a writing unit reads."""
    if locks:
        return repository(lambda tx, lock: kind(tx, lock=lock))
    return repository(lambda tx, _: kind(tx))
