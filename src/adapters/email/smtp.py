"""``SmtpEmailSender``: each message over its own SMTP connection with aiosmtplib.

TLS is one of: none (a relay on the same host), STARTTLS (port 587: the connection is
upgraded before anything else is said, and refused when the server does not offer it) or
implicit TLS (port 465). Certificates and host names are checked, against ``tls``'s CAs.
A 5xx answer refuses the message for good (``EmailRefused``); a 4xx answer, a timeout or a
connection that fails is ``ExternalServiceUnavailable``, for the job to try again.
"""

from __future__ import annotations

import enum
import ssl

import aiosmtplib
import attrs

from adapters.email.mime import mime_message
from talia_core.shared.clock import Clock
from talia_core.shared.email import EmailMessage, EmailRefused
from talia_core.shared.errors import ExternalServiceUnavailable

SERVICE = "smtp"


class SmtpTls(enum.StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    IMPLICIT = "implicit"


@attrs.frozen
class SmtpServer:
    host: str
    port: int
    tls: SmtpTls
    username: str = ""
    password: str = attrs.field(default="", repr=False)
    tls_context: ssl.SSLContext | None = None
    """The CAs certificates are checked against; None: the system's."""
    timeout_seconds: float = 10.0


class SmtpEmailSender:
    def __init__(self, server: SmtpServer, *, sender: str, clock: Clock) -> None:
        self._server = server
        self._sender = sender
        self._clock = clock

    async def send(self, message: EmailMessage) -> None:
        server = self._server
        mime = mime_message(message, sender=self._sender, at=self._clock.now())
        try:
            await aiosmtplib.send(
                mime,
                hostname=server.host,
                port=server.port,
                username=server.username or None,
                password=server.password or None,
                use_tls=server.tls is SmtpTls.IMPLICIT,
                start_tls=server.tls is SmtpTls.STARTTLS,
                tls_context=server.tls_context,
                timeout=server.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            raise _answered(refused.recipients[0]) from refused
        except aiosmtplib.SMTPResponseException as answer:
            raise _answered(answer) from answer
        except (aiosmtplib.SMTPException, OSError) as failure:  # timeouts, refused connections, TLS
            raise ExternalServiceUnavailable(SERVICE, _describe(failure)) from failure


def _answered(answer: aiosmtplib.SMTPResponseException) -> Exception:
    detail = f"{answer.code} {answer.message}".strip()[:300]
    if 500 <= answer.code < 600:
        return EmailRefused(SERVICE, detail)
    return ExternalServiceUnavailable(SERVICE, detail)


def _describe(failure: BaseException) -> str:
    return f"{type(failure).__name__}: {failure}"[:300] if str(failure) else type(failure).__name__
