from __future__ import annotations

import bcrypt
import pytest

from adapters.security.passwords import Argon2PasswordHasher, FakePasswordHasher


@pytest.fixture
def argon2() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


async def test_argon2_verifies_the_right_password_only(argon2: Argon2PasswordHasher) -> None:
    hashed = await argon2.hash("correct horse 42")
    assert hashed.startswith("$argon2id$")
    assert await argon2.verify(hashed, "correct horse 42")
    assert not await argon2.verify(hashed, "correct horse 43")


async def test_argon2_salts_every_hash(argon2: Argon2PasswordHasher) -> None:
    assert await argon2.hash("same password 1") != await argon2.hash("same password 1")


@pytest.mark.parametrize(
    "garbage", ["", "garbage", "$argon2id$v=19$m=8,t=1,p=1$xx$yy", "fake1$abcdef"]
)
async def test_argon2_answers_false_for_a_hash_it_cannot_read(
    argon2: Argon2PasswordHasher, garbage: str
) -> None:
    assert not await argon2.verify(garbage, "any password 1")


async def test_argon2_asks_for_a_rehash_when_the_cost_goes_up(
    argon2: Argon2PasswordHasher,
) -> None:
    hashed = await argon2.hash("correct horse 42")
    assert not argon2.needs_rehash(hashed)
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost=8, parallelism=1)
    assert stronger.needs_rehash(hashed)
    assert stronger.needs_rehash("fake1$abcdef")


async def test_the_fake_hasher_behaves_like_a_hasher() -> None:
    old, new = FakePasswordHasher(version=1), FakePasswordHasher(version=2)
    hashed = await old.hash("correct horse 42")
    assert await new.verify(hashed, "correct horse 42")
    assert not await new.verify(hashed, "wrong")
    assert not await new.verify("garbage", "correct horse 42")
    assert new.needs_rehash(hashed)
    assert not old.needs_rehash(hashed)


BCRYPT_OF_OLD_PASSWORD = bcrypt.hashpw(b"vieja-clave-2019", bcrypt.gensalt(rounds=4)).decode()


async def test_a_bcrypt_hash_from_an_older_system_verifies_and_asks_for_a_rehash(
    argon2: Argon2PasswordHasher,
) -> None:
    assert argon2.reads(BCRYPT_OF_OLD_PASSWORD)
    assert await argon2.verify(BCRYPT_OF_OLD_PASSWORD, "vieja-clave-2019")
    assert not await argon2.verify(BCRYPT_OF_OLD_PASSWORD, "vieja-clave-2020")
    assert argon2.needs_rehash(BCRYPT_OF_OLD_PASSWORD)


async def test_a_bcrypt_hash_checks_the_first_72_bytes_as_bcrypt_always_did(
    argon2: Argon2PasswordHasher,
) -> None:
    long = "x" * 72
    hashed = bcrypt.hashpw(long.encode(), bcrypt.gensalt(rounds=4)).decode()
    assert await argon2.verify(hashed, long + "anything after")


@pytest.mark.parametrize("unknown", ["", "5f4dcc3b5aa765d61d8327deb882cf99", "$1$salt$hash"])
def test_hashes_of_formats_it_cannot_verify_are_not_read(
    argon2: Argon2PasswordHasher, unknown: str
) -> None:
    assert not argon2.reads(unknown)
