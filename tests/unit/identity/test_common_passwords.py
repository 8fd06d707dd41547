from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.security.common_passwords import ListedCommonPasswords, ZxcvbnCommonPasswords
from talia_core.identity.auth_service import AuthService
from talia_core.identity.ports import CommonPasswords
from talia_core.shared.errors import RuleViolated
from tests.contracts.identity.common_passwords import CommonPasswordsContract

FEW = ["password", "qwerty", "123456", "iloveyou"]


class ShortListTests(CommonPasswordsContract):
    @pytest.fixture
    def common(self) -> CommonPasswords:
        return ListedCommonPasswords(FEW)


class ZxcvbnListTests(CommonPasswordsContract):
    @pytest.fixture
    def common(self) -> CommonPasswords:
        return ZxcvbnCommonPasswords()

    @pytest.mark.parametrize("password", ["dragon2024", "Monkey!", "letmein123", "sunshine"])
    def test_passwords_from_leaked_sets_are_common(
        self, common: CommonPasswords, password: str
    ) -> None:
        assert common.is_common(password)


async def test_registering_with_a_common_password_is_refused_naming_the_field(
    auth: AuthService, uow: Callable[[], InMemoryUnitOfWork]
) -> None:
    with pytest.raises(RuleViolated) as refused:
        await auth.register(email="ana@example.com", password="Password1234", name="Ana")
    assert refused.value.fields == {"password": "too common"}
    async with uow() as work:
        assert await work.users.find_by_email("ana@example.com") is None
