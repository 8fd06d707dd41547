"""Password hashers: argon2id for real (reading the bcrypt hashes of users imported from
older systems too), and a fast fake for tests."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import bcrypt
from argon2 import PasswordHasher, Type
from argon2.exceptions import Argon2Error, InvalidHashError

BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
BCRYPT_MAX_BYTES = 72
"""What bcrypt reads of a password: older systems cut longer ones there, so does the check."""


class Argon2PasswordHasher:
    """argon2id; hashing and verifying run in a worker thread, off the event loop.

    ``memory_cost`` is in KiB. Defaults are argon2-cffi's (RFC 9106 low-memory profile).
    A bcrypt hash (an imported user's) verifies too and always needs a rehash, so the
    user's next login stores argon2id instead.
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
        if password_hash.startswith(BCRYPT_PREFIXES):
            return await asyncio.to_thread(_bcrypt_verify, password_hash, password)
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (Argon2Error, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def reads(self, password_hash: str) -> bool:
        return password_hash.startswith((*BCRYPT_PREFIXES, "$argon2id$"))


def _bcrypt_verify(password_hash: str, password: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode()[:BCRYPT_MAX_BYTES], password_hash.encode())
    except ValueError:  # a malformed hash
        return False


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

    def reads(self, password_hash: str) -> bool:
        return password_hash.startswith("fake")
