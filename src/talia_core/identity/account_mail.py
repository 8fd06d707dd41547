"""Mail with a link to a user's account: verifying the address, resetting the password,
and telling the owner that someone tried to register with their address.

Each is a job, committed with the change that asks for it, so a request answers at once and
a mail server that is down is tried again. The token is made when the job runs, so no job
row or log ever holds a usable one; a retried job mails a new token, and the earlier one
simply expires unused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from talia_core.identity.email_tokens import EmailToken, TokenPurpose
from talia_core.identity.model import User
from talia_core.identity.ports import IdentityUnitOfWork
from talia_core.shared.clock import Clock
from talia_core.shared.email import EmailMessage, EmailSender
from talia_core.shared.errors import NotFound
from talia_core.shared.jobs import Job, JobHandler, job_id_for
from talia_core.shared.ports import UnitOfWorkFactory

VERIFY_JOB = "identity.mail.verify_email"
RESET_JOB = "identity.mail.reset_password"
REPEATED_JOB = "identity.mail.registration_repeated"
RESET_REQUESTED_JOB = "identity.password_reset_requested"
TOKEN = "{token}"
"""Where the token goes in a link template."""


def _once_per(kind: str, user_id: str, at: datetime, period: str) -> Job:
    """The job of ``kind`` for the user in the ``period`` (a strftime format) that holds
    ``at``: asking again within it adds nothing, so nobody fills a mailbox through a form."""
    key = f"{kind}:{user_id}:{at.strftime(period)}"
    return Job.new(kind, {"user_id": user_id}, at=at, job_id=job_id_for(key))


def verification_mail(user_id: str, at: datetime) -> Job:
    """At most one a minute per account."""
    return _once_per(VERIFY_JOB, user_id, at, "%Y%m%d%H%M")


def reset_mail(user_id: str, at: datetime) -> Job:
    """At most one a minute per account."""
    return _once_per(RESET_JOB, user_id, at, "%Y%m%d%H%M")


def reset_request(address: str, at: datetime, *, ip: str | None, user_agent: str | None) -> Job:
    """Someone asked for a reset link for ``address``, which may or may not be an account's:
    at most one a minute per address."""
    key = f"{RESET_REQUESTED_JOB}:{address}:{at:%Y%m%d%H%M}"
    payload = {"email": address, "requested_at": at.isoformat(), "ip": ip, "user_agent": user_agent}
    return Job.new(RESET_REQUESTED_JOB, payload, at=at, job_id=job_id_for(key))


def repeated_registration_mail(user_id: str, at: datetime) -> Job:
    """At most one an hour per account."""
    return _once_per(REPEATED_JOB, user_id, at, "%Y%m%d%H")


@attrs.frozen
class AccountLinks:
    """Templates of the links mailed, each with ``{token}`` where the token goes (the page
    of a frontend that posts it back to the API)."""

    verify_email: str
    reset_password: str

    def __attrs_post_init__(self) -> None:
        for template in (self.verify_email, self.reset_password):
            if TOKEN not in template:
                raise ValueError(f"a link template needs {TOKEN}: {template!r}")


Compose = Callable[[User, str], EmailMessage]


class AccountMail:
    """Runs the mail jobs: makes the token, then hands the message to the sender."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[IdentityUnitOfWork],
        clock: Clock,
        sender: EmailSender,
        links: AccountLinks,
        *,
        verification_lifetime: timedelta = timedelta(hours=24),
        reset_lifetime: timedelta = timedelta(hours=1),
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._sender = sender
        self._links = links
        self._lifetimes = {
            TokenPurpose.VERIFY_EMAIL: verification_lifetime,
            TokenPurpose.RESET_PASSWORD: reset_lifetime,
        }

    def job_handlers(self) -> dict[str, JobHandler]:
        def handler(purpose: TokenPurpose, compose: Compose) -> JobHandler:
            async def run(payload: Mapping[str, Any]) -> None:
                await self._mail(str(payload["user_id"]), purpose, compose)

            return run

        return {
            VERIFY_JOB: handler(TokenPurpose.VERIFY_EMAIL, self._verification),
            RESET_JOB: handler(TokenPurpose.RESET_PASSWORD, self._reset),
            REPEATED_JOB: handler(TokenPurpose.RESET_PASSWORD, self._repeated_registration),
        }

    async def _mail(self, user_id: str, purpose: TokenPurpose, compose: Compose) -> None:
        """Nothing for an account that is gone or inactive, nor a verification for an
        address verified meanwhile."""
        now = self._clock.now()
        async with self._uow() as uow:
            try:
                user = await uow.users.get(user_id)
            except NotFound:
                return
            if not user.active or (purpose is TokenPurpose.VERIFY_EMAIL and user.email_verified):
                return
            token, secret = EmailToken.issue(
                user.id, purpose, at=now, lifetime=self._lifetimes[purpose]
            )
            await uow.email_tokens.add(token)
            await uow.commit()
        await self._sender.send(compose(user, secret))

    def _verification(self, user: User, secret: str) -> EmailMessage:
        return self._message(
            user,
            "Confirma tu correo",
            "Para confirmar que este correo es tuyo, abre este enlace:\n\n{link}\n\nEl enlace "
            "sirve una vez y vence en {lasts}. Si no creaste una cuenta, ignora este mensaje.",
            self._links.verify_email.replace(TOKEN, secret),
            self._lifetimes[TokenPurpose.VERIFY_EMAIL],
        )

    def _reset(self, user: User, secret: str) -> EmailMessage:
        return self._message(
            user,
            "Cambia tu contraseña",
            "Pediste cambiar tu contraseña. Elige una nueva en este enlace:\n\n{link}\n\nEl "
            "enlace sirve una vez y vence en {lasts}; al usarlo se cierran todas tus sesiones. "
            "Si no lo pediste, ignora este mensaje: tu contraseña sigue siendo la misma.",
            self._links.reset_password.replace(TOKEN, secret),
            self._lifetimes[TokenPurpose.RESET_PASSWORD],
        )

    def _repeated_registration(self, user: User, secret: str) -> EmailMessage:
        return self._message(
            user,
            "Ya tienes una cuenta",
            "Alguien intentó crear una cuenta con este correo, que ya tiene una. No cambiamos "
            "nada.\n\nSi fuiste tú y no recuerdas tu contraseña, elige una nueva en este enlace "
            "(vence en {lasts}):\n\n{link}\n\nSi no fuiste tú, ignora este mensaje.",
            self._links.reset_password.replace(TOKEN, secret),
            self._lifetimes[TokenPurpose.RESET_PASSWORD],
        )

    @staticmethod
    def _message(
        user: User, subject: str, body: str, link: str, lifetime: timedelta
    ) -> EmailMessage:
        text = body.format(link=link, lasts=_duration(lifetime))
        return EmailMessage(to=user.email, subject=subject, text=f"Hola, {user.name}:\n\n{text}\n")


def _duration(lifetime: timedelta) -> str:
    minutes = int(lifetime.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} minutos" if minutes != 1 else "1 minuto"
    hours = minutes // 60
    return f"{hours} horas" if hours != 1 else "1 hora"
