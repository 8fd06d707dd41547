from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talia_core.identity.model import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, check_password
from talia_core.shared.errors import RuleViolated

EMAIL = "maria.lopez@example.com"


def _refusal(password: str, email: str = EMAIL) -> RuleViolated:
    with pytest.raises(RuleViolated) as refused:
        check_password(password, email=email)
    assert set(refused.value.fields) == {"password"}
    return refused.value


def test_a_long_password_with_letters_and_digits_is_accepted() -> None:
    check_password("sunny-lima-2026", email=EMAIL)


def test_a_short_password_is_refused_naming_the_minimum() -> None:
    refusal = _refusal("abc123xyz")
    assert "at least 10 characters" in refusal.detail


def test_an_overlong_password_is_refused_naming_the_maximum() -> None:
    refusal = _refusal("a1" * 65)
    assert "at most 128 characters" in refusal.detail


@pytest.mark.parametrize("password", ["onlyletters-here", "1234567890123"])
def test_a_password_needs_a_letter_and_a_digit(password: str) -> None:
    assert "one letter and one digit" in _refusal(password).detail


def test_a_password_containing_the_email_local_part_is_refused_ignoring_case() -> None:
    assert "e-mail" in _refusal("xx-Maria.Lopez-99").detail


def test_a_very_short_local_part_is_not_held_against_the_password() -> None:
    check_password("a-perfectly-fine-1", email="al@example.com")


passwords = st.text(alphabet=string.ascii_letters + string.digits + "-_ !", max_size=140)


@given(passwords)
def test_the_policy_accepts_exactly_the_passwords_it_describes(password: str) -> None:
    expected = (
        PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH
        and any(c.isalpha() for c in password)
        and any(c.isdigit() for c in password)
        and "maria.lopez" not in password.lower()
    )
    assert _refused_fields(password) == (set() if expected else {"password"})


def _refused_fields(password: str) -> set[str]:
    try:
        check_password(password, email=EMAIL)
    except RuleViolated as refusal:
        return set(refusal.fields)
    return set()


@given(st.text(min_size=1, max_size=20).filter(lambda s: s.isalnum()))
def test_whatever_the_letters_the_local_part_never_fits_inside(local: str) -> None:
    email = f"{local}xyz@example.com"
    with pytest.raises(RuleViolated):
        check_password(f"A1-{local.upper()}XYZ-padding", email=email)
