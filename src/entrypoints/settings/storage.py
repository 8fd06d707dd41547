"""The settings of the file store (``TALIA_STORAGE__*``): a local directory or an FTP server."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, model_validator


class StorageProvider(StrEnum):
    LOCAL = "local"
    FTP = "ftp"


class StorageSettings(BaseModel):
    provider: StorageProvider = Field(
        StorageProvider.LOCAL,
        description="Where files are kept; local: a directory on disk; ftp: an FTP server "
        "(FTPS with TALIA_STORAGE__FTP_TLS).",
    )
    local_dir: str = Field("./media", description="Where received media files are kept.")
    ftp_host: str = Field("", pattern=r"^[A-Za-z0-9.:-]*$", description="The FTP server's host.")
    ftp_port: Annotated[int, Field(ge=1, le=65535)] = 21
    ftp_user: str = Field("", pattern=r"^[^\r\n]*$")
    ftp_password: SecretStr = SecretStr("")
    ftp_root: str = Field(
        "/",
        pattern=r"^/([A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*)?/?$",
        description="The absolute folder on the server the files are kept under.",
    )
    ftp_tls: bool = Field(
        False, description="Explicit TLS (AUTH TLS, PROT P): commands and files encrypted."
    )
    ftp_ca_file: str = Field(
        "",
        description="A PEM file of the CAs the server's certificate is checked against; "
        "empty: the system's.",
    )
    ftp_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = Field(
        10.0, description="How long a connection, a login or one command may take."
    )

    @model_validator(mode="after")
    def _ftp_complete(self) -> StorageSettings:
        if self.provider is StorageProvider.FTP:
            missing = [
                f"TALIA_STORAGE__{name.upper()}"
                for name, value in (
                    ("ftp_host", self.ftp_host),
                    ("ftp_user", self.ftp_user),
                    ("ftp_password", self.ftp_password.get_secret_value()),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"the ftp provider needs {', '.join(missing)}")
        if self.ftp_ca_file and not self.ftp_tls:
            raise ValueError("TALIA_STORAGE__FTP_CA_FILE is set but TALIA_STORAGE__FTP_TLS is not")
        if self.ftp_ca_file and not Path(self.ftp_ca_file).is_file():
            raise ValueError(f"TALIA_STORAGE__FTP_CA_FILE: there is no file {self.ftp_ca_file}")
        return self
