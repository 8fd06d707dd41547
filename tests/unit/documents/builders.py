"""Small real documents made in the tests: PDFs written object by object (Helvetica text on
each page), Word files through python-docx, and zip archives."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence

import attrs
import docx
from docx.document import Document
from pypdf import PdfReader, PdfWriter

Line = str | Sequence[str]
"""A line of a PDF page: text, or a table row whose cells sit in columns."""

_TOP = 740
_LEADING = 16
_LEFT = 72
_COLUMN = 160


def pdf(*pages: Sequence[Line], title: str | None = None) -> bytes:
    """A valid PDF with each page's lines written top down in Helvetica (WinAnsi, so
    Spanish letters come through); a page with no lines has no text at all."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, once the pages have numbers
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    kids = []
    for lines in pages:
        stream = _content(lines)
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (len(objects))
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    info = None
    if title is not None:
        objects.append(b"<< /Title (%s) >>" % _pdf_string(title))
        info = len(objects)
    return _assemble(objects, info)


def _content(lines: Sequence[Line]) -> bytes:
    commands = [b"BT /F1 11 Tf"]
    for index, line in enumerate(lines):
        y = _TOP - index * _LEADING
        cells = [line] if isinstance(line, str) else list(line)
        for column, cell in enumerate(cells):
            x = _LEFT + column * _COLUMN
            commands.append(b"1 0 0 1 %d %d Tm (%s) Tj" % (x, y, _pdf_string(cell)))
    commands.append(b"ET")
    return b"\n".join(commands)


def _pdf_string(text: str) -> bytes:
    escaped = bytearray()
    for byte in text.encode("cp1252"):
        if byte in b"()\\" or byte < 32 or byte > 126:
            escaped += b"\\%03o" % byte
        else:
            escaped.append(byte)
    return bytes(escaped)


def _assemble(objects: Sequence[bytes], info: int | None) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    trailer = b"/Size %d /Root 1 0 R" % (len(objects) + 1)
    if info is not None:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref)
    return bytes(out)


def encrypted(content: bytes, *, user_password: str, algorithm: str = "AES-256") -> bytes:
    """The PDF encrypted: opening it takes ``user_password`` (none when empty)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(content)))
    writer.encrypt(user_password=user_password, owner_password="propietario", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def word(build: Callable[[Document], object]) -> bytes:
    """A Word document made by python-docx: ``build`` adds its content."""
    document = docx.Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def with_part(archive: bytes, name: str, content: bytes) -> bytes:
    """The zip with the part ``name`` holding ``content`` instead."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(archive)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info))
        target.writestr(name, content)
    return out.getvalue()


def zip_bomb(unpacked_megabytes: int) -> bytes:
    """A Word document whose ``word/document.xml`` is mostly spaces: a few hundred KB that
    unpack to ``unpacked_megabytes`` MB. Written as a bomb maker would: one megabyte of
    spaces deflated once and its bytes repeated (a full flush makes each copy stand alone),
    so the test does not spend seconds compressing."""
    head, tail = b'<?xml version="1.0"?><w:document xmlns:w="urn:w"><w:body>', b"</w:body>"
    megabyte = b" " * (1024 * 1024)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    opening = deflater.compress(head) + deflater.flush(zlib.Z_FULL_FLUSH)
    repeated = deflater.compress(megabyte) + deflater.flush(zlib.Z_FULL_FLUSH)
    closing = deflater.compress(tail) + deflater.flush()
    crc = zlib.crc32(head)
    for _ in range(unpacked_megabytes):
        crc = zlib.crc32(megabyte, crc)
    body = _Part(
        name=b"word/document.xml",
        data=opening + repeated * unpacked_megabytes + closing,
        crc=zlib.crc32(tail, crc),
        size=len(head) + len(megabyte) * unpacked_megabytes + len(tail),
        method=zipfile.ZIP_DEFLATED,
    )
    types = _Part(b"[Content_Types].xml", CONTENT_TYPES, zlib.crc32(CONTENT_TYPES))
    return _zip([types, body])


@attrs.frozen
class _Part:
    name: bytes
    data: bytes
    crc: int
    size: int = -1
    method: int = zipfile.ZIP_STORED


def _zip(parts: Sequence[_Part]) -> bytes:
    out, directory = bytearray(), bytearray()
    for part in parts:
        size = len(part.data) if part.size < 0 else part.size
        fields = (part.method, 0, 0, part.crc, len(part.data), size, len(part.name))
        directory += struct.pack("<IHHHH", 0x02014B50, 20, 20, 0, fields[0])
        directory += struct.pack("<HHIIIHHHHHII", *fields[1:], 0, 0, 0, 0, 0, len(out))
        directory += part.name
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, *fields, 0) + part.name
        out += part.data
    start = len(out)
    out += directory
    count = len(parts)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), start, 0)
    return bytes(out)


CONTENT_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Override PartName="/word/document.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
