"""The e-mail sender the settings choose, and the account mail that uses it; aiosmtplib is
imported only when the settings choose SMTP."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adapters.email.files import FileEmailSender
from adapters.resilience import BreakerBoard, resilient
from entrypoints.settings import Settings
from entrypoints.settings.email import EmailBackend, EmailTls
from entrypoints.wiring.policies import runner
from talia_core.identity.account_mail import AccountLinks, AccountMail
from talia_core.identity.ports import IdentityUnitOfWork
from talia_core.shared.clock import Clock
from talia_core.shared.email import EmailSender
from talia_core.shared.ports import UnitOfWorkFactory


def email_sender(settings: Settings, board: BreakerBoard, clock: Clock) -> EmailSender:
    """SMTP behind its runner (breaker, timeout, bulkhead, retries), or the directory."""
    mail = settings.email
    if mail.backend is EmailBackend.FILE:
        return FileEmailSender(Path(mail.directory), sender=mail.from_address, clock=clock)
    from adapters.email.smtp import SmtpEmailSender, SmtpServer, SmtpTls
    from adapters.files.ftp_connections import tls_context

    server = SmtpServer(
        host=mail.host,
        port=mail.port,
        tls=SmtpTls(mail.tls.value),
        username=mail.username,
        password=mail.password.get_secret_value(),
        tls_context=None if mail.tls is EmailTls.NONE else tls_context(mail.ca_file),
        timeout_seconds=mail.timeout_seconds,
    )
    sender = SmtpEmailSender(server, sender=mail.from_address, clock=clock)
    return resilient(sender, runner("smtp", board, settings))


def account_mail(
    settings: Settings,
    uow: UnitOfWorkFactory[IdentityUnitOfWork],
    clock: Clock,
    sender: EmailSender,
) -> AccountMail:
    mail = settings.email
    return AccountMail(
        uow,
        clock,
        sender,
        AccountLinks(verify_email=mail.verify_url, reset_password=mail.reset_url),
        verification_lifetime=timedelta(hours=mail.verification_hours),
        reset_lifetime=timedelta(minutes=mail.reset_minutes),
    )
