"""A real FTP server for the tests (pyftpdlib), on a free port of 127.0.0.1, in a thread.

``FtpServerThread`` serves one user's home directory in plain FTP or with explicit TLS
(AUTH TLS, PROT P required) under a certificate of a CA made here (``make_authority``). Its
handler can be given faults: answer ``HASH`` (draft-bryan-ftpext-hash, SHA-256) truthfully or
falsely, drop idle connections quickly, cut the next uploads midway.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import DTPHandler, FTPHandler, TLS_DTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer

USER = "talia"
PASSWORD = "s3cret-ftp-password"
READER = "reader"  # the same password; may list and read, not write


@attrs.define
class Faults:
    """What the server does wrong, changed by the tests while it runs."""

    hash: str | None = None  # "true" or "false": offer HASH and answer it so
    cuts: int = 0  # how many uploads to cut after their first bytes
    logins: int = 0  # how many logins the server accepted (counted, not a fault)
    refused_logins: int = 0  # how many it refused
    hashes: int = 0  # how many HASH commands it answered


@attrs.frozen
class Authority:
    """A CA and a server certificate it signed, for 127.0.0.1 and localhost, as PEM files."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_authority(folder: Path, name: str = "Talia test CA") -> Authority:
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    authority = Authority(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    authority.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    authority.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    authority.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return authority


def _handler(base: type[FTPHandler], dtp: type[DTPHandler], faults: Faults) -> type[FTPHandler]:
    class CuttingDTPHandler(dtp):  # type: ignore[valid-type,misc]
        def handle_read(self) -> None:
            super().handle_read()
            if faults.cuts and self.tot_bytes_received >= 1024:
                faults.cuts -= 1
                self.cmd_channel.close()

        handle_read_event = handle_read

    class Handler(base):  # type: ignore[valid-type,misc]
        dtp_handler = CuttingDTPHandler
        proto_cmds = {
            **base.proto_cmds,
            "HASH": {"perm": "r", "auth": True, "arg": True, "help": "Syntax: HASH <SP> file"},
        }

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if faults.hash is not None:
                self._extra_feats.append("HASH SHA-256*;SHA-1")

        def on_login(self, username: str) -> None:
            faults.logins += 1

        def on_login_failed(self, username: str, password: str) -> None:
            faults.refused_logins += 1

        def ftp_OPTS(self, line: str) -> None:
            if faults.hash is not None and line.upper() == "HASH SHA-256":
                self.respond("200 SHA-256")
            else:
                super().ftp_OPTS(line)

        def ftp_HASH(self, path: str) -> None:
            if faults.hash is None:
                self.respond("500 Command HASH not understood.")
                return
            faults.hashes += 1
            content = Path(path).read_bytes()
            digest = hashlib.sha256(content if faults.hash == "true" else b"lie").hexdigest()
            last = max(len(content) - 1, 0)
            self.respond(f"213 SHA-256 0-{last} {digest} {self.fs.fs2ftp(path)}")

    return Handler


class FtpServerThread:
    """The server, serving ``home`` to ``USER``; ``authority`` given: explicit TLS required."""

    def __init__(
        self, home: Path, authority: Authority | None = None, *, idle_seconds: float = 300
    ) -> None:
        self.home = home
        self.faults = Faults()
        authorizer = DummyAuthorizer()
        authorizer.add_user(USER, PASSWORD, str(home), perm="elradfmwMT")
        authorizer.add_user(READER, PASSWORD, str(home), perm="elr")
        if authority is None:
            handler = _handler(FTPHandler, DTPHandler, self.faults)
        else:
            handler = _handler(TLS_FTPHandler, TLS_DTPHandler, self.faults)
            handler.certfile = str(authority.cert_file)
            handler.keyfile = str(authority.key_file)
            handler.tls_control_required = True
            handler.tls_data_required = True
        handler.authorizer = authorizer
        handler.timeout = idle_seconds
        handler.auth_failed_timeout = 0
        handler.banner = "Talia test FTP server ready."
        self._server = FTPServer(("127.0.0.1", 0), handler)
        self.port: int = self._server.socket.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        # The server's loop is not thread-safe: it is run, and closed, in this thread only.
        while not self._stopping.is_set():
            self._server.ioloop.loop(timeout=0.01, blocking=False)
        self._server.close_all()


@contextmanager
def ftp_server(
    home: Path, authority: Authority | None = None, *, idle_seconds: float = 300
) -> Iterator[FtpServerThread]:
    home.mkdir(parents=True, exist_ok=True)
    server = FtpServerThread(home, authority, idle_seconds=idle_seconds)
    server.start()
    try:
        yield server
    finally:
        server.stop()
