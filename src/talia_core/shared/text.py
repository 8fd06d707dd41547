"""Checks on free text, names and e-mail addresses that every context applies the same way."""

import re

from talia_core.shared.errors import RuleViolated

MAX_EMAIL_LENGTH = 254
"""An e-mail address is at most 254 characters, the longest a mail path may carry."""
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters other than tab and line breaks; PostgreSQL cannot even store NUL."""


def required_text(field: str, value: str, max_length: int) -> str:
    """Return ``value`` stripped, refusing it when blank or longer than ``max_length``."""
    cleaned = value.strip()
    if not cleaned:
        raise RuleViolated(f"{field} must not be blank", {field: "blank"})
    if len(cleaned) > max_length:
        raise RuleViolated(f"{field} must be at most {max_length} characters", {field: "too long"})
    if CONTROL.search(cleaned):
        raise RuleViolated(
            f"{field} must not contain control characters", {field: "control character"}
        )
    return cleaned


def optional_text(field: str, value: str | None, max_length: int) -> str | None:
    if value is None or not value.strip():
        return None
    return required_text(field, value, max_length)


def slug(field: str, value: str, max_length: int) -> str:
    """A name others refer to: lower-case letters and digits in words joined by hyphens."""
    cleaned = required_text(field, value, max_length)
    if not _SLUG.match(cleaned):
        raise RuleViolated(
            f"{field} must be lower-case letters and digits joined by hyphens, like 'front-desk'",
            {field: "not a slug"},
        )
    return cleaned


def email_address(field: str, value: str) -> str:
    """Return the address lower-cased, refusing anything that is not shaped like one."""
    cleaned = value.strip().lower()
    if len(cleaned) > MAX_EMAIL_LENGTH or not _EMAIL.match(cleaned) or CONTROL.search(cleaned):
        raise RuleViolated(f"{field} is not a valid e-mail address", {field: "invalid"})
    return cleaned
