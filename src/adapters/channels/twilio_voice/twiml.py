"""The TwiML documents of a call: connect its audio to our stream, dial a person."""

from __future__ import annotations

from collections.abc import Mapping
from xml.sax.saxutils import escape, quoteattr

STREAM_PATH = "/api/voice/stream"


def stream_url(public_base_url: str) -> str:
    """The stream's ``wss://`` address under the public base (``http`` becomes ``ws``)."""
    base = public_base_url.rstrip("/")
    scheme, _, rest = base.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}{STREAM_PATH}"


def connect_stream(url: str, parameters: Mapping[str, str]) -> str:
    """The call's audio both ways on our stream; ``parameters`` come back in its ``start``."""
    named = "".join(
        f"<Parameter name={quoteattr(name)} value={quoteattr(value)}/>"
        for name, value in parameters.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>'
        f"<Stream url={quoteattr(url)}>{named}</Stream></Connect></Response>"
    )


def dial(number: str) -> str:
    return f"<Response><Dial>{escape(number)}</Dial></Response>"
