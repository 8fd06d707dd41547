"""An invitation's media: the owner's (or an admin's) uploads, order and deletions, and the
files guests get.

An upload is a multipart form (``file``, optional ``role``); the kind is read from the bytes,
never from the file's name or declared type. An image answers ``processing`` at once (202)
and a job makes its renditions; audio is ready at once (201). Guests get each file at
``/media/<file_name>``: the name is unique to the bytes, so it is cached for good, and it is
served only while its invitation is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.datastructures import ResponseHeader, UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.params import Body, JSONBody, PathParameter
from pydantic import Field, model_validator

from entrypoints.http.auth import customer_or_admin, public
from entrypoints.http.errors import problems
from entrypoints.http.etags import IfNoneMatch, etag_matches
from entrypoints.http.invitations import caller_of
from entrypoints.http.schemas import PRINTABLE, Id, JsonInt, Out, Schema
from talia_core.catalog.model import ALLOWANCE_RANGES
from talia_core.identity.model import Principal
from talia_core.invitations.media import Gallery, MediaItem, MediaRole, MediaStatus
from talia_core.invitations.media_service import InvitationMediaService
from talia_core.shared.media import MediaKind

MEDIA_PATH = "/media"
MAX_UPLOAD_BYTES = ALLOWANCE_RANGES["media_bytes"][1] + 1_048_576
"""The largest file a plan may allow, with room for the form around it; the plan's own
limit is checked on the bytes (413)."""
CACHE_FOREVER = "public, max-age=31536000, immutable"

MediaId = Annotated[
    str, PathParameter(max_length=36, pattern=PRINTABLE, description="The media item's id.")
]
FileName = Annotated[
    str,
    PathParameter(
        max_length=64,
        pattern=r"^[0-9a-f]{16}(\.[0-9]{1,5})?\.[a-z0-9]{2,4}$",
        description="A file's name: the hash of its bytes, its width, its extension.",
    ),
]
FILE_HEADERS = [
    ResponseHeader(
        name="ETag", documentation_only=True, description="The file's name: send it back."
    ),
    ResponseHeader(name="Cache-Control", documentation_only=True, description=CACHE_FOREVER),
]


def media_url(file_name: str) -> str:
    """Where guests get a file (for pages and Open Graph tags, made absolute by the caller)."""
    return f"{MEDIA_PATH}/{file_name}"


@dataclass
class MediaForm:
    file: UploadFile
    role: MediaRole | None = None


class MediaPatch(Schema):
    position: JsonInt | None = Field(None, ge=0, le=1_000, description="Its new place, from 0.")
    role: MediaRole | None = Field(
        None, description="photo or cover for an image (a new cover makes the old one a photo)."
    )

    @model_validator(mode="after")
    def _something(self) -> MediaPatch:
        if self.position is None and self.role is None:
            raise ValueError("send a position, a role or both")
        return self


class RenditionOut(Out):
    name: str = Field(description="display, thumb or audio.")
    format: str
    mime_type: str
    width: int | None
    height: int | None
    size: int = Field(description="Bytes.")
    file_name: str
    url: str = Field(description="Where guests get it while the invitation is published.")


class MediaOut(Out):
    id: str
    invitation_id: str
    kind: MediaKind = Field(description="Read from the bytes.")
    role: MediaRole
    mime_type: str
    size: int = Field(description="Bytes uploaded.")
    position: int
    status: MediaStatus
    reason: str | None = Field(description="Why it failed, when it did.")
    width: int | None = Field(description="Upright, as uploaded.")
    height: int | None
    renditions: list[RenditionOut]
    created_at: datetime
    updated_at: datetime


class GalleryOut(Out):
    """What a public page shows: the cover, the photos in order, the audio track."""

    cover: MediaOut | None
    photos: list[MediaOut]
    audio: MediaOut | None


def media_out(item: MediaItem) -> MediaOut:
    return MediaOut(
        id=item.id,
        invitation_id=item.invitation_id,
        kind=item.kind,
        role=item.role,
        mime_type=item.mime_type,
        size=item.size,
        position=item.position,
        status=item.status,
        reason=item.reason,
        width=item.width,
        height=item.height,
        renditions=[
            RenditionOut(
                name=r.name,
                format=r.format,
                mime_type=r.mime_type,
                width=r.width,
                height=r.height,
                size=r.size,
                file_name=r.file_name,
                url=media_url(r.file_name),
            )
            for r in item.renditions
        ],
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def gallery_out(gallery: Gallery) -> GalleryOut:
    return GalleryOut(
        cover=media_out(gallery.cover) if gallery.cover else None,
        photos=[media_out(photo) for photo in gallery.photos],
        audio=media_out(gallery.audio) if gallery.audio else None,
    )


class InvitationMediaController(Controller):
    path = "/api/invitations/{invitation_id:str}/media"
    tags = ["invitations"]
    guards = [customer_or_admin]

    @post(
        "/",
        request_max_body_size=MAX_UPLOAD_BYTES,
        responses=problems(400, 401, 403, 404, 409, 413, 422),
    )
    async def upload_media(
        self,
        invitation_id: Id,
        data: Annotated[MediaForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        invitation_media: NamedDependency[InvitationMediaService],
        principal: NamedDependency[Principal],
    ) -> Response[MediaOut]:
        """A photo, the cover or the audio track, last in order: an image is processed in
        the background (202, ``processing``), audio is ready at once (201). 413 over the
        plan's size per file; 422 for a file that is no JPEG, PNG, GIF, WebP, MP3, M4A,
        Ogg or WAV, or past the plan's number of files; 409 for a second audio track.
        Nothing is kept of a refused file."""
        try:
            content = await data.file.read()
        finally:
            await data.file.close()
        item = await invitation_media.upload(
            caller_of(principal), invitation_id, content, role=data.role
        )
        status = 202 if item.status is MediaStatus.PROCESSING else 201
        return Response(media_out(item), status_code=status)

    @get("/", responses=problems(400, 401, 403, 404))
    async def list_media(
        self,
        invitation_id: Id,
        invitation_media: NamedDependency[InvitationMediaService],
        principal: NamedDependency[Principal],
    ) -> list[MediaOut]:
        """In their order, with their status and renditions."""
        items = await invitation_media.list(caller_of(principal), invitation_id)
        return [media_out(item) for item in items]

    @get("/{media_id:str}", responses=problems(400, 401, 403, 404))
    async def get_media(
        self,
        invitation_id: Id,
        media_id: MediaId,
        invitation_media: NamedDependency[InvitationMediaService],
        principal: NamedDependency[Principal],
    ) -> MediaOut:
        item = await invitation_media.get(caller_of(principal), invitation_id, media_id)
        return media_out(item)

    @patch("/{media_id:str}", responses=problems(400, 401, 403, 404, 422))
    async def revise_media(
        self,
        invitation_id: Id,
        media_id: MediaId,
        data: JSONBody[MediaPatch],
        invitation_media: NamedDependency[InvitationMediaService],
        principal: NamedDependency[Principal],
    ) -> MediaOut:
        """Move it among the others, or make an image the cover or a photo again."""
        item = await invitation_media.revise(
            caller_of(principal), invitation_id, media_id, position=data.position, role=data.role
        )
        return media_out(item)

    @delete("/{media_id:str}", responses=problems(400, 401, 403, 404))
    async def remove_media(
        self,
        invitation_id: Id,
        media_id: MediaId,
        invitation_media: NamedDependency[InvitationMediaService],
        principal: NamedDependency[Principal],
    ) -> None:
        """The item and its files; the others close up."""
        await invitation_media.delete(caller_of(principal), invitation_id, media_id)


@get(
    f"{MEDIA_PATH}/{{file_name:str}}",
    guards=[public],
    tags=["invitations"],
    response_headers=FILE_HEADERS,
    responses={
        200: ResponseSpec(
            data_container=bytes,
            media_type="*/*",
            description="The file, in its own type: image/webp, image/jpeg, audio/mpeg…",
            generate_examples=False,
        ),
        304: ResponseSpec(data_container=None, description="The client holds this file"),
        **problems(400, 404),
    },
)
async def public_media(
    file_name: FileName,
    invitation_media: NamedDependency[InvitationMediaService],
    if_none_match: IfNoneMatch = None,
) -> Response[bytes]:
    """A published invitation's file, cached for good (its name changes with its bytes);
    304 when the client's ETag is current. 404 for a name nobody holds, a file still being
    made, or one of an invitation that is not published (unpublished, expired, refunded)."""
    etag = f'"{file_name}"'
    held = if_none_match is not None and etag_matches(if_none_match, etag)
    found = await invitation_media.public_file(file_name, read=not held)
    headers = {"ETag": etag, "Cache-Control": CACHE_FOREVER, "X-Content-Type-Options": "nosniff"}
    if held:
        return Response(b"", status_code=304, headers=headers)
    return Response(found.content, media_type=found.mime_type, headers=headers)


CONTROLLERS: list[type[Controller] | HTTPRouteHandler] = [InvitationMediaController, public_media]
