"""How the API reads a JSON body: it must say it is JSON, and be nested no deeper than the
decoder can follow."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException, HTTPException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE


class JsonBodyRequest(Request[Any, Any, Any]):
    """A request whose JSON body is refused as a client error, never a 500:

    - **415** when the body is not declared ``application/json`` (or a ``+json`` type):
      a ``text/plain`` body is what a cross-site form can send without a preflight;
    - **400** when it is nested so deeply the decoder would overflow its stack
      (``[[[[…]]]]`` a thousand levels down).
    """

    async def json(self) -> Any:
        if await self.body() and not declares_json(self.headers.get("content-type")):
            raise HTTPException(
                status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                detail="the body must be sent as application/json",
            )
        try:
            return await super().json()
        except RecursionError:
            raise ClientException("the JSON body is nested too deeply") from None


def declares_json(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )
