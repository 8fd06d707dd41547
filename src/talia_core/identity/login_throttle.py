"""Login throttling: attempts counted per account and address, per address and per account."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

from talia_core.identity.ports import AttemptStore
from talia_core.shared.errors import RateLimited

Sleep = Callable[[float], Awaitable[None]]


class LoginThrottle:
    """Login attempts counted in fixed windows, three ways (OWASP ASVS 2.2.1):

    - **an account from one address**: refused past ``account_failures``, so one address
      cannot keep guessing one account's password;
    - **an address**, whatever the account: refused past ``address_failures``, so one
      address cannot spray guesses across accounts;
    - **an account**, from every address: never refused, since anyone could spend that
      budget and lock the owner out. Past ``account_failures`` each attempt waits instead,
      twice as long as the one before up to ``max_delay``: guesses spread over many
      addresses are slowed, and the owner with the right password still gets in.

    Every attempt is counted before the password is looked at, in one atomic step of the
    store, so a burst of concurrent guesses cannot all slip in before the first of them
    fails. A success clears the account's counts (its owner is back) and takes its own
    attempt back from the address's count, so the address counts failures (plus attempts
    still running): successes from a shared address never lock it, and a known password
    cannot wipe the failures counted there.
    """

    def __init__(
        self,
        store: AttemptStore,
        *,
        account_failures: int = 5,
        address_failures: int = 20,
        window: timedelta = timedelta(minutes=15),
        first_delay: timedelta = timedelta(milliseconds=500),
        max_delay: timedelta = timedelta(seconds=8),
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._store = store
        self._account_failures = account_failures
        self._address_failures = address_failures
        self._window_seconds = int(window.total_seconds())
        self._first_delay = first_delay.total_seconds()
        self._max_delay = max_delay.total_seconds()
        self._sleep = sleep

    @staticmethod
    def _account_key(email: str) -> str:
        # Hashed so the shared store holds no e-mail addresses.
        return "login:account:" + _digest(email)

    @staticmethod
    def _pair_key(email: str, ip: str | None) -> str:
        return "login:pair:" + _digest(f"{email}\0{ip or ''}")

    @staticmethod
    def _address_key(ip: str) -> str:
        return "login:address:" + ip

    def delay(self, account_attempts: int) -> float:
        """Seconds an attempt waits when the account has seen ``account_attempts`` in the
        window (this one included): none up to the limit, then doubling to the cap."""
        over = account_attempts - self._account_failures
        if over <= 0:
            return 0.0
        return min(self._max_delay, self._first_delay * 2.0 ** min(over - 1, 32))

    async def attempt(self, *, email: str, ip: str | None) -> None:
        """Count an attempt; raise ``RateLimited`` if this account from this address, or the
        address, is past its limit of failures, else wait as long as the account's count
        asks. A refused attempt counts too, without extending the window."""
        limits = [(self._pair_key(email, ip), self._account_failures)]
        if ip:
            limits.append((self._address_key(ip), self._address_failures))
        waits = []
        for key, limit in limits:
            window = await self._store.hit(key, window_seconds=self._window_seconds)
            if window.count > limit:
                waits.append(window.resets_in_seconds)
        if waits:
            raise RateLimited("too many failed logins; try again later", max(waits))
        account = await self._store.hit(
            self._account_key(email), window_seconds=self._window_seconds
        )
        delay = self.delay(account.count)
        if delay:
            await self._sleep(delay)

    async def succeeded(self, *, email: str, ip: str | None) -> None:
        await self._store.clear(self._account_key(email))
        await self._store.clear(self._pair_key(email, ip))
        if ip:
            await self._store.take_back(self._address_key(ip))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
