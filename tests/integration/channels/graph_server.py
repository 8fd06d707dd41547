"""A local HTTP server speaking the WhatsApp Cloud API's Graph wire format.

A ``tests.fakeserver.LocalServer`` on 127.0.0.1. It checks the bearer token as the Graph API
does (a wrong one is error 190), records every request, and answers as Meta documents:

- ``POST /{version}/{phone-number-id}/messages`` -> ``{"messaging_product": "whatsapp",
  "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid..."}]}``;
- ``GET /{version}/{media-id}`` -> ``{"messaging_product", "url", "mime_type", "sha256",
  "file_size", "id"}`` for media given to ``serve_media``, error 100 (subcode 33) otherwise;
- ``GET {url}`` (here ``/whatsapp_business/attachments/?mid=...``) -> the media's bytes, again
  only with the bearer token;
- ``POST /{version}/{phone-number-id}/media`` (multipart: ``messaging_product``, ``type``,
  ``file``) -> ``{"id": "<media id>"}``, the upload kept in ``uploaded``.

``answer_next`` makes it answer the next request otherwise (a Graph error, a 503, silence).
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qs

import attrs

from tests.fakeserver import LocalServer, Recorded, Reply

ATTACHMENTS = "/whatsapp_business/attachments/"


def graph_error(
    code: int,
    message: str,
    *,
    details: str | None = None,
    kind: str = "OAuthException",
    subcode: int | None = None,
) -> dict[str, Any]:
    """An error body as the Graph API sends it."""
    error: dict[str, Any] = {
        "message": f"(#{code}) {message}",
        "type": kind,
        "code": code,
        "fbtrace_id": "AbCdEfGhIjKlMnOpQrStUv",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


@attrs.frozen
class Media:
    content: bytes
    mime_type: str
    sha256: str
    file_size: int


class FakeGraph(LocalServer):
    content_type = "application/json; charset=UTF-8"

    def __init__(self, *, token: str, phone_number_id: str, version: str) -> None:
        super().__init__()
        self._auth = f"Bearer {token}"
        self._messages = f"/{version}/{phone_number_id}/messages"
        self._uploads = f"/{version}/{phone_number_id}/media"
        self.uploaded: dict[str, Media] = {}
        self._version = version
        self.sent: list[dict[str, Any]] = []  # the messages it accepted
        self._media: dict[str, Media] = {}

    def serve_media(
        self,
        media_id: str,
        content: bytes,
        mime_type: str,
        *,
        sha256: str | None = None,
        file_size: int | None = None,
    ) -> None:
        """Hold a customer's attachment; its sha256 (hex) and size are the real ones unless
        given."""
        digest = sha256 if sha256 is not None else hashlib.sha256(content).hexdigest()
        size = file_size if file_size is not None else len(content)
        self._media[media_id] = Media(content, mime_type, digest, size)

    def answer(self, request: Recorded) -> Reply:
        """What the Graph API answers a request it was not told to answer otherwise."""
        if request.headers.get("authorization") != self._auth:
            error = graph_error(190, "Invalid OAuth access token - Cannot parse access token")
            return Reply(401, error)
        if request.method == "POST" and request.path == self._messages:
            return self._send(request.json())
        if request.method == "POST" and request.path == self._uploads:
            return self._upload(request)
        if request.method == "GET" and request.path == ATTACHMENTS:
            media = self._media.get(parse_qs(request.query).get("mid", [""])[0])
            if media is None:
                return Reply(404, b"")
            return Reply(200, media.content, {"Content-Type": media.mime_type})
        prefix = f"/{self._version}/"
        if request.method == "GET" and request.path.startswith(prefix):
            return self._describe(request.path.removeprefix(prefix))
        return Reply(400, graph_error(2500, "Unknown path components", kind="OAuthException"))

    def _send(self, payload: dict[str, Any]) -> Reply:
        address = payload.get("to") or payload.get("recipient")
        if payload.get("messaging_product") != "whatsapp" or not address:
            return Reply(400, graph_error(100, "Invalid parameter", kind="OAuthException"))
        contact = {"input": address, "wa_id" if "to" in payload else "user_id": address}
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [contact],
            "messages": [{"id": f"wamid.HBgLNTE5ODc2NTQzMjEVAgARGBI{len(self.sent) + 1:04d}"}],
        }
        self.sent.append(payload)
        return Reply(200, answer)

    def _upload(self, request: Recorded) -> Reply:
        parts = request.multipart()
        product, kind, file = (parts.get(n) for n in ("messaging_product", "type", "file"))
        if product is None or product.text != "whatsapp" or kind is None or file is None:
            return Reply(400, graph_error(100, "Invalid parameter", kind="OAuthException"))
        if file.content_type != kind.text:
            message = f"Param file must be a file with one of the following types: {kind.text}"
            return Reply(400, graph_error(100, message, kind="OAuthException"))
        media_id = f"{4490709327384033 + len(self.uploaded)}"
        digest = hashlib.sha256(file.content).hexdigest()
        self.uploaded[media_id] = Media(file.content, kind.text, digest, len(file.content))
        return Reply(200, {"id": media_id})

    def _describe(self, media_id: str) -> Reply:
        media = self._media.get(media_id)
        if media is None:
            message = (
                f"Unsupported get request. Object with ID '{media_id}' does not exist, cannot "
                "be loaded due to missing permissions, or does not support this operation."
            )
            return Reply(400, graph_error(100, message, kind="GraphMethodException", subcode=33))
        answer = {
            "messaging_product": "whatsapp",
            "url": f"{self.base_url}{ATTACHMENTS}?mid={media_id}&ext=1700000000&hash=ATu",
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": media.file_size,
            "id": media_id,
        }
        return Reply(200, answer)
