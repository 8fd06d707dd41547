"""``CommonPasswords`` over a list of the passwords attackers try first.

``ZxcvbnCommonPasswords`` reads the 30 000 most common passwords of leaked password sets
that the ``zxcvbn`` strength estimator ships as data; ``ListedCommonPasswords`` takes any
list (a file of the deployment's own, the tests' few). Both pass
``tests/contracts/identity/common_passwords.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

_ADDED_AT_THE_END = "0123456789!?.,;:-_+*#@$%&/=~ "
_SHORTEST_BASE = 4
"""A base this short ("abcd") is no common password however it ends: "abcd-2026" passes."""


class ListedCommonPasswords:
    def __init__(self, passwords: Iterable[str]) -> None:
        self._listed = frozenset(p.casefold() for p in passwords)

    def is_common(self, password: str) -> bool:
        folded = password.casefold()
        if folded in self._listed:
            return True
        base = folded.rstrip(_ADDED_AT_THE_END)
        return len(base) >= _SHORTEST_BASE and base != folded and base in self._listed


class ZxcvbnCommonPasswords:
    """zxcvbn (12 MB of word lists once imported) is read at the first check: most processes
    never check a new password."""

    def __init__(self) -> None:
        self._listed: ListedCommonPasswords | None = None

    def is_common(self, password: str) -> bool:
        if self._listed is None:
            from zxcvbn.frequency_lists import FREQUENCY_LISTS

            self._listed = ListedCommonPasswords(FREQUENCY_LISTS["passwords"])
        return self._listed.is_common(password)
