"""The settings of outgoing e-mail (``TALIA_EMAIL__*``) and of the links it carries."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

_ADDRESS = r"^[^@\s<>]{1,64}@[^@\s<>]+\.[^@\s<>]{2,}$"


class EmailTls(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    IMPLICIT = "implicit"


class EmailBackend(StrEnum):
    FILE = "file"
    SMTP = "smtp"


class EmailSettings(BaseModel):
    backend: EmailBackend = Field(
        EmailBackend.FILE,
        description="file: each message written as an .eml file into TALIA_EMAIL__DIRECTORY "
        "(nothing is sent); smtp: sent through TALIA_EMAIL__HOST.",
    )
    directory: str = Field("./mail", description="Where the file backend writes messages.")
    from_address: str = Field(
        "talia@example.com", pattern=_ADDRESS, description="The From of every message."
    )
    host: str = Field("", pattern=r"^[A-Za-z0-9.:-]*$", description="The SMTP server.")
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    tls: EmailTls = Field(
        EmailTls.STARTTLS,
        description="starttls (port 587), implicit (port 465) or none (a relay on this host).",
    )
    username: str = Field("", pattern=r"^[^\r\n]*$", description="Empty: no authentication.")
    password: SecretStr = SecretStr("")
    ca_file: str = Field(
        "", description="A PEM file of the CAs the server's certificate is checked against."
    )
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    verify_url: str = Field(
        "http://127.0.0.1:8000/verify-email?token={token}",
        description="The link mailed to verify an address; {token} is replaced.",
    )
    reset_url: str = Field(
        "http://127.0.0.1:8000/reset-password?token={token}",
        description="The link mailed to reset a password; {token} is replaced.",
    )
    verification_hours: Annotated[int, Field(ge=1, le=720)] = 24
    reset_minutes: Annotated[int, Field(ge=5, le=1440)] = 60

    @field_validator("verify_url", "reset_url")
    @classmethod
    def _link(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")) or "{token}" not in value:
            raise ValueError("must be an http(s) URL with {token} where the token goes")
        return value

    @model_validator(mode="after")
    def _smtp_complete(self) -> EmailSettings:
        if self.backend is EmailBackend.SMTP and not self.host:
            raise ValueError("the smtp backend needs TALIA_EMAIL__HOST")
        if self.password.get_secret_value() and not self.username:
            raise ValueError("TALIA_EMAIL__PASSWORD is set but TALIA_EMAIL__USERNAME is not")
        if self.ca_file and self.tls is EmailTls.NONE:
            raise ValueError("TALIA_EMAIL__CA_FILE is set but TALIA_EMAIL__TLS is none")
        if self.ca_file and not Path(self.ca_file).is_file():
            raise ValueError(f"TALIA_EMAIL__CA_FILE: there is no file {self.ca_file}")
        return self
