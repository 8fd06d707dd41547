"""Password hashers: argon2id for real, and a fast fake for tests."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

from argon2 import PasswordHasher, Type
from argon2.exceptions import Argon2Error, InvalidHashError


class Argon2PasswordHasher:
    """argon2id; hashing and verifying run in a worker thread, off the event loop.

    ``memory_cost`` is in KiB. Defaults are argon2-cffi's (RFC 9106 low-memory profile).
    """

    def __init__(
        self, *, time_cost: int = 3, memory_cost: int = 65536, parallelism: int = 4
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (Argon2Error, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True


class FakePasswordHasher:
    """Instant and unsalted, for tests only. Bumping ``version`` makes older hashes stale."""

    def __init__(self, *, version: int = 1) -> None:
        self._prefix = f"fake{version}$"

    async def hash(self, password: str) -> str:
        return self._prefix + hashlib.sha256(password.encode()).hexdigest()

    async def verify(self, password_hash: str, password: str) -> bool:
        digest = hashlib.sha256(password.encode()).hexdigest()
        return hmac.compare_digest(password_hash.partition("$")[2], digest)

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(self._prefix)
