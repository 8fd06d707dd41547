"""The ``CommonPasswords`` contract, run against every adapter of the port."""

from __future__ import annotations

import pytest

from talia_core.identity.ports import CommonPasswords


class CommonPasswordsContract:
    @pytest.fixture
    def common(self) -> CommonPasswords:
        raise NotImplementedError

    @pytest.mark.parametrize("password", ["password", "PASSWORD", "qwerty", "123456"])
    def test_a_listed_password_is_common_whatever_its_case(
        self, common: CommonPasswords, password: str
    ) -> None:
        assert common.is_common(password)

    @pytest.mark.parametrize("password", ["password1234", "Password2026!", "qwerty_99"])
    def test_digits_and_symbols_added_to_a_listed_password_leave_it_common(
        self, common: CommonPasswords, password: str
    ) -> None:
        assert common.is_common(password)

    @pytest.mark.parametrize(
        "password", ["lirios-y-rosas-2026", "correct horse 42", "1234xqzvw", "abc1234567"]
    )
    def test_a_password_no_list_holds_is_not_common(
        self, common: CommonPasswords, password: str
    ) -> None:
        assert not common.is_common(password)
