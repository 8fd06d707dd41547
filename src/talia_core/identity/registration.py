"""How every user comes to be, whoever makes them: checked, hashed, and unique by e-mail."""

from __future__ import annotations

from datetime import datetime

from talia_core.identity.model import Role, User, check_password
from talia_core.identity.ports import CommonPasswords, IdentityUnitOfWork, PasswordHasher
from talia_core.shared.errors import Conflict, RuleViolated
from talia_core.shared.text import email_address


async def new_user(
    hasher: PasswordHasher,
    common: CommonPasswords,
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
    at: datetime,
) -> User:
    address = email_address("email", email)
    check_new_password(common, password, email=address)
    return User.register(
        email=address, name=name, role=role, password_hash=await hasher.hash(password), at=at
    )


def check_new_password(common: CommonPasswords, password: str, *, email: str) -> None:
    """The policy (``check_password``) and the screen against common passwords."""
    check_password(password, email=email)
    if common.is_common(password):
        raise RuleViolated(
            "password is one of the most common passwords; choose another",
            {"password": "too common"},
        )


async def add_user(uow: IdentityUnitOfWork, user: User) -> None:
    if await uow.users.find_by_email(user.email) is not None:
        raise Conflict(f"a user with the e-mail {user.email} already exists")
    await uow.users.add(user)
