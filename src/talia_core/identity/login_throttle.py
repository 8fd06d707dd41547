"""Login throttling: attempts counted per account and per client address."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from talia_core.identity.ports import AttemptStore
from talia_core.shared.errors import RateLimited


class LoginThrottle:
    """Login attempts counted per account and per client address in fixed windows.

    Every attempt is counted before the password is looked at, in one atomic step of the
    store, and refused once its count passes the limit: a burst of concurrent guesses
    cannot all slip in before the first of them fails. A success clears the account's
    count (its owner is back) and takes its own attempt back from the address's count, so
    the address counts failures (plus attempts still running): successes from a shared
    address never lock it, and a known password cannot wipe the failures counted there.
    """

    def __init__(
        self,
        store: AttemptStore,
        *,
        account_failures: int = 5,
        address_failures: int = 20,
        window: timedelta = timedelta(minutes=15),
    ) -> None:
        self._store = store
        self._account_failures = account_failures
        self._address_failures = address_failures
        self._window_seconds = int(window.total_seconds())

    @staticmethod
    def _account_key(email: str) -> str:
        # Hashed so the shared store holds no e-mail addresses.
        return "login:account:" + hashlib.sha256(email.encode()).hexdigest()

    @staticmethod
    def _address_key(ip: str) -> str:
        return "login:address:" + ip

    async def attempt(self, *, email: str, ip: str | None) -> None:
        """Count an attempt; raise ``RateLimited`` if the account or the address is past
        its limit of failures. A refused attempt counts too, without extending the window."""
        limits = [(self._account_key(email), self._account_failures)]
        if ip:
            limits.append((self._address_key(ip), self._address_failures))
        waits = []
        for key, limit in limits:
            window = await self._store.hit(key, window_seconds=self._window_seconds)
            if window.count > limit:
                waits.append(window.resets_in_seconds)
        if waits:
            raise RateLimited("too many failed logins; try again later", max(waits))

    async def succeeded(self, *, email: str, ip: str | None) -> None:
        await self._store.clear(self._account_key(email))
        if ip:
            await self._store.take_back(self._address_key(ip))
